# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the fault matrix: fault, runs, converged, data lost.

    python3 tests/faults/matrix.py            the long version (20 SIGKILL loops on 500-2,000 mailboxes, ...)
    python3 tests/faults/matrix.py --fast     the CI subset with its fast run counts (what pytest runs)
    python3 tests/faults/matrix.py --only sigkill --runs 5 -v

Runs against an emulator in this process; uses the repository's .venv (created by
`python3 noxfile.py -s dev`). Exit code 0 when every row converged in every run and lost nothing.
"""

import argparse
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VENV_PYTHON = os.path.join(REPO, ".venv", "bin", "python")


def reexec_in_venv():
    """The emulator needs cryptography and PyJWT, the runs need ansible: use the venv when this Python lacks them."""
    try:
        import ansible  # noqa: F401 pylint: disable=unused-import,import-outside-toplevel
        import cryptography  # noqa: F401 pylint: disable=unused-import,import-outside-toplevel
        import jwt  # noqa: F401 pylint: disable=unused-import,import-outside-toplevel
    except ImportError:
        if os.path.exists(VENV_PYTHON) and os.path.realpath(sys.prefix) != os.path.realpath(os.path.dirname(
                os.path.dirname(VENV_PYTHON))):
            os.execv(VENV_PYTHON, [VENV_PYTHON] + sys.argv)
        raise SystemExit("The Python packages ansible-core, cryptography and PyJWT are needed; run "
                         "`python3 noxfile.py -s dev` once to create .venv/")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="only the CI rows, with their fast run counts")
    parser.add_argument("--only", action="append", default=[], help="rows whose key or fault contains this (repeatable)")
    parser.add_argument("--level", choices=("module", "role"), help="only rows of this level")
    parser.add_argument("--runs", type=int, help="runs per row instead of the row's own count")
    parser.add_argument("--mailboxes", type=int, help="mailboxes of the emulated tenant (default 2,600; --fast 1,200)")
    parser.add_argument("--json", dest="json_path", help="also write the rows and their findings to this file")
    parser.add_argument("--workdir", help="keep the emulator, the runs and the journals here (default: a temp dir)")
    parser.add_argument("--list", action="store_true", help="list the rows and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each run as it finishes")
    return parser.parse_args(argv)


def main(argv=None):
    reexec_in_venv()
    sys.path.insert(0, HERE)
    from faultlab import registry  # pylint: disable=import-outside-toplevel
    from faultlab.lab import FaultLab  # pylint: disable=import-outside-toplevel

    args = parse_args(argv)
    scenarios = [s for s in registry.load() if (s.ci or not args.fast) and (not args.level or s.level == args.level)
                 and (not args.only or any(word in s.key or word in s.fault for word in args.only))]
    if args.list:
        for row in scenarios:
            ci = "" if row.ci else "  (not in CI)"
            print("%-28s %-7s fast %2d  long %2d  %s%s" % (row.key, row.level, row.fast, row.long, row.fault, ci))
        return 0
    if not scenarios:
        print("no row matches")
        return 2
    workdir = args.workdir or tempfile.mkdtemp(prefix="m365-fault-matrix-")
    mailboxes = args.mailboxes or (1200 if args.fast else 2600)
    print("Fault matrix (%s): %d rows, emulator with %d mailboxes, work directory %s" % (
        "fast" if args.fast else "long", len(scenarios), mailboxes, workdir), flush=True)

    def progress(row, trial):
        state = "converged" if trial.converged else ("DATA LOST" if trial.data_lost else "not converged")
        notes = ("  (%s)" % "; ".join(trial.notes)) if args.verbose and trial.notes else ""
        print("  %-28s run %2d: %s%s" % (row.key, trial.index + 1, state, notes), flush=True)
        if args.verbose or not trial.converged:
            for finding in trial.findings():
                print("      " + finding.replace("\n", "\n      "), flush=True)

    rows = []
    started = time.monotonic()
    with FaultLab(workdir, mailboxes=mailboxes, seed=5, verbose=args.verbose) as lab:
        for row in scenarios:
            rows.append(row.run(lab, long_mode=not args.fast, runs=args.runs, progress=progress))
    print()
    print(registry.table(rows))
    print()
    for row in rows:
        notes = row.notes()
        if notes and not args.verbose:
            print("%s: %s" % (row.scenario.key, "; ".join(notes[:3]) + (" ..." if len(notes) > 3 else "")))
    failed = [row for row in rows if not row.ok]
    print("%d rows, %d runs in %.0f s: %s" % (
        len(rows), sum(row.runs for row in rows), time.monotonic() - started,
        "every run converged, no data lost" if not failed else "%d rows FAILED: %s" % (
            len(failed), ", ".join(row.scenario.key for row in failed))))
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as handle:
            json.dump([{"key": row.scenario.key, "fault": row.scenario.fault, "level": row.scenario.level,
                        "runs": row.runs, "converged": row.converged, "data_lost": row.data_lost,
                        "seconds": round(row.seconds, 1), "findings": row.findings(), "notes": row.notes()}
                       for row in rows], handle, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
