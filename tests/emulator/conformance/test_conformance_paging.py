"""nextLink paging over 2,500 mailboxes, ResultSize limits, $select carry-over, snapshots and expiry."""

import time
from urllib.parse import urlsplit

from conformance_support import strip

GET_ALL = {"ResultSize": "Unlimited"}
MORE = "There are more results available than are currently displayed"


def _expected_mailboxes(server):
    state = server.state()["tenants"][0]
    return sum(1 for r in state["recipients"]
               if r["type"] in ("UserMailbox", "SharedMailbox", "RoomMailbox", "EquipmentMailbox")
               and not r.get("soft_deleted") and not r.get("inactive"))


def test_pages_follow_next_link_to_the_full_set(big_api):
    expected = _expected_mailboxes(big_api.server)
    assert expected > 2400
    pages = big_api.all_pages("Get-Mailbox", GET_ALL, page_size=1000, select=["Name", "Guid"])
    assert [len(p["value"]) for p in pages] == [1000, 1000, expected - 2000]
    for page in pages[:-1]:
        link = urlsplit(page["@odata.nextLink"])
        assert link.path == "/adminapi/beta/%s/InvokeCommand" % big_api.conn["tenant_id"]
        assert link.query.startswith("%24skiptoken=")
        assert any(w.startswith(MORE) for w in page["@adminapi.warnings"])
    assert "@odata.nextLink" not in pages[-1] and pages[-1]["@adminapi.warnings"] == []
    names = [r["Name"] for p in pages for r in p["value"]]
    assert len(set(names)) == expected
    assert all(set(strip(r)) == {"Name", "Guid"} for p in pages for r in p["value"])
    assert big_api.server.counters()["pages_served"] == 3


def test_default_page_is_1000_without_prefer(big_api):
    body = big_api.ok("Get-Mailbox", GET_ALL, select=["Name"])
    assert len(body["value"]) == 1000 and "@odata.nextLink" in body


def test_page_size_is_capped_at_1000(big_api):
    body = big_api.ok("Get-Mailbox", GET_ALL, select=["Name"], headers={"Prefer": "odata.maxpagesize=5000"})
    assert len(body["value"]) == 1000


def test_result_size_default_and_explicit(big_api):
    body = big_api.ok("Get-Mailbox", {}, select=["Name"], headers={"Prefer": "odata.maxpagesize=1000"})
    assert len(body["value"]) == 1000 and "@odata.nextLink" not in body
    assert body["@adminapi.warnings"][0].startswith("By default, only the first 1000 items are returned.")
    body = big_api.ok("Get-Mailbox", {"ResultSize": 5}, select=["Name"])
    assert len(body["value"]) == 5 and body["@adminapi.warnings"][0].startswith(MORE)


def test_select_is_remembered_and_follow_up_select_wins(big_api):
    headers = {"Prefer": "odata.maxpagesize=100"}
    first = big_api.ok("Get-Mailbox", GET_ALL, select=["Name"], headers=headers)
    body = {"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": GET_ALL}}
    second = big_api.post(first["@odata.nextLink"], body, headers=headers).json()
    assert set(second["value"][0]) == {"Name"}
    third = big_api.post(second["@odata.nextLink"] + "&$select=Alias", body, headers=headers).json()
    assert set(third["value"][0]) == {"Alias"}


def test_same_link_twice_gives_the_same_page(big_api):
    first = big_api.ok("Get-Mailbox", GET_ALL, select=["Name"], headers={"Prefer": "odata.maxpagesize=10"})
    body = {"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": GET_ALL}}
    one = big_api.post(first["@odata.nextLink"], body).json()
    two = big_api.post(first["@odata.nextLink"], body).json()
    assert one["value"] == two["value"] and len(one["value"]) == 10


def test_pages_are_a_snapshot(big_api):
    big_api.server.set_faults(permission_requires_identity=False)
    params = {"User": "archive.admin", "ResultSize": "Unlimited"}
    first = big_api.ok("Get-MailboxPermission", params, headers={"Prefer": "odata.maxpagesize=1"})
    total_before = 1 + sum(len(p["value"]) for p in _rest(big_api, first, "Get-MailboxPermission", params))
    first = big_api.ok("Get-MailboxPermission", params, headers={"Prefer": "odata.maxpagesize=1"})
    big_api.ok("Add-MailboxPermission", {"Identity": "info", "User": "archive.admin", "AccessRights": "FullAccess"})
    assert 1 + sum(len(p["value"]) for p in _rest(big_api, first, "Get-MailboxPermission", params)) == total_before
    fresh = big_api.all_pages("Get-MailboxPermission", params)
    assert sum(len(p["value"]) for p in fresh) == total_before + 1


def _rest(api, page, cmdlet, params):
    pages = []
    body = {"CmdletInput": {"CmdletName": cmdlet, "Parameters": params}}
    while "@odata.nextLink" in page:
        page = api.post(page["@odata.nextLink"], body).json()
        pages.append(page)
    return pages


def _expired(response):
    assert response.status_code == 400
    message = response.json()["error"]["innererror"]["internalexception"]["message"]
    assert "Expired or Invalid pagination request. Default Expiry time is" in message
    return message


def test_links_expire(big_api):
    big_api.server.set_faults(page_expiry=0.3)
    first = big_api.ok("Get-Mailbox", GET_ALL, select=["Name"], headers={"Prefer": "odata.maxpagesize=10"})
    time.sleep(0.4)
    body = {"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": GET_ALL}}
    _expired(big_api.post(first["@odata.nextLink"], body))
    big_api.server.set_faults(page_expiry=1800)
    first = big_api.ok("Get-Mailbox", GET_ALL, select=["Name"], headers={"Prefer": "odata.maxpagesize=10"})
    assert _expired(big_api.post(first["@odata.nextLink"].replace("skiptoken=", "skiptoken=x"), body)).endswith(
        "00:30:00")


def test_scripted_expire_page_and_broken_links(big_api):
    body = {"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": GET_ALL}}
    big_api.server.add_fault_rule(match={"cmdlet": "Get-Mailbox"}, fault="expire_page")
    first = big_api.ok("Get-Mailbox", GET_ALL, select=["Name"], headers={"Prefer": "odata.maxpagesize=10"})
    _expired(big_api.post(first["@odata.nextLink"], body))
    assert big_api.post(first["@odata.nextLink"], body).status_code == 200
    big_api.server.set_faults(nextlink_broken=True)
    _expired(big_api.post(first["@odata.nextLink"], body))


def test_mailbox_permission_without_identity_is_refused(big_api):
    """graph2otel saw 400 "Invalid Operation" live; the kind shape (every mailbox's entries) is a setting."""
    for parameters in ({}, {"ResultSize": "Unlimited"}, {"User": "archive.admin"}):
        response = big_api.invoke("Get-MailboxPermission", parameters)
        assert response.status_code == 400, parameters
        error = response.json()["error"]
        assert error["code"] == "BadRequest" and error["message"] == "Invalid Operation"
        assert "missing mandatory parameters: Identity" in error["details"][0]["message"]


def test_mailbox_permission_without_identity_returns_every_mailbox_when_allowed(big_api):
    big_api.server.set_faults(permission_requires_identity=False)
    pages = big_api.all_pages("Get-MailboxPermission", {"ResultSize": "Unlimited"}, page_size=1000,
                              select=["Identity", "User", "IsInherited"])
    rows = [r for p in pages for r in p["value"]]
    mailboxes = {r["Identity"] for r in rows}
    assert len(mailboxes) == _expected_mailboxes(big_api.server)
    assert len(pages) > 20
    assert sum(1 for r in rows if r["User"] == "NT AUTHORITY\\SELF" and not r["IsInherited"]) == len(mailboxes)
    assert sum(1 for r in rows if r["User"] == "NT AUTHORITY\\SELF" and r["IsInherited"]) == len(mailboxes)
    limited = big_api.ok("Get-MailboxPermission", {})
    assert len(limited["value"]) == 1000
    assert limited["@adminapi.warnings"][0].startswith("By default, only the first 1000 items")
