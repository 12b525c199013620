# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The archive-access campaign ledger, and its compact form for AWX artifacts.

The ledger is the journal of mailbox_permission (JSON Lines) after one header
line written by the archive_access role. A mailbox counts as *pre-existing* when
the first time the campaign read it, the delegate already held every campaign
right explicitly; every other mailbox the campaign read is *granted* by the
campaign, even if the run that granted it was killed before it could say so.
"""

import base64
import json
import lzma

LEDGER_VERSION = 1
PACK_PREFIX = "xz64:"


class LedgerError(ValueError):
    """The ledger cannot be trusted; nothing may be changed on its basis."""


def campaign_header(tenant, delegate, access_rights, created, campaign_id):
    return {"event": "campaign", "version": LEDGER_VERSION, "tenant": tenant, "delegate": delegate,
            "access_rights": sorted(access_rights), "created": created, "id": campaign_id}


def parse_ledger(text, path="ledger", tenant=None, delegate=None):
    """Read a ledger and tell pre-existing from granted mailboxes; refuse anything doubtful."""
    events = _events(text, path)
    if not events or events[0].get("event") != "campaign":
        raise LedgerError("%s does not start with a campaign header: it is not an archive-access ledger" % path)
    header = events[0]
    if header.get("version") != LEDGER_VERSION:
        raise LedgerError("%s has ledger version %r; this collection reads version %d" % (
            path, header.get("version"), LEDGER_VERSION))
    _check_owner(header, path, "tenant", tenant)
    _check_owner(header, path, "delegate", delegate)
    rights = set(header.get("access_rights") or ["FullAccess"])
    first_read = {}
    revoked = set()
    closed = False
    for event in events[1:]:
        kind = event.get("event")
        key = str(event.get("mailbox", "")).lower()
        if kind == "read" and event.get("state") == "present" and key not in first_read:
            first_read[key] = (event["mailbox"], rights.issubset(event.get("rights") or []))
        elif kind == "write" and event.get("state") == "absent" and event.get("action") == "removed":
            revoked.add(key)
        elif kind == "closed":
            closed = True
    return {
        "header": header,
        "pre_existing": sorted(mailbox for mailbox, held in first_read.values() if held),
        "granted": sorted(mailbox for mailbox, held in first_read.values() if not held),
        "revoked": sorted(first_read[key][0] for key in revoked if key in first_read),
        "closed": closed,
    }


def _events(text, path):
    lines = (text or "").split("\n")
    events = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            if _torn(line):
                # a line cut short by a kill inside an append; the writes it announced never started
                continue
            raise LedgerError("%s is corrupt at line %d: not JSON. Restore it from a backup or move it away and use "
                              "the revoke option for all of the delegate's access" % (path, number))
        if not isinstance(event, dict):
            raise LedgerError("%s is corrupt at line %d: not a JSON object" % (path, number))
        events.append(event)
    return events


def _torn(line):
    """A journal line cut short: the start of a JSON object that never got its end."""
    return line.startswith('{"') and not line.rstrip().endswith("}")


def _check_owner(header, path, field, expected):
    if expected and str(header.get(field, "")).lower() != str(expected).lower():
        raise LedgerError("%s belongs to %s '%s', not '%s': refusing to use another campaign's ledger" % (
            path, field, header.get(field), expected))


def pack_mailboxes(mailboxes):
    """A compact text form of a mailbox list (xz + base64): ~2 bytes per address at 50,000 addresses."""
    data = "\n".join(sorted(set(mailboxes))).encode("utf-8")
    return PACK_PREFIX + base64.b64encode(lzma.compress(data, preset=9)).decode("ascii")


def unpack_mailboxes(packed):
    if not packed:
        return []
    if not packed.startswith(PACK_PREFIX):
        raise LedgerError("the packed mailbox list does not start with '%s'" % PACK_PREFIX)
    try:
        data = lzma.decompress(base64.b64decode(packed[len(PACK_PREFIX):]))
    except (ValueError, lzma.LZMAError):
        raise LedgerError("the packed mailbox list is corrupt")
    return [line for line in data.decode("utf-8").split("\n") if line]
