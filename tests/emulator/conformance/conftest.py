"""Fixtures: an emulator per session (per xdist worker), reset before every test."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable=wrong-import-position
from conformance_support import DOMAIN, OTHER_DOMAIN, Api  # noqa: E402
from exo_emulator.server import EmulatorServer, TenantSource  # noqa: E402


@pytest.fixture(scope="session", name="server")
def fixture_server(tmp_path_factory):
    sources = [TenantSource("generate", {"n": 60, "seed": 1, "domain": DOMAIN}),
               TenantSource("generate", {"n": 10, "seed": 2, "domain": OTHER_DOMAIN})]
    emulator = EmulatorServer(str(tmp_path_factory.mktemp("emulator")), tenants=sources)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture(name="emulator")
def fixture_emulator(server):
    server.reset(counters=True, faults=True)
    server.clear_fault_rules()
    return server


@pytest.fixture(name="api")
def fixture_api(emulator):
    return Api(emulator)


@pytest.fixture(scope="session", name="big_server")
def fixture_big_server(tmp_path_factory):
    emulator = EmulatorServer(str(tmp_path_factory.mktemp("big")), mailboxes=2500, seed=3)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture(name="big_api")
def fixture_big_api(big_server):
    big_server.reset(counters=True, faults=True)
    big_server.clear_fault_rules()
    return Api(big_server)
