# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The campaign filters: ledger problems become AnsibleFilterError; the ledger's summary; packing."""

import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.m365.exchange.plugins.filter.campaign import FilterModule
from ansible_collections.m365.exchange.plugins.plugin_utils._ledger import campaign_header

FILTERS = FilterModule().filters()


def test_filters_are_registered():
    assert sorted(FILTERS) == ["archive_ledger", "pack_mailboxes", "unpack_mailboxes"]


def test_a_corrupt_ledger_fails_the_task_with_its_path():
    with pytest.raises(AnsibleFilterError) as caught:
        FILTERS["archive_ledger"]("not json\n{}\n", path="/srv/ledger.jsonl")
    assert "/srv/ledger.jsonl" in str(caught.value)


def test_the_ledger_summary_names_ids_and_their_addresses():
    header = campaign_header("contoso", {"primary_smtp_address": "a@x", "guid": "g", "external_directory_object_id": "e"},
                             ["FullAccess"], "c1")
    lines = [header, {"event": "mailbox", "id": "m1", "address": "anna@x"},
             {"event": "read", "state": "present", "mailbox": "m1", "rights": []},
             {"event": "write", "state": "present", "mailbox": "m1", "action": "added"}]
    summary = FILTERS["archive_ledger"]("".join(json.dumps(line) + "\n" for line in lines), tenant="CONTOSO",
                                        delegate="A@X")
    assert summary["granted"] == ["m1"] and summary["open"] == ["m1"] and summary["addresses"] == {"m1": "anna@x"}
    assert summary["counts"]["granted"] == 1 and not summary["closed"]


def test_pack_rejects_a_string():
    with pytest.raises(AnsibleFilterError):
        FILTERS["pack_mailboxes"]("a@x")


def test_unpack_round_trip():
    assert FILTERS["unpack_mailboxes"](FILTERS["pack_mailboxes"](["b@x", "a@x", "a@x"])) == ["a@x", "b@x"]
    with pytest.raises(AnsibleFilterError):
        FILTERS["unpack_mailboxes"]("xz64:broken")
