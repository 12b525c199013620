"""CLI: deterministic generate, serve readiness, connection file, clean shutdown with save-on-exit."""

import json
import os
import signal
import subprocess
import sys
import time

from conformance_support import SCOPE, session_for

EMULATOR_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def _run(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "exo_emulator"] + list(args), cwd=EMULATOR_DIR, check=True,
                          capture_output=True, text=True, timeout=60, **kwargs)


def test_generate_is_deterministic_and_loadable(tmp_path):
    first, second, other = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    _run("generate", "--mailboxes", "40", "--seed", "5", "--domain", "example.onmicrosoft.com", "--output", str(first))
    _run("generate", "--mailboxes", "40", "--seed", "5", "--domain", "example.onmicrosoft.com", "--output", str(second))
    _run("generate", "--mailboxes", "40", "--seed", "6", "--domain", "example.onmicrosoft.com", "--output", str(other))
    assert first.read_bytes() == second.read_bytes() != other.read_bytes()
    data = json.loads(first.read_text(encoding="utf-8"))
    assert data["schema"] == "exo-emulator-tenant/1" and data["domain"] == "example.onmicrosoft.com"
    sys.path.insert(0, EMULATOR_DIR)
    from exo_emulator.tenant import Tenant  # pylint: disable=import-outside-toplevel
    tenant = Tenant.load(str(first))
    again = tmp_path / "again.json"
    tenant.save(str(again))
    assert json.loads(again.read_text(encoding="utf-8")) == data


def test_serve_writes_connection_file_and_stops_cleanly(tmp_path):
    connection = tmp_path / "connection.json"
    saved = tmp_path / "saved.json"
    started = time.time()
    command = [sys.executable, "-m", "exo_emulator", "serve", "--workdir", str(tmp_path / "work"), "--generate", "20",
               "--port", "0", "--latency-ms", "1", "--connection-file", str(connection), "--save-on-exit", str(saved)]
    with subprocess.Popen(command, cwd=EMULATOR_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        _exercise(process, connection, started)
    assert process.returncode == 0
    info = next(r for r in json.loads(saved.read_text(encoding="utf-8"))["recipients"] if r["name"] == "info")
    assert len(info["acl"]) == 3


def _exercise(process, connection, started):
    try:
        while not connection.exists():
            assert time.time() - started < 10 and process.poll() is None
            time.sleep(0.02)
        conn = json.loads(connection.read_text(encoding="utf-8"))
        for key in ("api_url", "authority_url", "admin_url", "ca_path", "environment", "tenant", "tenant_id",
                    "client_id", "client_secret", "certificate_path", "certificate_pfx_path", "certificate_password",
                    "tenants", "apps"):
            assert key in conn, key
        assert set(conn["apps"]) == {"no_app_role", "no_exchange_role", "expired_certificate", "admin_api_only"}
        http = session_for(conn["ca_path"])
        token = http.post("%s/%s/oauth2/v2.0/token" % (conn["authority_url"], conn["tenant"]),
                          data={"grant_type": "client_credentials", "client_id": conn["client_id"],
                                "client_secret": conn["client_secret"], "scope": SCOPE}).json()["access_token"]
        response = http.post("%s/adminapi/beta/%s/InvokeCommand" % (conn["api_url"], conn["tenant_id"]),
                             json={"CmdletInput": {"CmdletName": "Add-MailboxPermission", "Parameters": {
                                 "Identity": "info", "User": "archive.admin", "AccessRights": ["FullAccess"]}}},
                             headers={"Authorization": "Bearer " + token})
        assert response.status_code == 200
        assert time.time() - started < 5
        assert http.get(conn["admin_url"] + "/faults").json()["latency_ms"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
