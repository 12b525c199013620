"""Helpers for pytest: ``running_emulator(tmp_path, mailboxes=50, seed=1, **faults)``."""

import contextlib
import os

from .server import EmulatorServer, TenantSource


@contextlib.contextmanager
def running_emulator(workdir, mailboxes=50, seed=1, domain="contoso.onmicrosoft.com", tenants=None, **faults):
    """Start an emulator in a thread for the duration of the block; yields the EmulatorServer."""
    sources = tenants or [TenantSource("generate", {"n": mailboxes, "seed": seed, "domain": domain})]
    server = EmulatorServer(os.fspath(workdir), tenants=sources, faults=faults)
    server.start()
    try:
        yield server
    finally:
        server.stop()
