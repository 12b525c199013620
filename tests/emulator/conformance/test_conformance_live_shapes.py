"""The live service's hard shapes ("Round 2" of the reference), which the emulator speaks by default.

Each test pins the default and, where tests need the kinder shape, the setting that brings it back. Not-found
and ambiguity shapes are in test_conformance_envelope.py, Get-MailboxPermission without Identity in
test_conformance_paging.py.
"""

import datetime
import email.utils
import re
from urllib.parse import urlsplit

from conformance_support import DOMAIN, sub_request

MORE = ("There are more results available than are currently displayed. To view them, increase the value for the "
        "ResultSize parameter.")
MISSING = "because the ACE doesn't exist on the object."
SELF = "NT AUTHORITY\\SELF"


def _rows(api, identity, **parameters):
    return api.rows("Get-MailboxPermission", dict(parameters, Identity=identity))


# ---- permission rows -----------------------------------------------------------------------------------------


def test_permission_rows_carry_no_inheritance_type(api):
    rows = _rows(api, "ceo")
    assert rows and not [row for row in rows if "InheritanceType" in row]
    selected = api.ok("Get-MailboxPermission", {"Identity": "ceo"}, select=["User", "InheritanceType"])["value"]
    assert selected and not [row for row in selected if "InheritanceType" in row]
    api.server.set_faults(row_shapes={"inheritance_type": "present"})
    assert {row["InheritanceType"] for row in _rows(api, "ceo")} == {"All"}


def test_self_shows_twice_for_every_mailbox(api):
    for identity in ("ceo", "info", "room.atlantic", "inherited"):
        selves = [(row["IsInherited"], row["AccessRights"]) for row in _rows(api, identity) if row["User"] == SELF]
        assert len(selves) == 2, identity
        assert (False, ["FullAccess, ReadPermission"]) in selves
    assert len(_rows(api, "ceo", User=SELF)) == 2
    api.server.set_faults(row_shapes={"self": "once"})
    assert [row["IsInherited"] for row in _rows(api, "ceo") if row["User"] == SELF] == [False]


def test_a_remove_that_matches_no_ace_exactly_answers_200_and_leaves_the_right(api):
    """An ACE granted with another InheritanceType; the rows do not say which, so a Remove built from them goes out
    with the default (All): 200, value null, the warning, and the right is still there."""
    api.ok("Add-MailboxPermission", {"Identity": "info", "User": "archive.admin", "AccessRights": "FullAccess",
                                     "InheritanceType": "SelfAndChildren", "AutoMapping": False})
    row = [r for r in _rows(api, "info", User="archive.admin") if not r["IsInherited"]][0]
    assert "InheritanceType" not in row
    answer = api.ok("Remove-MailboxPermission", {"Identity": "info", "User": "archive.admin",
                                                 "AccessRights": "FullAccess", "Confirm": False})
    assert answer["value"] is None and answer["@adminapi.warnings"][-1].endswith(MISSING)
    aces = [a for a in api.server.permissions(None, "info")["aces"] if a["trustee"] == "archive.admin@" + DOMAIN]
    assert [(a["access_rights"], a["inheritance_type"]) for a in aces] == [(["FullAccess"], "SelfAndChildren")]
    removed = api.ok("Remove-MailboxPermission", {"Identity": "info", "User": "archive.admin",
                                                  "AccessRights": "FullAccess", "InheritanceType": "SelfAndChildren"})
    assert removed["@adminapi.warnings"] == []
    assert not [a for a in api.server.permissions(None, "info")["aces"] if a["trustee"] == "archive.admin@" + DOMAIN]


# ---- -ResultSize N: N rows, a nextLink and the warning ----------------------------------------------------------


def test_result_size_is_answered_with_a_link_that_goes_on_past_it(big_api):
    params = {"ResultSize": 3}
    first = big_api.ok("Get-Mailbox", params, select=["Name"])
    assert len(first["value"]) == 3
    assert first["@adminapi.warnings"] == [MORE]
    link = first["@odata.nextLink"]
    assert urlsplit(link).query.startswith("%24skiptoken=")
    body = {"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": params}}
    second = big_api.post(link, body).json()
    assert len(second["value"]) == 3 and second["@adminapi.warnings"] == [MORE]  # a client must stop by itself
    assert not {r["Name"] for r in first["value"]} & {r["Name"] for r in second["value"]}


def test_result_size_pages_are_at_most_the_result_size(big_api):
    first = big_api.ok("Get-Mailbox", {"ResultSize": 1500}, select=["Name"],
                       headers={"Prefer": "odata.maxpagesize=1000"})
    assert len(first["value"]) == 1000 and "@odata.nextLink" in first
    small = big_api.ok("Get-Mailbox", {"ResultSize": 2}, select=["Name"], headers={"Prefer": "odata.maxpagesize=1000"})
    assert len(small["value"]) == 2 and "@odata.nextLink" in small


def test_result_size_that_covers_everything_has_no_link(api):
    body = api.ok("Get-Mailbox", {"ResultSize": 5000}, select=["Name"])
    assert "@odata.nextLink" not in body and body["@adminapi.warnings"] == []
    one = api.ok("Get-Mailbox", {"Identity": "ceo", "ResultSize": 1}, select=["Name"])
    assert "@odata.nextLink" not in one and one["@adminapi.warnings"] == []


def test_result_size_without_a_link_when_asked(big_api):
    big_api.server.set_faults(result_size_link=False)
    body = big_api.ok("Get-Mailbox", {"ResultSize": 5}, select=["Name"])
    assert len(body["value"]) == 5 and body["@adminapi.warnings"] == [MORE] and "@odata.nextLink" not in body


# ---- rate headers from the cost model ---------------------------------------------------------------------------


def _reset_in(response):
    reset = datetime.datetime.fromisoformat(response.headers["Rate-Limit-Reset"].replace("Z", "+00:00"))
    return reset.timestamp() - email.utils.parsedate_to_datetime(response.headers["Date"]).timestamp()


def test_rate_headers_come_from_the_cost_model(api):
    api.server.set_faults(latency_ms=1, concurrency_limit=10)
    first = api.invoke("Get-Mailbox", {"Identity": "ceo"})
    assert first.headers["Rate-Limit-Limit"] == str(10 * 16 * 1000)  # C*W/L executions per W = 16 s
    assert first.headers["Rate-Limit-Remaining"] == str(10 * 16 * 1000 - 1)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", first.headers["Rate-Limit-Reset"])
    assert 15.0 <= _reset_in(first) <= 17.0  # about 16 s after Date, like the live capture
    batch = api.batch([sub_request(i, "Get-Mailbox", {"Identity": "ceo"}) for i in (1, 2, 3)])
    assert batch.headers["Rate-Limit-Remaining"] == str(10 * 16 * 1000 - 4)  # sub-requests are executions too
    assert batch.json()["responses"][0]["headers"].keys() <= {"content-type", "retry-after"}


def test_rate_headers_without_a_cost_model_show_the_live_limit(api):
    response = api.invoke("Get-Mailbox", {"Identity": "ceo"})
    assert response.headers["Rate-Limit-Limit"] == "30000" and response.headers["Rate-Limit-Remaining"] == "29999"


def test_concurrency_count_is_the_slots_in_use_as_the_response_leaves(api):
    gate = api.server.app.gate(api.server.tenant())
    held = [gate.try_acquire(0), gate.try_acquire(0)]  # two cmdlets of someone else, running
    try:
        assert api.invoke("Get-Mailbox", {"Identity": "ceo"}).headers["X-Concurrencycount"] == "2"
    finally:
        gate.release(len(held))
    assert api.invoke("Get-Mailbox", {"Identity": "ceo"}).headers["X-Concurrencycount"] == "0"


def test_rate_headers_can_be_left_out(api):
    api.server.set_faults(rate_headers=False)
    response = api.invoke("Get-Mailbox", {"Identity": "ceo"})
    assert not [name for name in response.headers if name.lower().startswith(("rate-limit", "x-concurrency"))]


def test_an_enforced_budget_counts_cmdlets_in_a_rolling_window(api):
    api.server.set_faults(rate_limit=3, rate_limit_window=60)
    batch = api.batch([sub_request(i, "Get-Mailbox", {"Identity": "ceo"}) for i in (1, 2, 3, 4)])
    statuses = [r["status"] for r in batch.json()["responses"]]
    assert statuses == [200, 200, 200, 429]
    assert batch.headers["Rate-Limit-Remaining"] == "0"
    refused = batch.json()["responses"][3]
    assert 1 <= float(refused["headers"]["retry-after"]) <= 60
