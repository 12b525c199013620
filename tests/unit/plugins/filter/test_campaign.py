# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The campaign filters turn ledger problems into AnsibleFilterError."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.m365.exchange.plugins.filter.campaign import FilterModule

FILTERS = FilterModule().filters()


def test_filters_are_registered():
    assert sorted(FILTERS) == ["archive_ledger", "pack_mailboxes", "unpack_mailboxes"]


def test_a_corrupt_ledger_fails_the_task_with_its_path():
    with pytest.raises(AnsibleFilterError) as caught:
        FILTERS["archive_ledger"]("not json\n{}\n", path="/srv/ledger.jsonl")
    assert "/srv/ledger.jsonl" in str(caught.value)


def test_pack_rejects_a_string():
    with pytest.raises(AnsibleFilterError):
        FILTERS["pack_mailboxes"]("a@x")


def test_unpack_round_trip():
    assert FILTERS["unpack_mailboxes"](FILTERS["pack_mailboxes"](["b@x", "a@x", "a@x"])) == ["a@x", "b@x"]
