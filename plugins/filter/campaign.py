# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the archive-access campaign: split a scope, read a ledger, pack and unpack mailbox lists, write
the rows of a run's reports.

Their documentation is in the YAML files of the same names beside this file.
"""

import csv
import io
import json

from ansible.errors import AnsibleFilterError

from ansible_collections.m365.exchange.plugins.module_utils._ledger import (
    LedgerError,
    pack_mailboxes as _pack,
    parse_ledger,
    unpack_mailboxes as _unpack,
)

ACL_LIMIT = 500
REPORT_FORMATS = ("csv", "json")
CSV_HEADER = "mailbox,action,before,after,time,error\n"


def archive_scope(mailboxes, exclude=None, acl_limit=ACL_LIMIT):
    # In Python because the Jinja equivalent took a minute over 100,000 records.
    if not isinstance(mailboxes, (list, tuple)):
        raise AnsibleFilterError("archive_scope expects the mailboxes list of mailbox_info, got %s"
                                 % type(mailboxes).__name__)
    excluded = set(str(guid).lower() for guid in exclude or [])
    in_scope, acl_full, holders = [], [], []
    for mailbox in mailboxes:
        if str(mailbox.get("guid", "")).lower() in excluded:
            continue
        address = mailbox["primary_smtp_address"]
        in_scope.append(address)
        if mailbox.get("permission_count") is not None and mailbox["permission_count"] >= acl_limit:
            acl_full.append(address)
        if any(_explicit_full_access(entry) for entry in mailbox.get("permissions") or []):
            holders.append(address)
    return {"in_scope": in_scope, "acl_full": acl_full, "holders": holders}


def _explicit_full_access(entry):
    return not entry.get("is_inherited") and not entry.get("deny") and "FullAccess" in (entry.get("access_rights") or [])


def archive_ledger(text, tenant=None, delegate=None, path="the ledger"):
    try:
        return parse_ledger(text, path=path, tenant=tenant, delegate=delegate)
    except LedgerError as exc:
        raise AnsibleFilterError(str(exc))


def pack_mailboxes(mailboxes):
    if not isinstance(mailboxes, (list, tuple)):
        raise AnsibleFilterError("pack_mailboxes expects a list of mailbox addresses, got %s" % type(mailboxes).__name__)
    return _pack(str(mailbox) for mailbox in mailboxes)


def unpack_mailboxes(packed):
    try:
        return _unpack(packed)
    except LedgerError as exc:
        raise AnsibleFilterError(str(exc))


def archive_report(chunks, report_format="csv"):
    # In Python because Jinja took a minute and a half over 100,000 rows.
    if report_format not in REPORT_FORMATS:
        raise AnsibleFilterError("archive_report writes %s, not %r" % (" or ".join(REPORT_FORMATS), report_format))
    rows = _report_rows(chunks)
    if report_format == "json":
        return ",\n".join(json.dumps(row, sort_keys=True) for row in rows)
    text = io.StringIO()
    text.write(CSV_HEADER)
    writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for row in rows:
        writer.writerow([row["mailbox"], row["action"], " ".join(row["before"]), " ".join(row["after"]),
                         row["time"], row["error"] or ""])
    return text.getvalue()


def _report_rows(chunks):
    """The rows of every chunk's results file, in order, with the chunk's time."""
    for chunk in chunks:
        for result in _read_part(chunk["part"]):
            yield {"mailbox": result["identity"], "action": result["action"], "before": result.get("before") or [],
                   "after": result.get("after") or [], "time": chunk["at"], "error": result.get("error")}


def _read_part(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise AnsibleFilterError("cannot read the chunk results %s for the report: %s" % (path, exc))


class FilterModule:
    def filters(self):
        return {
            "archive_report": archive_report,
            "archive_scope": archive_scope,
            "archive_ledger": archive_ledger,
            "pack_mailboxes": pack_mailboxes,
            "unpack_mailboxes": unpack_mailboxes,
        }
