"""devtools.bootstrap: `python3 noxfile.py` on a machine with only python3, and the closing line CI logs show."""

import sys

from devtools import bootstrap


def test_the_closing_line_counts_sessions():
    report = {"sessions": [{"result": "success"}, {"result": "failed"}, {"result": "success"},
                           {"result": "aborted"}]}
    assert bootstrap.closing_line(report) == "sessions: 2 passed, 2 failed"
    report["sessions"].append({"result": "skipped"})
    assert bootstrap.closing_line(report) == "sessions: 2 passed, 2 failed, 1 skipped"


def test_the_timing_table_gives_each_sessions_seconds():
    report = {"sessions": [{"name": "sanity-2.16", "duration": 118.04, "result": "success"},
                           {"name": "lint", "duration": 0, "result": "success"},
                           {"name": "integration-2.21", "duration": 241.96, "result": "failed"}]}
    lines = bootstrap.timing_table(report, wall=300.04)
    assert lines[0].split() == ["session", "seconds", "result"]
    assert lines[1].split() == ["sanity-2.16", "118.0", "success"]
    assert lines[3].split() == ["integration-2.21", "242.0", "failed"]
    assert lines[4].split()[:2] == ["total", "360.0"]
    assert lines[5].split()[:2] == ["run", "300.0"] and lines[5].index("300.0") == lines[1].index("118.0")


def test_a_python_without_a_recent_nox_is_not_taken(tmp_path):
    assert not bootstrap.can_import_nox(tmp_path / "no-such-python")
    python = tmp_path / "python"
    for code, expected in ((0, True), (1, False)):
        python.write_text("#!/bin/sh\nexit %d\n" % code, encoding="utf-8")
        python.chmod(0o755)
        assert bootstrap.can_import_nox(python) is expected


def test_the_minimum_nox_is_the_requirements_lower_bound():
    assert bootstrap.NOX_MINIMUM == (2026, 8, 10)
    assert bootstrap.NOX_REQUIREMENT == "nox>=2026.8.10"


def test_run_nox_reports_before_the_sessions_arguments(monkeypatch, capsys):
    """The report option goes before "--" (what follows belongs to the sessions); the closing line comes last."""
    seen = {}

    class FakeNox:  # pylint: disable=too-few-public-methods
        @staticmethod
        def main():
            seen["argv"] = list(sys.argv[1:])
            report = sys.argv[sys.argv.index("--report") + 1]
            with open(report, "w", encoding="utf-8") as handle:
                handle.write('{"sessions": [{"result": "success"}]}')
            raise SystemExit(0)

    monkeypatch.setitem(sys.modules, "nox", FakeNox)
    assert bootstrap.run_nox(["-s", "units-2.19", "--", "-k", "ledger"]) == 0
    assert seen["argv"][0] == "--report" and seen["argv"][2:] == ["-s", "units-2.19", "--", "-k", "ledger"]
    assert capsys.readouterr().out.splitlines()[-1] == "sessions: 1 passed, 0 failed"
