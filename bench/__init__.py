"""Benchmarks for ``make bench`` (run as ``python -m bench``); never part of the test suite.

Timing belongs here, not in tests: figures depend on the machine, so the suite prints them,
writes ``bench/results.json`` and compares *ratios* (full app against the bare library
call) with the targets in the issues, rather than asserting absolute speeds.

Modules:

* ``timing``: loops bounded in count and in time, and their summaries (median, p95).
* ``passkey_signin``: passkey sign-in through the app against bare
  ``webauthn.verify_authentication_response`` (issue 3, item 11).
* ``profiling``: where the full sign-in's time goes (``python -m bench --profile``).
* ``report``: machine description, tables, ``results.json``.
"""
