# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the remove_user_delegations and restore_user_delegations playbooks: read the ledger, find where a
user holds delegations, write the reports. The ledger's format and reader are in
plugins/plugin_utils/_delegation_ledger.py; the documentation of each filter is in the YAML file of its name."""

from ansible.errors import AnsibleFilterError

from ansible_collections.m365.exchange.plugins.plugin_utils._delegation_ledger import (
    DelegationLedgerError,
    holders,
    parse_ledger,
    report_text,
)

REPORT_FORMATS = ("csv", "json")


def delegation_ledger(text, tenant=None, user=None, path="the ledger"):
    try:
        return parse_ledger(text, path=path, tenant=tenant, user=user)
    except DelegationLedgerError as exc:
        raise AnsibleFilterError(str(exc))


def delegation_holders(mailboxes, folders=None):
    if not isinstance(mailboxes, (list, tuple)):
        raise AnsibleFilterError("delegation_holders expects the mailboxes list of mailbox_info, got %s"
                                 % type(mailboxes).__name__)
    return holders(mailboxes, folders)


def delegation_report(runs, report_format="csv"):
    if report_format not in REPORT_FORMATS:
        raise AnsibleFilterError("delegation_report: report_format %r is not one of %s" % (
            report_format, ", ".join(REPORT_FORMATS)))
    return report_text(runs, report_format)


class FilterModule:
    def filters(self):
        return {
            "delegation_ledger": delegation_ledger,
            "delegation_holders": delegation_holders,
            "delegation_report": delegation_report,
        }
