# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The campaign ledger: pre-existing vs granted from the first read, refusal of doubtful ledgers, packing."""

import json

import pytest

from ansible_collections.m365.exchange.plugins.module_utils._journal import Journal
from ansible_collections.m365.exchange.plugins.module_utils._ledger import (
    LedgerError,
    campaign_header,
    pack_mailboxes,
    parse_ledger,
    unpack_mailboxes,
)

HEADER = campaign_header("contoso.onmicrosoft.com", "archive.admin@contoso.onmicrosoft.com", ["FullAccess"],
                         "2026-11-22T10:00:00Z", "c1")


def read(mailbox, rights, state="present"):
    return {"event": "read", "state": state, "mailbox": mailbox, "rights": rights}


def write(mailbox, action, state="present"):
    return {"event": "write", "state": state, "mailbox": mailbox, "action": action}


def ledger(*events, tail=""):
    return "".join(json.dumps(event) + "\n" for event in (HEADER,) + events) + tail


def test_first_read_decides_pre_existing_even_after_a_killed_run():
    text = ledger(
        read("ceo@x", ["FullAccess"]),            # held before the campaign
        read("info@x", []), write("info@x", "added"),
        read("support@x", []),                    # killed after the server applied the grant, before 'write'
        read("support@x", ["FullAccess"]),        # the rerun sees the access: still granted by the campaign
        read("ceo@x", ["FullAccess"]),
    )
    state = parse_ledger(text)
    assert state["pre_existing"] == ["ceo@x"]
    assert state["granted"] == ["info@x", "support@x"]
    assert not state["closed"]


def test_partial_rights_are_not_pre_existing_and_revoke_reads_do_not_count():
    text = ledger(read("a@x", ["ReadPermission"]), read("b@x", [], state="absent"),
                  write("a@x", "removed", state="absent"), {"event": "closed"})
    state = parse_ledger(text)
    assert state["granted"] == ["a@x"] and state["pre_existing"] == []
    assert state["revoked"] == ["a@x"] and state["closed"]


def test_an_incomplete_last_line_is_ignored():
    text = ledger(read("a@x", []), tail='{"event": "read", "state": "pres')
    assert parse_ledger(text)["granted"] == ["a@x"]


def test_a_torn_line_followed_by_later_appends_is_skipped(tmp_path):
    path = str(tmp_path / "ledger.jsonl")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(ledger(read("a@x", [])) + '{"event": "read", "state": "present", "mailbox": "b@')
    Journal(path).append([read("b@x", []), read("c@x", ["FullAccess"])])
    with open(path, encoding="utf-8") as handle:
        state = parse_ledger(handle.read())
    assert state["granted"] == ["a@x", "b@x"] and state["pre_existing"] == ["c@x"]


@pytest.mark.parametrize("text, words", [
    (ledger(read("a@x", [])) + "garbage\n" + json.dumps(read("b@x", [])) + "\n", ["corrupt at line 3"]),
    ('{"event": "read"}\n', ["campaign header"]),
    ("", ["campaign header"]),
    (ledger().replace('"version": 1', '"version": 9'), ["version 9"]),
])
def test_doubtful_ledgers_are_refused(text, words):
    with pytest.raises(LedgerError) as caught:
        parse_ledger(text, path="/srv/ledger.jsonl")
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize("field, value", [("tenant", "fabrikam.onmicrosoft.com"), ("delegate", "someone@else")])
def test_another_campaigns_ledger_is_refused(field, value):
    with pytest.raises(LedgerError) as caught:
        parse_ledger(ledger(), **{field: value})
    assert "refusing to use another campaign's ledger" in str(caught.value)
    assert value in str(caught.value)


def test_owner_check_ignores_case():
    assert parse_ledger(ledger(), tenant="CONTOSO.onmicrosoft.com", delegate="Archive.Admin@contoso.onmicrosoft.com")


def test_pack_round_trip_is_small():
    mailboxes = ["user%05d@contoso.onmicrosoft.com" % i for i in range(50000)]
    packed = pack_mailboxes(reversed(mailboxes))
    assert packed.startswith("xz64:")
    assert len(packed) < 100000
    assert unpack_mailboxes(packed) == mailboxes
    assert unpack_mailboxes("") == []


@pytest.mark.parametrize("packed", ["gz:abc", "xz64:not-base64!", "xz64:aGVsbG8="])
def test_corrupt_packs_are_refused(packed):
    with pytest.raises(LedgerError):
        unpack_mailboxes(packed)
