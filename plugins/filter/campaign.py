# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the archive-access campaign: read a ledger, pack and unpack mailbox lists (the ledger format and its
reader are in plugin_utils/_ledger.py). Their documentation is in the YAML files of the same names beside this
file."""

from ansible.errors import AnsibleFilterError

from ansible_collections.m365.exchange.plugins.plugin_utils._ledger import (
    LedgerError,
    pack_mailboxes as _pack,
    parse_ledger,
    unpack_mailboxes as _unpack,
)


def archive_ledger(text, tenant=None, delegate=None, path="the ledger"):
    try:
        return parse_ledger(text, path=path, tenant=tenant, delegate=delegate).summary()
    except LedgerError as exc:
        raise AnsibleFilterError(str(exc))


def pack_mailboxes(mailboxes):
    if not isinstance(mailboxes, (list, tuple)):
        raise AnsibleFilterError("pack_mailboxes expects a list of mailbox addresses or IDs, got %s"
                                 % type(mailboxes).__name__)
    return _pack(str(mailbox) for mailbox in mailboxes)


def unpack_mailboxes(packed):
    try:
        return _unpack(packed)
    except LedgerError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {
            "archive_ledger": archive_ledger,
            "pack_mailboxes": pack_mailboxes,
            "unpack_mailboxes": unpack_mailboxes,
        }
