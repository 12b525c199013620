"""``python3 noxfile.py ARGS``: nox on a machine that has only python3 and a package index.

Where the running Python cannot import nox, a venv with nox is made in ``.nox/_nox`` (without ensurepip
where Debian's python3-venv is missing: pip then comes from the get-pip stand-in) and the noxfile is run
again with it. After nox's own summary it prints each session's time in seconds, then the plain
``sessions: N passed, N failed`` line that CI logs are read for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

NOX_REQUIREMENT = "nox>=2026.8.10"  # --parallel
NOX_VENV = Path(".nox") / "_nox"
STANDIN = Path(__file__).resolve().parent / "get_pip.py"


def venv_python(venv: Path) -> Path:
    """The interpreter of a venv."""
    return Path(venv) / "bin" / "python"


NOX_MINIMUM = tuple(int(part) for part in NOX_REQUIREMENT.split(">=")[1].split("."))
# Exits 0 when this Python has a nox that is recent enough.
_CHECK_NOX = "import importlib.metadata as m, sys; sys.exit(tuple(map(int, m.version('nox').split('.')[:3])) < %r)"


def can_import_nox(python: Path) -> bool:
    """Tell whether python imports a nox recent enough to run the noxfile."""
    if not Path(python).exists():
        return False
    return subprocess.run([str(python), "-c", _CHECK_NOX % (NOX_MINIMUM,)], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode == 0


def ensure_nox_venv(venv: Path, requirement: str = NOX_REQUIREMENT) -> Path:
    """Make venv hold nox unless it already does; return its python."""
    python = venv_python(venv)
    if can_import_nox(python):
        return python
    print("Installing %s into %s (once)" % (requirement, venv), flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(venv)], check=True)
    # The stand-in installs pip (ensurepip, else pip's wheel from the index) and then pip-installs its arguments.
    subprocess.run([str(python), str(STANDIN), "--quiet", requirement], check=True)
    return python


def timing_table(report: Dict[str, object], wall: Optional[float] = None) -> List[str]:
    """Each session's time in seconds and result, from a nox JSON report (nox's own summary rounds to minutes),
    and the run's wall clock time."""
    sessions = report.get("sessions", [])  # type: ignore[union-attr]
    width = max([len(str(entry.get("name"))) for entry in sessions] + [7])

    def row(name: object, seconds: str, result: object) -> str:
        return "%s %9s  %s" % (str(name).ljust(width), seconds, result)

    lines = [row("session", "seconds", "result")]
    for entry in sessions:
        lines.append(row(entry.get("name"), "%.1f" % float(entry.get("duration") or 0.0), entry.get("result")))
    total = sum(float(entry.get("duration") or 0.0) for entry in sessions)
    lines.append(row("total", "%.1f" % total, "(sessions' time added up; with --parallel the run took less)"))
    if wall is not None:
        lines.append(row("run", "%.1f" % wall, "(wall clock)"))
    return lines


def closing_line(report: Dict[str, object]) -> str:
    """The plain summary of a nox JSON report: 'sessions: N passed, N failed[, N skipped]'."""
    results = [entry.get("result") for entry in report.get("sessions", [])]  # type: ignore[union-attr]
    passed = results.count("success")
    skipped = results.count("skipped")
    line = "sessions: %d passed, %d failed" % (passed, len(results) - passed - skipped)
    return line + (", %d skipped" % skipped if skipped else "")


def run_nox(argv: Sequence[str]) -> int:
    """Run nox in this process with argv; print the closing line; return nox's exit code."""
    import nox  # pylint: disable=import-outside-toplevel

    argv = list(argv)
    report_path: Optional[str] = None
    if not any(arg == "--report" or arg.startswith("--report=") for arg in argv):
        handle, report_path = tempfile.mkstemp(prefix="nox-report-", suffix=".json")
        os.close(handle)
        os.unlink(report_path)
        argv = ["--report", report_path] + argv  # before any "--": what follows that goes to the sessions
    sys.argv = [sys.argv[0]] + argv
    started = time.monotonic()
    try:
        nox.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    if report_path:
        try:
            with open(report_path, encoding="utf-8") as handle:
                report = json.load(handle)
            print("\n".join(timing_table(report, time.monotonic() - started) + [closing_line(report)]), flush=True)
        except (OSError, ValueError):
            pass  # --list, --help, or nox stopped before running anything
        finally:
            if os.path.exists(report_path):
                os.unlink(report_path)
    return code


def main(noxfile: str, argv: List[str]) -> int:
    """Run nox with argv on noxfile, first making a venv with nox if this Python has none."""
    noxfile = os.path.abspath(noxfile)
    if not can_import_nox(Path(sys.executable)):
        python = ensure_nox_venv(Path(os.path.dirname(noxfile)) / NOX_VENV)
        os.execv(str(python), [str(python), noxfile] + argv)
    return run_nox(argv)
