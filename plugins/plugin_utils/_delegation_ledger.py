# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ledger of a user's delegations removed by playbooks/remove_user_delegations.yml, and its reader.

Format (JSON Lines, mode 0600):

1. a header written by the playbook before any change:
   ``{"event": "user_delegations", "version": 1, "tenant": ..., "user": ..., "created": ..., "id": ...}``;
2. the journal lines of the modules that remove the delegations (mailbox_permission, recipient_permission,
   mailbox_send_on_behalf, mailbox_folder_permission with ``journal=`` the ledger): ``event`` read (the state before
   any write, written before the writes) or write (the outcome), ``state``, ``mailbox``, ``rights``, ``action``,
   ``trustee``, ``trustee_guid``, ``kind`` (send_as, send_on_behalf, folder; mailbox_permission lines have none)
   and, for folders, ``folder``;
3. the journal lines of a restore (``state`` present), then ``{"event": "restored", "at": ...}`` once a restore
   finished without failure.

What the user held on a mailbox is the first read of that mailbox (per kind and folder) after the last
``restored`` line: a removal that was killed before it could write its outcome still restores what its read saw,
and a rerun of the removal (which reads what is left) does not hide it. A line cut short by a kill inside an
append is skipped; any other line that is not JSON makes the ledger untrustworthy, and nothing is restored.
"""

import csv
import io
import json

from ansible_collections.m365.exchange.plugins.module_utils._journal import read_events

LEDGER_VERSION = 1
HEADER_EVENT = "user_delegations"
RESTORED_EVENT = "restored"
KINDS = ("mailbox_permission", "send_as", "send_on_behalf", "folder")
FOLDER_FLAGS = ("Delegate", "CanViewPrivateItems")
REPORT_FIELDS = ("kind", "mailbox", "folder", "action", "before", "after", "error")


class DelegationLedgerError(ValueError):
    """The ledger cannot be trusted; nothing may be changed on its basis."""


def ledger_header(tenant, user, created, ledger_id):
    return {"event": HEADER_EVENT, "version": LEDGER_VERSION, "tenant": tenant, "user": user, "created": created,
            "id": ledger_id}


def kind_of(event):
    return event.get("kind") or "mailbox_permission"


def parse_ledger(text, path="the ledger", tenant=None, user=None):
    """What the ledger says: the header, what the user held (to restore), what was removed and restored."""
    events = _events(text, path)
    if not events or events[0].get("event") != HEADER_EVENT:
        raise DelegationLedgerError("%s does not start with a user-delegations header: it is not a ledger of "
                                    "remove_user_delegations" % path)
    header = events[0]
    if header.get("version") != LEDGER_VERSION:
        raise DelegationLedgerError("%s has ledger version %r; this collection reads version %d" % (
            path, header.get("version"), LEDGER_VERSION))
    _check(header, path, "tenant", tenant)
    _check(header, path, "user", user)
    since = max([i for i, e in enumerate(events) if e.get("event") == RESTORED_EVENT] or [0])
    _check_trustee(events[1:], path)
    held = {}
    removed = set()
    restored = set()
    for event in events[1:]:
        if event.get("event") not in ("read", "write") or not event.get("mailbox"):
            continue
        key = (kind_of(event), event.get("folder") or "", str(event["mailbox"]).lower())
        if event["event"] == "write" and event.get("state") == "present" and event.get("action") in ("added", "changed"):
            restored.add(key)
    for event in events[since + 1:]:
        if event.get("event") not in ("read", "write") or not event.get("mailbox") or event.get("state") != "absent":
            continue
        key = (kind_of(event), event.get("folder") or "", str(event["mailbox"]).lower())
        if event["event"] == "read" and key not in held:
            held[key] = (event["mailbox"], list(event.get("rights") or []))
        elif event["event"] == "write" and event.get("action") == "removed":
            removed.add(key)
    holdings = [_holding(key, mailbox, rights) for key, (mailbox, rights) in held.items() if rights]
    summary = dict((kind, 0) for kind in KINDS)
    for holding in holdings:
        summary[holding["kind"]] += 1
    return {
        "header": header,
        "held": holdings,
        "removed": sorted(_described(key) for key in removed),
        "restored": sorted(_described(key) for key in restored),
        "closed": since > 0 and since == len(events) - 1,  # restored, and nothing removed since
        "summary": summary,
        "restore": restore_groups(holdings),
    }


def _holding(key, mailbox, rights):
    kind, folder, _lower = key
    holding = {"kind": kind, "folder": folder or None, "mailbox": mailbox, "access_rights": rights,
               "sharing_permission_flags": []}
    if kind == "folder":
        holding["access_rights"] = [r for r in rights if r not in FOLDER_FLAGS]
        holding["sharing_permission_flags"] = [r for r in rights if r in FOLDER_FLAGS]
    return holding


def _described(key):
    kind, folder, mailbox = key
    return "%s %s%s" % (kind, mailbox, " (%s)" % folder if folder else "")


def restore_groups(holdings):
    """One group per module call: the same kind, folder, rights and flags; mailboxes in ledger order."""
    groups = {}
    for holding in holdings:
        key = (holding["kind"], holding["folder"] or "", tuple(holding["access_rights"]),
               tuple(holding["sharing_permission_flags"]))
        group = groups.setdefault(key, {"kind": holding["kind"], "folder": holding["folder"],
                                        "access_rights": holding["access_rights"],
                                        "sharing_permission_flags": holding["sharing_permission_flags"],
                                        "identities": []})
        group["identities"].append(holding["mailbox"])
    return sorted(groups.values(), key=lambda g: (KINDS.index(g["kind"]), g["folder"] or "", g["access_rights"]))


def holders(mailboxes, folders=None):
    """From mailbox_info (permission_user and include_* set): the mailboxes where the user holds each kind.

    {"mailbox_permission": [...], "send_as": [...], "send_on_behalf": [...], "folder": {folder: [...]}}. Inherited
    and deny entries are not the user's access and are left out.
    """
    found = {"mailbox_permission": [], "send_as": [], "send_on_behalf": [],
             "folder": dict((folder, []) for folder in folders or [])}
    for mailbox in mailboxes or []:
        address = mailbox.get("primary_smtp_address")
        if any(not e.get("is_inherited") and not e.get("deny") for e in mailbox.get("permissions") or []):
            found["mailbox_permission"].append(address)
        if any(not e.get("deny") for e in mailbox.get("send_as") or []):
            found["send_as"].append(address)
        if mailbox.get("send_on_behalf"):
            found["send_on_behalf"].append(address)
        for entry in mailbox.get("folder_permissions") or []:
            listed = found["folder"].setdefault(entry.get("folder"), [])
            if address not in listed:
                listed.append(address)
    return found


def report_rows(runs):
    """Rows of a removal's or restore's report: every mailbox a module changed, failed, skipped or found gone.

    `runs` is a list of {"kind", "folder", "result"} (result: the module's registered result).
    """
    rows = []
    for run in runs or []:
        for folder, result in _module_results(run):
            for entry in result.get("results") or []:
                if not isinstance(entry, dict) or entry.get("action") == "unchanged":
                    continue
                rows.append({"kind": run.get("kind"), "mailbox": entry.get("identity"), "folder": folder or "",
                             "action": entry.get("action"), "before": " ".join(entry.get("before") or []),
                             "after": " ".join(entry.get("after") or []), "error": entry.get("error") or ""})
            if result.get("failed") and not result.get("results"):
                # the module failed before it had results (a connection or input problem): say so
                rows.append({"kind": run.get("kind"), "mailbox": "", "folder": folder or "", "action": "failed",
                             "before": "", "after": "", "error": result.get("msg") or "the task failed"})
    return rows


def _module_results(run):
    """(folder, module result) of a run: one module result, or the items of a registered loop."""
    result = run.get("result") or {}
    items = result.get("results")
    if isinstance(items, list) and items and isinstance(items[0], dict) and "ansible_loop_var" in items[0]:
        for item in items:
            if item.get("skipped"):
                continue
            loop_item = item.get(item.get("ansible_loop_var") or "item")
            folder = loop_item.get("folder") if isinstance(loop_item, dict) else loop_item
            yield (folder if run.get("kind") == "folder" else None), item
        return
    if result.get("skipped"):
        return
    yield run.get("folder"), result


def report_text(runs, fmt="csv"):
    rows = report_rows(runs)
    if fmt == "json":
        return json.dumps({"rows": rows}, indent=1, sort_keys=True) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REPORT_FIELDS, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _check(header, path, name, expected):
    if expected and str(header.get(name) or "").strip().lower() != str(expected).strip().lower():
        raise DelegationLedgerError("%s belongs to %s %r, not %r: use the ledger of this %s" % (
            path, name, header.get(name), expected, name))


def _check_trustee(events, path):
    guids = set(str(e["trustee_guid"]).lower() for e in events if e.get("trustee_guid"))
    if len(guids) > 1:
        raise DelegationLedgerError("%s holds the journal lines of %d different trustees (%s): it is not one user's "
                                    "ledger; nothing is restored from it" % (path, len(guids), ", ".join(sorted(guids))))


def _events(text, path):
    def corrupt(number, what):
        return DelegationLedgerError("%s is corrupt at line %d: %s. Restore it from a backup; nothing is restored from "
                                     "it" % (path, number, what))
    return [event for _number, event in read_events((text or "").split("\n"), corrupt)]
