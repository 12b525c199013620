# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast part of the fault matrix: every row marked ci=True, with its fast number of runs.

`python3 tests/faults/matrix.py` runs the long version and prints the table.
"""

import pytest

from faultlab import registry

SCENARIOS = [s for s in registry.load() if s.ci]


@pytest.mark.parametrize("row", SCENARIOS, ids=[s.key for s in SCENARIOS])
def test_fault_matrix_row(lab, row):
    outcome = row.run(lab, long_mode=False)
    report = "\n".join(["%s: %d of %d runs converged, data lost in %d" % (
        row.fault, outcome.converged, outcome.runs, outcome.data_lost)] + outcome.findings())
    assert outcome.data_lost == 0, report
    assert outcome.converged == outcome.runs, report
