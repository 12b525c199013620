# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rows of the fault matrix: scenarios, their trials, and the table.

A scenario is a function ``trial_function(lab, trial)`` registered with ``@scenario(...)``. It sets the
emulator up (``lab.reset(...)``, fault rules, hooks), runs playbooks, and records on ``trial`` what it
found (``trial.problem(...)``, ``trial.lose(...)``, ``trial.note(...)``), usually through the checks in
``faultlab.judge``. A trial converged when it found no problem and no loss.

Modules named ``faultlab.scenarios_*`` are imported by ``load()``: module-level rows live in
``scenarios_module.py``; role-level rows (the archive_access grant/revoke playbooks with their ledger) in
``scenarios_roles.py``, registered with ``level="role"``.
"""

import importlib
import os
import pkgutil
import time
import traceback

from faultlab.judge import Trial

SCENARIOS = []


class Scenario:
    """One row of the matrix."""

    def __init__(self, key, fault, function, level="module", fast=1, long_runs=3, ci=True):
        self.key = key
        self.fault = fault
        self.function = function
        self.level = level
        self.fast = fast
        self.long = long_runs
        self.ci = ci
        self.doc = (function.__doc__ or "").strip()

    def runs(self, long_mode):
        return self.long if long_mode else self.fast

    def run(self, lab, long_mode=False, runs=None, progress=None):
        """Run the trials; return a Row."""
        count = runs if runs is not None else self.runs(long_mode)
        trials = []
        started = time.monotonic()
        for index in range(count):
            trial = Trial(self, index, long_mode)
            try:
                self.function(lab, trial)
            except Exception:  # pylint: disable=broad-except
                trial.problem("the trial itself failed:\n" + traceback.format_exc(limit=6))
            trials.append(trial)
            if progress:
                progress(self, trial)
        return Row(self, trials, time.monotonic() - started)


class Row:
    """A scenario's outcome: runs, how many converged, in how many something was lost."""

    def __init__(self, scenario, trials, seconds):
        self.scenario = scenario
        self.trials = trials
        self.seconds = seconds

    @property
    def runs(self):
        return len(self.trials)

    @property
    def converged(self):
        return sum(1 for trial in self.trials if trial.converged)

    @property
    def data_lost(self):
        return sum(1 for trial in self.trials if trial.data_lost)

    @property
    def ok(self):
        return self.converged == self.runs and self.data_lost == 0

    def findings(self):
        lines = []
        for trial in self.trials:
            for finding in trial.findings():
                lines.append("run %d: %s" % (trial.index + 1, finding))
        return lines

    def notes(self):
        seen = []
        for trial in self.trials:
            for note in trial.notes:
                if note not in seen:
                    seen.append(note)
        return seen


def scenario(key, fault, level="module", fast=1, long_runs=3, ci=True):
    """Register a trial function as a row of the matrix."""

    def register(function):
        if any(existing.key == key for existing in SCENARIOS):
            raise ValueError("scenario %s is registered twice" % key)
        SCENARIOS.append(Scenario(key, fault, function, level, fast, long_runs, ci))
        return function

    return register


def load():
    """Import every faultlab.scenarios_* module; return the registered scenarios in order."""
    package = os.path.dirname(os.path.abspath(__file__))
    for info in sorted(pkgutil.iter_modules([package]), key=lambda item: item.name):
        if info.name.startswith("scenarios_"):
            importlib.import_module("faultlab." + info.name)
    return list(SCENARIOS)


def table(rows):
    """The matrix as a text table: fault, level, runs, converged, data lost, seconds."""
    headers = ("fault", "level", "runs", "converged", "data lost", "time")
    body = [(row.scenario.fault, row.scenario.level, str(row.runs), str(row.converged), str(row.data_lost),
             "%.0f s" % row.seconds) for row in rows]
    widths = [max(len(headers[i]), *(len(line[i]) for line in body)) if body else len(headers[i])
              for i in range(len(headers))]

    def line(cells):
        return "  ".join(cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(cells))

    lines = [line(headers), line(["-" * width for width in widths])]
    lines.extend(line(cells) for cells in body)
    return "\n".join(lines)
