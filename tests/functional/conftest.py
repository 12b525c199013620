# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for tests that run the collection's playbooks with ansible-playbook against the emulator."""

import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "emulator"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "faults"))

from exo_emulator.server import TenantSource  # noqa: E402 pylint: disable=wrong-import-position
from exo_emulator.testing import running_emulator  # noqa: E402 pylint: disable=wrong-import-position
from faultlab.lab import kill_group  # noqa: E402 pylint: disable=wrong-import-position
from playbook_support import (  # noqa: E402 pylint: disable=wrong-import-position
    TENANTS,
    PlaybookRun,
    Tenant,
    playbook_command,
    playbook_env,
)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    sources = [TenantSource("generate", {"n": 150, "seed": 5 + i, "domain": domain}) for i, domain in enumerate(TENANTS)]
    with running_emulator(tmp_path_factory.mktemp("emulator"), tenants=sources) as server:
        yield server


@pytest.fixture
def tenants(emulator):
    emulator.reset(counters=True, faults=True)
    records = dict((record["tenant"], record) for record in emulator.connection["tenants"])
    return [Tenant(emulator, records[domain]) for domain in TENANTS]


@pytest.fixture
def tenant(tenants):
    return tenants[0]


@pytest.fixture
def run_playbook(tmp_path):
    """Run a playbook to its end, or SIGKILL its whole process tree (module included) after kill_after seconds."""

    def run(name, tenant=None, extra_vars=None, inventory=None, check=False, timeout=600, kill_after=None, env=None):
        log_path = tmp_path / ("%s-%d.log" % (os.path.basename(name), time.monotonic_ns()))
        with open(log_path, "w+", encoding="utf-8") as log:
            process = subprocess.Popen(playbook_command(name, extra_vars, inventory, check),
                                       env=playbook_env(tenant, env),
                                       stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)
            try:
                process.wait(timeout=kill_after or timeout)
            except subprocess.TimeoutExpired:
                assert kill_group(process), "the killed playbook's processes did not all end"
            log.seek(0)
            return PlaybookRun(process.returncode, log.read())

    return run
