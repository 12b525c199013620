# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the fault tests: one emulator per test module, in this process."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from faultlab.lab import FaultLab  # noqa: E402 pylint: disable=wrong-import-position

# More than 1,000 mailboxes, so that a Get-Mailbox over the tenant needs two pages.
LAB_MAILBOXES = 1200


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with FaultLab(str(tmp_path_factory.mktemp("faultlab")), mailboxes=LAB_MAILBOXES, seed=5) as the_lab:
        yield the_lab
