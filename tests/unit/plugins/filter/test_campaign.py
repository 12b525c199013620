# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The campaign filters turn ledger problems into AnsibleFilterError."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.m365.exchange.plugins.filter.campaign import FilterModule

FILTERS = FilterModule().filters()


def test_filters_are_registered():
    assert sorted(FILTERS) == ["archive_ledger", "archive_scope", "pack_mailboxes", "unpack_mailboxes"]


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
