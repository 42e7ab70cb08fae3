"""``python -m bench``: run the benchmarks, print a table, write ``bench/results.json``.

python -m bench              # the figures (about a minute)
python -m bench --quick      # a fifth of the budgets: a smoke run, rough figures
python -m bench --profile    # also: breakdown by layer and a cProfile of the full path
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench import passkey_signin, report

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the time budgets")
    parser.add_argument(
        "--profile", action="store_true", help="break down and profile the full sign-in"
    )
    parser.add_argument(
        "--export", action="store_true", help="also time the personal-data export (bench.export)"
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
        f"({machine['database_dir']})"
    )
    if warning := report.busy_warning(machine["cpus"]):
        print(warning)
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

    if args.export:
        from bench import export

        print("\nPersonal-data export through the app:\n")
        benchmarks["export"] = export.run(args.db_dir, scale=scale)
        print(export.table(benchmarks["export"]))
        print(export.verdict(benchmarks["export"]))

    report.write_results(args.output, machine, benchmarks)
    print(f"\nWrote {args.output} in {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
