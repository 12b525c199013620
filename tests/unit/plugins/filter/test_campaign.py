# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The campaign filters: ledger problems become AnsibleFilterError; scope and report rows are computed right."""

import csv
import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.m365.exchange.plugins.filter.campaign import FilterModule

FILTERS = FilterModule().filters()


def test_filters_are_registered():
    assert sorted(FILTERS) == ["archive_ledger", "archive_report", "archive_scope", "pack_mailboxes",
                               "unpack_mailboxes"]


def test_a_corrupt_ledger_fails_the_task_with_its_path():
    with pytest.raises(AnsibleFilterError) as caught:
        FILTERS["archive_ledger"]("not json\n{}\n", path="/srv/ledger.jsonl")
    assert "/srv/ledger.jsonl" in str(caught.value)


def test_pack_rejects_a_string():
    with pytest.raises(AnsibleFilterError):
        FILTERS["pack_mailboxes"]("a@x")


def test_unpack_round_trip():
    assert FILTERS["unpack_mailboxes"](FILTERS["pack_mailboxes"](["b@x", "a@x", "a@x"])) == ["a@x", "b@x"]


def mailbox(address, guid, count=None, permissions=None):
    record = {"primary_smtp_address": address, "guid": guid}
    if count is not None:
        record["permission_count"] = count
    if permissions is not None:
        record["permissions"] = permissions
    return record


def entry(rights, is_inherited=False, deny=False):
    return {"user": "archive.admin@contoso.com", "access_rights": rights, "is_inherited": is_inherited, "deny": deny}


def test_archive_scope_leaves_out_exclusions_and_finds_full_acls():
    mailboxes = [mailbox("a@x", "G-1", 12), mailbox("b@x", "g-2", 500), mailbox("c@x", "g-3", 499),
                 mailbox("d@x", "g-4", 731), mailbox("e@x", "g-5")]
    split = FILTERS["archive_scope"](mailboxes, exclude=["g-1", "G-4"])
    assert split == {"in_scope": ["b@x", "c@x", "e@x"], "acl_full": ["b@x"], "holders": []}
    assert FILTERS["archive_scope"](mailboxes, acl_limit=13)["acl_full"] == ["b@x", "c@x", "d@x"]


def test_archive_scope_holders_have_explicit_allowed_full_access():
    mailboxes = [
        mailbox("held@x", "1", permissions=[entry(["ReadPermission"]), entry(["FullAccess", "DeleteItem"])]),
        mailbox("inherited@x", "2", permissions=[entry(["FullAccess"], is_inherited=True)]),
        mailbox("denied@x", "3", permissions=[entry(["FullAccess"], deny=True)]),
        mailbox("other-right@x", "4", permissions=[entry(["ReadPermission"])]),
        mailbox("none@x", "5", permissions=[]),
    ]
    assert FILTERS["archive_scope"](mailboxes)["holders"] == ["held@x"]


def test_archive_scope_names_what_it_expects():
    with pytest.raises(AnsibleFilterError, match="the mailboxes list of mailbox_info, got dict"):
        FILTERS["archive_scope"]({"mailboxes": []})


def write_chunks(tmp_path, *chunks):
    """Chunk records as the role keeps them: each chunk's results in a JSON file, with the chunk's time."""
    records = []
    for index, (at, results) in enumerate(chunks):
        part = tmp_path / ("chunk-%05d.json" % index)
        part.write_text(json.dumps(results), encoding="utf-8")
        records.append({"part": str(part), "at": at, "count": len(results)})
    return records


ADDED = {"identity": "anna@x", "primary_smtp_address": "anna@x", "action": "added", "before": [],
         "after": ["FullAccess"]}
FAILED = {"identity": 'odd "name"@x', "primary_smtp_address": None, "action": "failed", "before": ["ReadPermission"],
          "after": ["ReadPermission"], "error": "ACL limit, reached"}
UNCHANGED = {"identity": "ceo@x", "primary_smtp_address": "ceo@x", "action": "unchanged",
             "before": ["FullAccess", "ReadPermission"], "after": ["FullAccess", "ReadPermission"]}


def test_archive_report_csv_quotes_every_field_in_chunk_order(tmp_path):
    chunks = write_chunks(tmp_path, ("T1", [ADDED, FAILED]), ("T2", [UNCHANGED]))
    text = FILTERS["archive_report"](chunks, "csv")
    assert text.splitlines()[:2] == ["mailbox,action,before,after,time,error",
                                     '"anna@x","added","","FullAccess","T1",""']
    assert list(csv.reader(text.splitlines()[1:])) == [
        ["anna@x", "added", "", "FullAccess", "T1", ""],
        ['odd "name"@x', "failed", "ReadPermission", "ReadPermission", "T1", "ACL limit, reached"],
        ["ceo@x", "unchanged", "FullAccess ReadPermission", "FullAccess ReadPermission", "T2", ""],
    ]


def test_archive_report_json_rows_make_a_list(tmp_path):
    chunks = write_chunks(tmp_path, ("T1", [ADDED]), ("T2", []), ("T3", [FAILED]))
    rows = json.loads("[%s]" % FILTERS["archive_report"](chunks, "json"))
    assert rows == [
        {"mailbox": "anna@x", "action": "added", "before": [], "after": ["FullAccess"], "time": "T1", "error": None},
        {"mailbox": 'odd "name"@x', "action": "failed", "before": ["ReadPermission"], "after": ["ReadPermission"],
         "time": "T3", "error": "ACL limit, reached"},
    ]
    assert FILTERS["archive_report"]([], "json") == ""


def test_archive_report_names_a_missing_chunk_file_and_a_wrong_format(tmp_path):
    with pytest.raises(AnsibleFilterError, match="chunk-00007.json"):
        FILTERS["archive_report"]([{"part": str(tmp_path / "chunk-00007.json"), "at": "T"}])
    with pytest.raises(AnsibleFilterError, match="writes csv or json, not 'html'"):
        FILTERS["archive_report"]([], "html")
