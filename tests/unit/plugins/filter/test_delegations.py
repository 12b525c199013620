# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters of the user-delegations playbooks: errors become Ansible filter errors naming the problem."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.m365.exchange.plugins.filter.delegations import (
    FilterModule,
    delegation_holders,
    delegation_ledger,
    delegation_report,
)


def test_the_filters_are_registered():
    assert sorted(FilterModule().filters()) == ["delegation_holders", "delegation_ledger", "delegation_report"]


def test_a_doubtful_ledger_is_a_filter_error_naming_the_path():
    with pytest.raises(AnsibleFilterError, match="/srv/l.jsonl does not start with a user-delegations header"):
        delegation_ledger('{"event": "campaign"}\n', path="/srv/l.jsonl")


def test_bad_input_of_the_other_filters():
    with pytest.raises(AnsibleFilterError, match="expects the mailboxes list of mailbox_info, got dict"):
        delegation_holders({"mailboxes": []})
    with pytest.raises(AnsibleFilterError, match="report_format 'xml' is not one of csv, json"):
        delegation_report([], "xml")
