# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures: one emulator per test session (per xdist worker), clean faults for every test."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "emulator"))

from exo_emulator.testing import running_emulator  # noqa: E402 pylint: disable=wrong-import-position

from ansible_collections.m365.exchange.plugins.module_utils._client import (  # noqa: E402
    ExchangeOnlineClient,
    RetryPolicy,
)
from ansible_collections.m365.exchange.plugins.module_utils._connection import ConnectionSettings  # noqa: E402

# Enough mailboxes that Get-Mailbox needs three pages of 1,000.
TENANT_MAILBOXES = 2600


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    with running_emulator(tmp_path_factory.mktemp("emulator"), mailboxes=TENANT_MAILBOXES, seed=3) as server:
        yield server


@pytest.fixture
def emu(emulator):
    """The session's emulator as new: initial tenant, default faults, zeroed counters."""
    emulator.reset(counters=True, faults=True)
    return emulator


def connection_params(connection, **overrides):
    params = dict(
        tenant=connection["tenant"],
        client_id=connection["client_id"],
        client_secret=connection["client_secret"],
        api_url=connection["api_url"],
        authority_url=connection["authority_url"],
        ca_path=connection["ca_path"],
        validate_certs=True,
    )
    params.update(overrides)
    return params


def make_settings(connection, **overrides):
    return ConnectionSettings.from_params(connection_params(connection, **overrides))


FAST_RETRIES = dict(max_attempts=4, max_throttled=6, max_elapsed=20.0, base_delay=0.02, max_delay=0.1)


@pytest.fixture
def client_factory(emu):
    clients = []

    def factory(retry_policy=None, **overrides):
        client = ExchangeOnlineClient(make_settings(emu.connection, **overrides),
                                      retry_policy=retry_policy or RetryPolicy(**FAST_RETRIES))
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def client(client_factory):
    return client_factory()


@pytest.fixture
def app_client(client_factory, emu):
    """A client that signs in as one of the emulator's extra app registrations (no_app_role, ...)."""

    def factory(name):
        record = emu.connection["apps"][name]
        return client_factory(client_id=record["client_id"], client_secret=record["client_secret"])

    return factory
