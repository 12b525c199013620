# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The campaign ledger: mailboxes by ID, pre-existing vs granted from the first read, settled and open grants,
the delegate by its object, refusal of doubtful ledgers, the writer, packing."""

import json
import os
import stat

import pytest

from ansible_collections.m365.exchange.plugins.module_utils._journal import Journal
from ansible_collections.m365.exchange.plugins.plugin_utils._ledger import (
    LedgerError,
    LedgerWriter,
    campaign_header,
    mailbox_id,
    pack_mailboxes,
    parse_ledger,
    read_ledger,
    unpack_mailboxes,
)

DELEGATE = {"primary_smtp_address": "archive.admin@contoso.onmicrosoft.com", "guid": "AAAA-1",
            "external_directory_object_id": "EEEE-1"}
HEADER = campaign_header("Contoso.onmicrosoft.com", DELEGATE, ["FullAccess"], "c1", "2026-11-22T10:00:00Z")


def read(mailbox, rights, state="present"):
    return {"event": "read", "state": state, "mailbox": mailbox, "rights": rights, "trustee_guid": "aaaa-1"}


def write(mailbox, action, state="present"):
    return {"event": "write", "state": state, "mailbox": mailbox, "action": action, "trustee_guid": "aaaa-1"}


def ledger(*events, tail=""):
    return "".join(json.dumps(event) + "\n" for event in (HEADER,) + events) + tail


def ids(mailboxes):
    return sorted(m.id for m in mailboxes)


def test_mailboxes_are_known_by_their_directory_object_id():
    assert mailbox_id({"external_directory_object_id": "7CDB-X", "guid": "9FEB"}) == "7cdb-x"
    assert mailbox_id({"external_directory_object_id": None, "guid": "9FEB"}) == "9feb"
    assert HEADER["delegate_id"] == "eeee-1" and HEADER["delegate_guid"] == "aaaa-1"
    assert HEADER["tenant"] == "contoso.onmicrosoft.com"


def test_first_read_decides_pre_existing_even_after_a_killed_run():
    state = parse_ledger(ledger(
        {"event": "mailbox", "id": "ID-CEO", "address": "ceo@x"},
        read("id-ceo", ["FullAccess"]),           # held before the campaign
        read("id-info", []), write("id-info", "added"),
        read("id-support", []),                   # killed after the server applied the grant, before 'write'
        read("id-support", ["FullAccess"]),       # the rerun sees the access: still granted by the campaign
        read("id-full", []), write("id-full", "skipped"),   # at the ACL limit: never written
        read("id-ceo", ["FullAccess"]),
    ))
    assert ids(state.pre_existing()) == ["id-ceo"]
    assert ids(state.granted()) == ["id-info", "id-support"]
    assert state.mailboxes["id-ceo"].name == "ceo@x" and state.mailboxes["id-info"].name == "id-info"
    assert state.closed is None


def test_a_revoke_settles_removed_gone_and_empty_mailboxes_only():
    state = parse_ledger(ledger(
        read("a", []), write("a", "added"), read("b", []), write("b", "added"), read("c", []), write("c", "added"),
        read("d", []), write("d", "added"), read("e", []), write("e", "added"),
        read("a", ["FullAccess"], "absent"), write("a", "removed", "absent"),
        read("b", [], "absent"),                      # someone removed it already: nothing left
        write("c", "gone", "absent"),                 # deleted, or turned into a mail user
        read("d", ["FullAccess"], "absent"),          # killed before the write line: still open
        read("e", ["FullAccess"], "absent"), write("e", "failed", "absent"),
    ))
    assert ids(state.open()) == ["d", "e"]
    assert state.counts() == {"pre_existing": 0, "granted": 5, "removed": 2, "gone": 1, "open": 2}


def test_a_grant_after_a_revoke_opens_the_mailbox_again():
    state = parse_ledger(ledger(read("a", []), write("a", "added"), read("a", ["FullAccess"], "absent"),
                                write("a", "removed", "absent"), read("a", []), write("a", "added")))
    assert ids(state.open()) == ["a"]


def test_a_mailbox_renamed_keeps_its_story_under_its_id():
    state = parse_ledger(ledger({"event": "mailbox", "id": "x1", "address": "old@x"}, read("X1", []),
                                write("x1", "added"), {"event": "mailbox", "id": "x1", "address": "new@x"}))
    assert state.mailboxes["x1"].address == "new@x" and ids(state.open()) == ["x1"]


def test_closed_and_runs_are_read():
    state = parse_ledger(ledger({"event": "run", "run": "r1", "action": "grant"}, {"event": "closed", "at": "T"}))
    assert state.closed == {"event": "closed", "at": "T"} and [r["run"] for r in state.runs] == ["r1"]
    assert state.summary()["closed"] and state.summary()["closed_at"] == "T"


def test_an_incomplete_last_line_is_ignored():
    assert ids(parse_ledger(ledger(read("a", []), tail='{"event": "read", "state": "pres')).granted()) == ["a"]


def test_a_torn_line_followed_by_later_appends_is_skipped(tmp_path):
    path = str(tmp_path / "ledger.jsonl")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(ledger(read("a", [])) + '{"event": "read", "state": "present", "mailbox": "b')
    Journal(path).append([read("b", []), read("c", ["FullAccess"])])
    state = read_ledger(path)
    assert ids(state.granted()) == ["a", "b"] and ids(state.pre_existing()) == ["c"]


@pytest.mark.parametrize("text, words", [
    (ledger(read("a", [])) + "garbage\n" + json.dumps(read("b", [])) + "\n", ["corrupt at line 3"]),
    (ledger(read("a", [])) + "[1]\n", ["line 3: not a JSON object"]),
    ('{"event": "read"}\n', ["campaign header"]),
    ("", ["campaign header"]),
    (ledger().replace('"version": 2', '"version": 1'), ["version 1", "reads version 2"]),
    (ledger(dict(read("a", []), trustee="helpdesk@x", trustee_guid="other")), ["line 2 records access of helpdesk@x"]),
])
def test_doubtful_ledgers_are_refused(text, words):
    with pytest.raises(LedgerError) as caught:
        parse_ledger(text, path="/srv/ledger.jsonl")
    for word in ["/srv/ledger.jsonl"] + words:
        assert word in str(caught.value)


def test_bytes_that_are_not_text_are_refused(tmp_path):
    path = tmp_path / "l.jsonl"
    path.write_bytes(ledger().encode("utf-8") + b"\xff\xfe\n")
    with pytest.raises(LedgerError, match="corrupt at line 2: not text"):
        read_ledger(str(path))
    assert read_ledger(str(tmp_path / "none.jsonl")) is None


@pytest.mark.parametrize("owner, value", [
    ({"tenant": "fabrikam.onmicrosoft.com"}, "fabrikam.onmicrosoft.com"),
    ({"delegate": "someone@else"}, "someone@else"),
    ({"delegate": {"primary_smtp_address": "archive.admin@contoso.onmicrosoft.com", "guid": "other",
                   "external_directory_object_id": "other-too"}}, "archive.admin@contoso.onmicrosoft.com"),
])
def test_another_campaigns_ledger_is_refused(owner, value):
    with pytest.raises(LedgerError) as caught:
        parse_ledger(ledger(), **owner)
    assert "refusing to use another campaign's ledger" in str(caught.value) and value in str(caught.value)


def test_the_delegate_is_matched_by_its_object_or_without_letter_case():
    renamed = dict(DELEGATE, primary_smtp_address="archive.renamed@contoso.onmicrosoft.com", guid="AAAA-1")
    assert parse_ledger(ledger(), tenant="CONTOSO.onmicrosoft.com", delegate=renamed)
    assert parse_ledger(ledger(), delegate="Archive.Admin@CONTOSO.onmicrosoft.com")


def test_the_writer_creates_a_private_ledger_and_appends_after_a_torn_line(tmp_path):
    path = str(tmp_path / "new" / "dir" / "c.ledger.jsonl")
    writer = LedgerWriter(path)
    writer.create(HEADER)
    with pytest.raises(LedgerError, match="appeared"):
        writer.create(HEADER)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"event": "read", "mail')
    writer.append([{"event": "mailbox", "id": "x", "address": "x@y"}])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert read_ledger(path).mailboxes["x"].address == "x@y"
    aside = writer.set_aside("20261201T000000Z")
    assert aside.endswith(".closed-20261201T000000Z") and not os.path.exists(path)


def test_pack_round_trip_is_small():
    mailboxes = ["user%05d@contoso.onmicrosoft.com" % i for i in range(50000)]
    packed = pack_mailboxes(reversed(mailboxes))
    assert packed.startswith("xz64:") and len(packed) < 100000
    assert unpack_mailboxes(packed) == mailboxes
    assert unpack_mailboxes("") == []


@pytest.mark.parametrize("packed", ["gz:abc", "xz64:not-base64!", "xz64:aGVsbG8=", 42])
def test_corrupt_packs_are_refused(packed):
    with pytest.raises(LedgerError):
        unpack_mailboxes(packed)
