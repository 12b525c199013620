"""Faults, cost model, counters, request log and the admin API."""

import json
import threading
import time

import pytest
import requests

from conformance_support import DOMAIN, session_for
from exo_emulator import slots

ADD_INFO = {"Identity": "info", "User": "archive.admin", "AccessRights": ["FullAccess"], "AutoMapping": False}


def _has_archive_admin(server, mailbox="info"):
    return any(a["trustee"] == "archive.admin@" + DOMAIN and not a["inherited"]
               for a in server.permissions(None, mailbox)["aces"])


def _parallel(api, count, cmdlet="Get-Mailbox", params=None):
    token = api.token()
    results = [None] * count

    def call(index):
        session = session_for(api.server.ca_path)
        body = {"CmdletInput": {"CmdletName": cmdlet, "Parameters": params or {"Identity": "ceo"}}}
        results[index] = session.post(api.url(), json=body, headers={"Authorization": "Bearer " + token},
                                      verify=api.server.ca_path)
    threads = [threading.Thread(target=call, args=(i,)) for i in range(count)]
    started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.time() - started


def test_concurrency_cap_gives_429_with_retry_after(api):
    api.server.set_faults(latency_ms=300, concurrency_limit=2, concurrency_retry_after="0.75")
    results, _seen = _parallel(api, 6)
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(200) == 2 and statuses.count(429) == 4
    throttled = next(r for r in results if r.status_code == 429)
    assert throttled.headers["Retry-After"] == "0.75"
    assert "maximum number of concurrent requests per tenant" in throttled.json()["error"]["message"]
    counters = api.server.counters()
    assert counters["max_concurrency_seen"] == 2 and counters["throttled"] == 4
    assert counters["cmdlet_attempts"]["Get-Mailbox"] == 6 and counters["cmdlets"]["Get-Mailbox"] == 2


def test_slot_record_shows_the_slots_taken_refused_and_freed(api):
    api.server.set_faults(latency_ms=300, concurrency_limit=2, concurrency_retry_after="0.75")
    assert api.server.slots() == {"recording": False}
    api.server.record_slots()
    _parallel(api, 6)
    summary = api.server.slots()
    assert summary["recording"] and summary["capacity"] == 2
    assert summary["taken"] == 2 and summary["refused"] == 4 and not summary["truncated"]
    assert 0.29 <= summary["span_seconds"] < 1.0
    # both slots are taken before the first is freed, so they are busy nearly all of the span
    assert summary["used_share"] > 0.8
    # the four refused cmdlets came while both slots were held for 300 ms
    assert 0 < summary["refused_before_free_ms"]["p50"] <= 300
    api.server.record_slots(enabled=False)
    assert api.server.slots() == {"recording": False}


def test_slot_summary_of_a_known_record():
    events = [(10.0, slots.TAKEN), (10.8, slots.REFUSED), (11.0, slots.FREED), (11.2, slots.TAKEN),
              (12.2, slots.FREED)]
    summary = slots.summarize(events, capacity=1, edge=0.5)
    assert summary["taken"] == 2 and summary["refused"] == 1 and summary["span_seconds"] == 2.2
    assert summary["used_share"] == round(2.0 / 2.2, 4)
    assert summary["middle_used_share"] == round(1.0 / 1.2, 4)  # 10.5-11.7: busy 0.5 + 0.5 of 1.2 s
    assert summary["refused_before_free_ms"]["p50"] == 200.0
    assert summary["free_before_taken_ms"]["p50"] == 200.0  # the last release has no next cmdlet
    assert slots.summarize([], capacity=1) == {"capacity": 1, "taken": 0, "refused": 0, "truncated": False}


def test_cost_model_latency_and_cap(api):
    api.token()
    api.server.set_faults(latency_ms=200)
    _results, elapsed = _parallel(api, 4)
    assert 0.2 <= elapsed < 0.6
    api.server.set_faults(latency_ms=0, http_latency_ms=150)
    started = time.time()
    api.invoke("Get-Mailbox", {"Identity": "ceo"})
    assert time.time() - started >= 0.15


def test_random_throttle_and_errors(api):
    api.server.set_faults(throttle_rate=1.0, throttle_retry_after="0.25")
    response = api.invoke("Get-Mailbox", {"Identity": "ceo"})
    assert response.status_code == 429 and response.headers["Retry-After"] == "0.25"
    api.server.set_faults(throttle_rate=0, error_rate=1.0, error_statuses=[503])
    response = api.invoke("Get-Mailbox", {"Identity": "ceo"})
    assert response.status_code == 503 and response.json()["error"]["code"] == "ServiceUnavailable"
    api.server.set_faults(error_statuses=[502])
    response = api.invoke("Get-Mailbox", {"Identity": "ceo"})
    assert response.status_code == 502 and response.headers["Content-Type"].startswith("text/html")
    assert api.server.counters()["errors_injected"] == 2


def test_reset_drops_the_connection_before_processing(api):
    api.server.set_faults(reset_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        api.invoke("Add-MailboxPermission", ADD_INFO)
    api.server.set_faults(reset_rate=0)
    assert not _has_archive_admin(api.server)
    assert api.server.counters()["resets"] == 1


def test_reset_after_write_applies_the_write(api):
    api.token()
    api.server.set_faults(reset_after_write_rate=1.0)
    assert api.invoke("Get-Mailbox", {"Identity": "ceo"}).status_code == 200
    with pytest.raises(requests.ConnectionError):
        api.invoke("Add-MailboxPermission", ADD_INFO)
    assert _has_archive_admin(api.server)


def test_scripted_rules_are_consumed_in_order(api):
    api.token()
    api.server.add_fault_rules([
        {"match": {"cmdlet": "Add-MailboxPermission", "identity": "info"}, "fault": "error", "status": 500,
         "times": 2},
        {"match": {"cmdlet": "Add-MailboxPermission"}, "fault": "throttle", "retry_after": "3"},
        {"match": {"endpoint": "token"}, "fault": "throttle", "retry_after": "1"},
        {"match": {"cmdlet": "Get-Mailbox"}, "fault": "nul403"},
    ])
    statuses = [api.invoke("Add-MailboxPermission", ADD_INFO).status_code for _attempt in range(4)]
    assert statuses == [500, 500, 429, 200]
    response = api.token_response()
    assert response.status_code == 429 and response.json()["error_codes"] == [90055]
    assert api.token_response().status_code == 200
    response = api.invoke("Get-Mailbox", {"Identity": "ceo"})
    assert response.status_code == 403 and response.content == b"\x00" * 4096
    assert api.server.faults()["rules"] == []


def test_scripted_reset_and_reset_after_write(api):
    api.token()
    api.server.add_fault_rule(match={"cmdlet": "Add-MailboxPermission"}, fault="reset")
    with pytest.raises(requests.ConnectionError):
        api.invoke("Add-MailboxPermission", ADD_INFO)
    assert not _has_archive_admin(api.server)
    api.server.add_fault_rule(match={"cmdlet": "Add-MailboxPermission"}, fault="reset_after_write")
    with pytest.raises(requests.ConnectionError):
        api.invoke("Add-MailboxPermission", ADD_INFO)
    assert _has_archive_admin(api.server)
    assert api.invoke("Add-MailboxPermission", ADD_INFO).json()["@adminapi.warnings"][0].startswith(
        "The appropriate access control entry is already present")


def test_rate_limit_budget(api):
    api.server.set_faults(rate_limit=2, rate_limit_window=60)
    first = api.invoke("Get-Mailbox", {"Identity": "ceo"})
    assert first.headers["Rate-Limit-Limit"] == "2" and first.headers["Rate-Limit-Remaining"] == "1"
    assert api.invoke("Get-Mailbox", {"Identity": "ceo"}).status_code == 200
    third = api.invoke("Get-Mailbox", {"Identity": "ceo"})
    assert third.status_code == 429 and float(third.headers["Retry-After"]) > 0


def test_counters_and_request_log(api):
    api.invoke("Get-Mailbox", {"Identity": "ceo"}, headers={"client-request-id": "req-1"})
    api.invoke("Add-MailboxPermission", ADD_INFO)
    counters = api.server.counters()
    assert counters["http_requests"] == 3 and counters["token_requests"] == 1 and counters["writes"] == 1
    assert counters["tenants"][api.conn["tenant_id"]]["cmdlets"] == {"Get-Mailbox": 1, "Add-MailboxPermission": 1}
    log = api.server.requests(last=2)
    assert [e["cmdlet"] for e in log] == ["Get-Mailbox", "Add-MailboxPermission"]
    assert log[0]["headers"]["Authorization"] == "Bearer <redacted>"
    assert log[0]["headers"]["client-request-id"] == "req-1" and log[0]["status"] == 200
    assert api.token() not in json.dumps(api.server.requests(last=0))


def test_admin_http_api(api, tmp_path):
    admin = api.conn["admin_url"]
    http, ca = api.http, api.server.ca_path
    assert http.post(admin + "/faults", json={"latency_ms": 5}, verify=ca).json()["latency_ms"] == 5
    assert http.get(admin + "/faults", verify=ca).json()["latency_ms"] == 5
    assert http.post(admin + "/faults", json={"bogus": 1}, verify=ca).status_code == 400
    rules = http.post(admin + "/faults/script", json={"rules": [{"match": {"cmdlet": "Get-Mailbox"},
                                                                 "fault": "error", "status": 504}]}, verify=ca)
    assert rules.json()["rules"][0]["status"] == 504
    assert api.invoke("Get-Mailbox", {"Identity": "ceo"}).status_code == 504
    api.invoke("Add-MailboxPermission", ADD_INFO)
    perms = http.get(admin + "/permissions", params={"tenant": DOMAIN, "identity": "info"}, verify=ca).json()
    assert perms["automapping"] == {"archive.admin@" + DOMAIN: False}
    state = http.get(admin + "/state", params={"tenant": DOMAIN}, verify=ca).json()
    assert state["tenant_id"] == api.conn["tenant_id"] and state["summary"]["UserMailbox"] > 40
    assert http.get(admin + "/counters", verify=ca).json()["writes"] == 1
    assert http.post(admin + "/counters/reset", verify=ca).status_code == 200
    assert http.get(admin + "/requests", params={"last": 1}, verify=ca).json()["requests"] == []
    saved = tmp_path / "saved.json"
    assert http.post(admin + "/save", json={"path": str(saved)}, verify=ca).status_code == 200
    assert any(r.get("acl") and any(a[0] == perms["aces"][1]["trustee_sid"] for a in r["acl"])
               for r in json.loads(saved.read_text(encoding="utf-8"))["recipients"] if r["name"] == "info")
    app = http.post(admin + "/apps/" + api.conn["client_id"], json={"exchange_role": False}, verify=ca).json()
    assert app["exchange_role"] is False
    assert api.invoke("Get-Mailbox", {"Identity": "ceo"}).status_code == 403
    assert http.post(admin + "/reset", json={}, verify=ca).status_code == 200
    assert api.invoke("Get-Mailbox", {"Identity": "ceo"}).status_code == 200
    assert not _has_archive_admin(api.server)


def test_row_shape_variants(api):
    api.server.set_faults(row_shapes={"access_rights": "list", "deny": "ispresent"})
    row = api.rows("Get-MailboxPermission", {"Identity": "ceo", "User": "NT AUTHORITY\\SELF"})[0]
    assert row["AccessRights"] == ["FullAccess", "ReadPermission"] and row["Deny"] == {"IsPresent": False}
    api.server.set_faults(row_shapes={"access_rights": "string", "deny": "bool"})
    row = api.rows("Get-MailboxPermission", {"Identity": "ceo", "User": "NT AUTHORITY\\SELF"})[0]
    assert row["AccessRights"] == "FullAccess, ReadPermission" and row["Deny"] is False
