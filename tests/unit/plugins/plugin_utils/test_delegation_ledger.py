# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The user-delegations ledger: what the first read saw is what a restore grants back; doubtful ledgers refused."""

import json

import pytest

from ansible_collections.m365.exchange.plugins.plugin_utils._delegation_ledger import (
    DelegationLedgerError,
    holders,
    ledger_header,
    parse_ledger,
    report_rows,
    report_text,
)

GUID = "2ea9c708-371b-4de8-946a-fd9ea1f936c8"


def line(event, mailbox, rights, state="absent", action=None, kind=None, folder=None, guid=GUID):
    data = {"event": event, "mailbox": mailbox, "rights": rights, "state": state, "trustee": "u@contoso.com",
            "trustee_guid": guid, "at": "2026-12-01T00:00:00Z"}
    if action:
        data["action"] = action
    if kind:
        data["kind"] = kind
    if folder:
        data["folder"] = folder
    return json.dumps(data)


def ledger(*lines):
    header = json.dumps(ledger_header("contoso.onmicrosoft.com", "u@contoso.com", "2026-12-01T00:00:00Z", "x"))
    return "\n".join((header,) + lines) + "\n"


def test_the_first_read_is_what_is_restored_grouped_by_rights():
    text = ledger(
        line("read", "a@contoso.com", ["FullAccess"]), line("read", "b@contoso.com", ["FullAccess", "ReadPermission"]),
        line("read", "c@contoso.com", ["FullAccess"]), line("read", "d@contoso.com", []),
        line("write", "a@contoso.com", [], action="removed"),
        # a rerun reads what is left: it must not hide what the first run saw
        line("read", "a@contoso.com", []),
        line("read", "a@contoso.com", ["SendAs"], kind="send_as"),
        line("read", "a@contoso.com", ["Editor", "Delegate"], kind="folder", folder="Calendar"),
        line("read", "b@contoso.com", ["Reviewer"], kind="folder", folder="Calendar"),
        line("read", "a@contoso.com", ["SendOnBehalf"], kind="send_on_behalf"))
    parsed = parse_ledger(text, tenant="CONTOSO.onmicrosoft.com", user="u@contoso.com")
    assert parsed["summary"] == {"mailbox_permission": 3, "send_as": 1, "send_on_behalf": 1, "folder": 2}
    assert parsed["removed"] == ["mailbox_permission a@contoso.com"]
    assert [(g["kind"], g["folder"], g["access_rights"], g["sharing_permission_flags"], g["identities"])
            for g in parsed["restore"]] == [
        ("mailbox_permission", None, ["FullAccess"], [], ["a@contoso.com", "c@contoso.com"]),
        ("mailbox_permission", None, ["FullAccess", "ReadPermission"], [], ["b@contoso.com"]),
        ("send_as", None, ["SendAs"], [], ["a@contoso.com"]),
        ("send_on_behalf", None, ["SendOnBehalf"], [], ["a@contoso.com"]),
        ("folder", "Calendar", ["Editor"], ["Delegate"], ["a@contoso.com"]),
        ("folder", "Calendar", ["Reviewer"], [], ["b@contoso.com"])]
    assert not parsed["closed"]


def test_a_finished_restore_closes_the_ledger_and_a_later_removal_starts_anew():
    text = ledger(line("read", "a@contoso.com", ["FullAccess"]),
                  line("write", "a@contoso.com", ["FullAccess"], state="present", action="added"),
                  json.dumps({"event": "restored", "at": "2026-12-02T00:00:00Z"}))
    parsed = parse_ledger(text)
    assert parsed["closed"] and parsed["restore"] == [] and parsed["restored"] == ["mailbox_permission a@contoso.com"]
    parsed = parse_ledger(text + line("read", "z@contoso.com", ["FullAccess"]) + "\n")
    assert not parsed["closed"] and [g["identities"] for g in parsed["restore"]] == [["z@contoso.com"]]


def test_a_torn_last_line_is_skipped_other_garbage_is_refused():
    text = ledger(line("read", "a@contoso.com", ["FullAccess"])) + '{"event": "read", "mailbox": "b@con'
    assert [g["identities"] for g in parse_ledger(text)["restore"]] == [["a@contoso.com"]]
    with pytest.raises(DelegationLedgerError, match="corrupt at line 2"):
        parse_ledger(ledger("not json"))


@pytest.mark.parametrize("text, kwargs, says", [
    ('{"event": "campaign", "version": 1}\n', {}, "does not start with a user-delegations header"),
    (ledger(), {"user": "someone.else@contoso.com"}, "belongs to user 'u@contoso.com', not 'someone.else@contoso.com'"),
    (ledger(), {"tenant": "fabrikam.onmicrosoft.com"}, "belongs to tenant"),
    (ledger().replace('"version": 1', '"version": 7'), {}, "ledger version 7"),
    (ledger(line("read", "a@contoso.com", ["SendAs"]), line("read", "b@contoso.com", ["SendAs"], guid="other")), {},
     "2 different trustees"),
])
def test_doubtful_ledgers_are_refused(text, kwargs, says):
    with pytest.raises(DelegationLedgerError, match=says.replace("(", r"\(").replace(")", r"\)")):
        parse_ledger(text, **kwargs)


def test_holders_leave_out_inherited_and_deny_entries():
    mailboxes = [
        {"primary_smtp_address": "a@x", "permissions": [{"is_inherited": True, "deny": False}], "send_as": [],
         "send_on_behalf": [], "folder_permissions": []},
        {"primary_smtp_address": "b@x", "permissions": [{"is_inherited": False, "deny": True}],
         "send_as": [{"deny": False}], "send_on_behalf": ["u"],
         "folder_permissions": [{"folder": "Calendar"}]},
    ]
    assert holders(mailboxes, ["Calendar", "Inbox"]) == {
        "mailbox_permission": [], "send_as": ["b@x"], "send_on_behalf": ["b@x"],
        "folder": {"Calendar": ["b@x"], "Inbox": []}}


def test_report_rows_of_single_and_looped_results_without_unchanged():
    single = {"results": [{"identity": "a@x", "action": "removed", "before": ["SendAs"], "after": []},
                          {"identity": "b@x", "action": "unchanged", "before": [], "after": []}]}
    looped = {"results": [{"ansible_loop_var": "item", "item": "Calendar",
                           "results": [{"identity": "c@x", "action": "failed", "before": ["Editor", "Delegate"],
                                        "after": ["Editor", "Delegate"], "error": "boom"}]},
                          {"ansible_loop_var": "item", "item": "Inbox", "skipped": True}]}
    failed = {"failed": True, "msg": "cannot reach the service"}
    rows = report_rows([{"kind": "send_as", "result": single}, {"kind": "folder", "result": looped},
                        {"kind": "send_on_behalf", "result": {"skipped": True}},
                        {"kind": "mailbox_permission", "result": failed}])
    assert [(r["kind"], r["mailbox"], r["folder"], r["action"], r["before"], r["error"]) for r in rows] == [
        ("send_as", "a@x", "", "removed", "SendAs", ""), ("folder", "c@x", "Calendar", "failed", "Editor Delegate", "boom"),
        ("mailbox_permission", "", "", "failed", "", "cannot reach the service")]
    assert report_text([], "csv") == '"kind","mailbox","folder","action","before","after","error"\n'
    assert json.loads(report_text([{"kind": "send_as", "result": single}], "json"))["rows"][0]["mailbox"] == "a@x"
