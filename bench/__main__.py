"""``python -m bench``: run the benchmarks, print a table, write ``bench/results.json``.

python -m bench              # the figures (about three minutes)
python -m bench --quick      # a fifth of the budgets: a smoke run, rough figures
python -m bench --profile    # also: breakdown by layer and a cProfile of the full path
python -m bench --spy        # also: py-spy samples of the server's workers under load
python -m bench --no-http    # only the in-process benchmarks (no HTTP server, no Chromium)
python -m bench --no-browser # everything but real Chromium
python -m bench --baseline REF       # compare with REF (default: 0f31aa7, the commit before
                                     # issue 18), built in a temporary git worktree; "none": skip
python -m bench --servers-only       # only the same-run HTTP comparison (servers, baseline,
                                     # SQLite and PostgreSQL)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from bench import passkey_signin, report, servers

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the time budgets")
    parser.add_argument(
        "--profile", action="store_true", help="break down and profile the full sign-in"
    )
    parser.add_argument(
        "--spy", action="store_true", help="also sample the server's workers with py-spy"
    )
    parser.add_argument(
        "--export", action="store_true", help="also time the personal-data export (bench.export)"
    )
    parser.add_argument(
        "--no-http", action="store_true", help="skip the HTTP server (HTTP, load, memory, Chromium)"
    )
    parser.add_argument("--no-browser", action="store_true", help="skip real Chromium")
    parser.add_argument(
        "--baseline",
        default=servers.DEFAULT_BASELINE,
        metavar="REF",
        help="the commit measured beside this tree in the same run ('none': skip)",
    )
    parser.add_argument(
        "--servers",
        default=",".join(servers.SERVERS),
        help=f"HTTP servers to compare on this tree (default: {','.join(servers.SERVERS)})",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the sweep on PostgreSQL")
    parser.add_argument(
        "--servers-only",
        action="store_true",
        help="only the same-run HTTP comparison of servers, baseline and databases",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="results file (JSON)")
    parser.add_argument(
        "--db-dir",
        type=Path,
        default=PROJECT_ROOT / "instance",
        help="where the throwaway SQLite files go; use a real disk, not tmpfs, so that "
        "synchronous=FULL pays for its fsync (default: instance/)",
    )
    args = parser.parse_args(argv)
    scale = 0.2 if args.quick else 1.0
    started = time.perf_counter()

    machine = report.machine(args.db_dir)
    print(
        f"Machine: {machine['cpus']} CPUs ({machine['cpu']}), Python {machine['python']}, "
        f"SQLite {machine['sqlite']}, database on {machine['database_filesystem']} "
        f"({args.db_dir})"
    )
    if warning := report.busy_warning(machine["cpus"]):
        print(warning)
    if args.servers_only:
        benchmarks = {"http_comparison": _comparison(args, scale)}
        report.write_results(args.output, machine, benchmarks)
        print(f"\nWrote {args.output} in {time.perf_counter() - started:.0f} s.")
        return 0
    print("\nPasskey sign-in: the whole app against bare verify_authentication_response")
    print("(serial, one client, in-process through the Flask test client)\n")
    suite = passkey_signin.run_suite(args.db_dir, scale=scale)
    print(report.table(passkey_signin.HEADERS, suite.rows()))
    print(f"\n{suite.verdict()}")
    if warning := report.busy_warning(machine["cpus"]):
        print(warning)
    benchmarks = {"passkey_sign_in": suite.as_json()}

    if args.profile:
        from bench import profiling

        benchmarks["passkey_sign_in_profile"] = profiling.run(suite, args.db_dir, scale=scale)

    benchmarks["verify_lock_hold"] = _lock_hold(args.db_dir, scale)
    benchmarks["passkey_vs_password"] = _password(args.db_dir, scale)
    benchmarks["refused_sign_ins"] = _refusals(args.db_dir, scale)
    if not args.no_http:
        benchmarks.update(
            _http(args.db_dir, scale, suite, browser=not args.no_browser, spy=args.spy)
        )

    if not args.no_http:
        benchmarks["http_comparison"] = _comparison(args, scale)

    if args.export:
        from bench import export

        print("\nPersonal-data export through the app:\n")
        benchmarks["export"] = export.run(args.db_dir, scale=scale)
        print(export.table(benchmarks["export"]))
        print(export.verdict(benchmarks["export"]))

    report.write_results(args.output, machine, benchmarks)
    print(f"\nWrote {args.output} in {time.perf_counter() - started:.0f} s.")
    return 0


def _comparison(args: argparse.Namespace, scale: float) -> dict[str, Any]:
    """Servers and the baseline, same run, interleaved (issue 18 items 3 and 5)."""
    from contextlib import ExitStack

    from bench import compare

    kinds = [k for k in args.servers.split(",") if k]
    out: dict[str, Any] = {}
    with ExitStack() as stack:
        here = servers.this_tree()
        baseline_tree = None
        if args.baseline.lower() != "none":
            baseline_tree = stack.enter_context(servers.baseline_tree(args.baseline))
        sweeps = [("sqlite", kinds)]
        if not args.no_postgres:
            sweeps.append(("postgresql", [servers.SHIPPED]))
        for database, sweep_kinds in sweeps:
            targets = [compare.Target(here, kind, database) for kind in sweep_kinds]
            if baseline_tree is not None:
                targets.insert(0, compare.Target(baseline_tree, "gunicorn-gthread", database))
            print(
                f"\nSame-run comparison on {database}: "
                + "; ".join(t.name for t in targets)
                + "\n(open loop, each target loaded in turn at each rate; 2 workers each)\n"
            )
            results = compare.compare(targets, args.db_dir, scale=scale)
            baseline = results[0] if baseline_tree is not None else None
            print(report.table(compare.RATE_HEADERS, compare.rate_rows(results)))
            print()
            print(report.table(compare.SUMMARY_HEADERS, compare.summary_rows(results, baseline)))
            sweep: dict[str, Any] = {"targets": [r.as_json() for r in results]}
            if baseline is not None:
                shipped = next((r for r in results[1:] if r.target.server == servers.SHIPPED), None)
                if shipped is not None:
                    sweep["targets_met"] = verdict = compare.verdicts(shipped, baseline)
                    print(f"\n{shipped.target.name} against {baseline.target.name}: {verdict}")
            out[database] = sweep
    return out


def _lock_hold(db_dir: Path, scale: float) -> dict[str, Any]:
    from bench import lock_hold

    print("\nWrite-lock hold of the sign-in verify: first write statement to the commit's")
    print("return (serial, in-process, SQLite synchronous=FULL; the options request writes")
    print("nothing, decision 0019)\n")
    result = lock_hold.run(db_dir, scale=scale)
    print(report.table(lock_hold.HEADERS, lock_hold.rows(result)))
    return result


def _password(db_dir: Path, scale: float) -> dict[str, Any]:
    from bench import password_signin

    print("\nPasskey against password + one-time code sign-in (same run, interleaved,")
    print("in-process, synchronous=FULL; argon2id m=19 MiB t=2)\n")
    comparison = password_signin.run(db_dir, scale=scale)
    print(report.table(password_signin.HEADERS, comparison.rows()))
    print(f"\n{comparison.verdict()}")
    return comparison.as_json()


def _refusals(db_dir: Path, scale: float) -> dict[str, Any]:
    from bench import refusals

    print("\nRefused sign-ins by kind of username, median ms (same run, interleaved,")
    print("in-process, synchronous=FULL): one path, so only noise should separate them\n")
    measured = refusals.run(db_dir, scale=scale)
    print(report.table(refusals.HEADERS, refusals.rows(measured)))
    return refusals.as_json(measured)


def _http(
    db_dir: Path, scale: float, suite: passkey_signin.SuiteResult, *, browser: bool, spy: bool
) -> dict[str, Any]:
    from bench import chromium, http_load

    out: dict[str, Any] = {}
    print(f"\nPasskey sign-in over HTTP: the shipped server ({servers.SHIPPED}, 2 workers x 2")
    print("threads), SQLite file with synchronous=FULL, http.client keep-alive clients on this")
    print("machine\n")
    with http_load.shipped(db_dir) as server:
        result = http_load.run(server, scale=scale)
        bare = suite.bare["ES256"].total.median_ms
        in_process = suite.full[passkey_signin.HEADLINE].total.median_ms
        s = result.serial
        rows: list[list[object]] = [
            ["bare verify ES256", None, bare, None, 1.0],
            ["in-process full sign-in", None, in_process, None, in_process / bare],
            [
                "HTTP full sign-in",
                s.total.count,
                s.total.median_ms,
                s.total.p95_ms,
                s.total.median_ms / bare,
            ],
            [
                "  HTTP options request",
                s.options.count,
                s.options.median_ms,
                s.options.p95_ms,
                None,
            ],
            ["  HTTP verify request", s.verify.count, s.verify.median_ms, s.verify.p95_ms, None],
        ]
        print(report.table(("serial, one client", "runs", "median ms", "p95 ms", "x bare"), rows))
        print(
            f"\nHTTP adds {s.total.median_ms - in_process:+.1f} ms to the in-process median "
            f"({s.total.median_ms / in_process:.2f}x); HTTP full/bare = "
            f"{s.total.median_ms / bare:.1f}x."
        )
        in_process_cpu = suite.full[passkey_signin.HEADLINE].cpu.median_ms
        server_cpu = [r.server_cpu_ms_per_sign_in for r in result.rates]
        measured = [c for c in server_cpu if c is not None]
        if measured:
            print(
                f"Server CPU per sign-in under load ({servers.SHIPPED} workers, /proc): "
                f"{min(measured):.1f}-{max(measured):.1f} ms, against {in_process_cpu:.1f} ms "
                "in-process (CPU does not depend on how busy the machine is; wall time does)."
            )
        print("\nOpen-loop load (latency from the scheduled arrival; client in this process):\n")
        print(report.table(http_load.RATE_HEADERS, result.rate_rows()))
        capacity = result.capacity
        met = capacity is not None and capacity >= http_load.TARGET_CAPACITY
        found = f"{capacity}/s" if capacity else f"below {min(http_load.RATES)}/s"
        print(
            f"\nCapacity (p95 < {http_load.CAPACITY_P95_MS:g} ms, no errors): "
            f"{found}; target {http_load.TARGET_CAPACITY}/s: "
            f"{'met' if met else 'MISSED'}."
        )
        rss = ", ".join(f"{mb:.1f} MB" for mb in result.rss_mb.values() if mb is not None)
        worst = max((mb for mb in result.rss_mb.values() if mb is not None), default=0.0)
        start = ", ".join(f"{mb:.1f} MB" for mb in result.rss_at_start_mb.values() if mb)
        rss_met = "met" if worst < http_load.TARGET_RSS_MB else "MISSED"
        print(
            f"Worker resident memory after the load: {rss}; target < "
            f"{http_load.TARGET_RSS_MB:g} MB: {rss_met} (after start-up: {start})."
        )
        out["passkey_sign_in_http"] = {
            **result.as_json(),
            "bare_verify_median_ms": round(bare, 4),
            "in_process_median_ms": round(in_process, 4),
            "http_ratio_to_bare_median": round(s.total.median_ms / bare, 2),
            "http_adds_ms_median": round(s.total.median_ms - in_process, 3),
        }
        if spy:
            from bench import spy as py_spy

            print("\nWhere the workers spend their time under load (py-spy):\n")
            out["http_workers_profile"] = py_spy.run(server, seconds=py_spy.SPY_SECONDS * scale)
            py_spy.print_summary(out["http_workers_profile"])
        if browser:
            print("\nReal Chromium: click 'Sign in with a passkey' until the account page\n")
            chrome = chromium.run(server, runs=max(5, int(chromium.RUNS * min(1.0, scale * 2))))
            if "skipped" in chrome:
                print(f"Skipped: {chrome['skipped']}")
            else:
                verdict = "met" if chrome["meets_target"] else "MISSED"
                print(
                    f"median {chrome['median_ms']:.0f} ms over {chrome['runs']} runs (p95 "
                    f"{chrome['p95_ms']:.0f} ms); target <= {chromium.TARGET_MS:g} ms: {verdict}."
                    f"\nSince the click, median ms when finished: "
                    f"{chrome['median_ms_since_click_when_finished']}"
                )
            out["chromium_click_to_signed_in"] = chrome
    return out


if __name__ == "__main__":
    sys.exit(main())
