"""Benchmarks for ``make bench`` (run as ``python -m bench``); never part of the test suite.

Timing belongs here, not in tests: figures depend on the machine, so the suite prints them,
writes ``bench/results.json`` and compares *ratios* (full app against the bare library
call) with the targets in the issues, rather than asserting absolute speeds.

Modules:

* ``timing``: loops bounded in count and in time, and their summaries (median, p95).
* ``passkey_signin``: passkey sign-in through the app against bare
  ``webauthn.verify_authentication_response`` (issue 3, item 11).
* ``password_signin``: passkey against password + one-time code, interleaved, with the
  throughput ratio (issue 5, item 11; issue 10, item 7b).
* ``http_load``: the shipped server on a SQLite file, keep-alive HTTP clients: serial
  sign-in, open-loop arrival rates, worker memory (issue 10, items 7a, 7c, 7e).
* ``chromium``: real Chromium, click to signed in (issue 10, item 7f).
* ``profiling``: where the full sign-in's time goes (``python -m bench --profile``).
* ``report``: machine description, tables, ``results.json``.
"""
