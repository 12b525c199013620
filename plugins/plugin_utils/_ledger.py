# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The archive-access campaign ledger: its format, its only reader and the writer of its campaign events.

A ledger is a JSON Lines file (mode 0600, in a 0700 directory). Its lines, in the order they were written:

``campaign`` (first line, once)
    ``version`` (2), ``id``, ``tenant``, ``delegate`` (primary SMTP address), ``delegate_id`` and
    ``delegate_guid`` (the delegate's resolved object: ExternalDirectoryObjectId and Guid), ``access_rights``,
    ``created``.
``mailbox``
    ``id`` (the mailbox's immutable ID, see `mailbox_id`), ``address`` (its primary SMTP address when the
    campaign selected it), ``at``. Written before the first chunk of a grant for every mailbox the ledger did not
    know under that address; a rename shows up as a second line with the new address.
``run``
    ``run`` (its ID), ``action`` (grant, revoke), ``at``, ``targets``: a grant or revoke run started.
``read`` / ``write``
    The journal of `m365.exchange.mailbox_permission` (its ``journal`` option), appended by the module itself:
    ``state``, ``mailbox`` (the identity the role gave: the mailbox's ID), ``trustee``, ``trustee_guid``,
    ``rights``; ``write`` lines also ``action`` (added, removed, skipped, gone, failed). Read lines are written
    before any write of the task, so a ledger read after a crash knows every mailbox a write may have reached.
``closed``
    ``at``, ``run``: a revoke found every mailbox the campaign granted removed or gone. Nothing is appended after
    it; a new grant moves the closed ledger aside and starts a new campaign.

How a mailbox's story is told (`LedgerState`):

* *pre-existing*: the first time the campaign read it (state present), the delegate already held every campaign
  right explicitly. A revoke never touches it.
* *granted*: every other mailbox a grant read, unless the grant's write was not attempted (``skipped``): a grant
  killed between its read and its write line may still have written, so it counts as granted.
* *settled*: after its last grant read, a revoke removed the access (``removed``), found nothing to remove (a read
  without the rights), or found no mailbox any more (``gone``: deleted, or no longer a mailbox).
* *open*: granted and not settled. The campaign closes when no mailbox is open.

Only this module reads ledgers; the role writes its events through the ``m365.exchange.archive_campaign`` action,
which uses `LedgerWriter`; the module's journal lines are the only other lines, and this reader checks that they
are about the campaign's delegate.
"""

import base64
import datetime
import json
import lzma
import os

from ansible_collections.m365.exchange.plugins.module_utils._journal import read_events

LEDGER_VERSION = 2
PACK_PREFIX = "xz64:"

PRESENT = "present"
ABSENT = "absent"


class LedgerError(ValueError):
    """The ledger cannot be trusted; nothing may be changed on its basis."""


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def timestamp(moment=None):
    return (moment or utc_now()).strftime("%Y-%m-%dT%H:%M:%SZ")


def mailbox_id(record):
    """The immutable ID a campaign knows a mailbox by: its ExternalDirectoryObjectId (the Entra object ID), or its
    Guid for an object that has none. Lower case, so that IDs compare as strings.

    Why not the ExchangeGuid: Microsoft's reference for -Identity recommends the user ID (the Entra object ID) or
    the UPN "for the best performance", and the EXO cmdlets take it as a parameter of its own
    (Get-EXOMailboxPermission -ExternalDirectoryObjectId); mailbox_info returns it without an extra property; and
    it stays when a mailbox is turned into a mail user (the ExchangeGuid goes with the mailbox), so the revoke can
    still tell "no longer a mailbox" from "no such object". A mailbox deleted and created again under its address
    gets a new one, so the campaign never touches the new mailbox. The emulator resolves -Identity by all three.
    """
    value = record.get("external_directory_object_id") or record.get("guid") or ""
    return str(value).strip().lower()


def campaign_header(tenant, delegate, access_rights, campaign_id, created=None):
    """The first line of a new ledger. `delegate` is mailbox_info's record of the delegate."""
    return {"event": "campaign", "version": LEDGER_VERSION, "id": campaign_id, "tenant": str(tenant).lower(),
            "delegate": delegate.get("primary_smtp_address"), "delegate_id": mailbox_id(delegate),
            "delegate_guid": str(delegate.get("guid") or "").lower(), "access_rights": sorted(access_rights),
            "created": created or timestamp()}


class Mailbox:
    """What the ledger says about one mailbox."""

    __slots__ = ("id", "address", "pre_existing", "grant", "revoke", "error")

    def __init__(self, ident):
        self.id = ident
        self.address = None
        self.pre_existing = None  # None: no grant ever read it
        self.grant = None  # None, held, pending, added, skipped, failed: what the last grant read or wrote
        self.revoke = None  # None, pending, nothing, removed, gone, skipped, failed: the same for revokes since
        self.error = None

    @property
    def granted(self):
        """Whether the campaign put (or may have put) the delegate's access there."""
        return self.pre_existing is False and self.grant in ("held", "pending", "added", "failed")

    @property
    def settled(self):
        return self.revoke in ("removed", "nothing", "gone")

    @property
    def open(self):
        return self.granted and not self.settled

    @property
    def name(self):
        return self.address or self.id


class LedgerState:
    """A parsed ledger."""

    def __init__(self, header, mailboxes, closed, runs, path):
        self.header = header
        self.mailboxes = mailboxes  # {id: Mailbox}, in the order first seen
        self.closed = closed  # the closed event, or None
        self.runs = runs
        self.path = path

    @property
    def id(self):
        return self.header.get("id")

    def select(self, test):
        return [m for m in self.mailboxes.values() if test(m)]

    def pre_existing(self):
        return self.select(lambda m: m.pre_existing)

    def granted(self):
        return self.select(lambda m: m.granted)

    def open(self):
        return self.select(lambda m: m.open)

    def counts(self):
        granted = self.granted()
        return {"pre_existing": len(self.pre_existing()), "granted": len(granted),
                "removed": sum(1 for m in granted if m.revoke in ("removed", "nothing")),
                "gone": sum(1 for m in granted if m.revoke == "gone"),
                "open": sum(1 for m in granted if not m.settled)}

    def summary(self):
        """A plain dict (the archive_ledger filter's result)."""
        return {
            "header": dict(self.header), "closed": self.closed is not None,
            "closed_at": (self.closed or {}).get("at"),
            "pre_existing": [m.id for m in self.pre_existing()], "granted": [m.id for m in self.granted()],
            "revoked": [m.id for m in self.granted() if m.revoke in ("removed", "nothing")],
            "gone": [m.id for m in self.granted() if m.revoke == "gone"],
            "open": [m.id for m in self.open()],
            "addresses": dict((m.id, m.address) for m in self.mailboxes.values() if m.address),
            "counts": self.counts(),
        }


def read_ledger(path, tenant=None, delegate=None):
    """The ledger at `path`, or None when there is none; LedgerError when it cannot be trusted. Read line by line:
    a ledger of 100,000 mailboxes is some 50 MB of text, of which only the state is kept."""
    try:
        with open(path, "rb") as handle:
            return parse_lines(_decoded(handle, path), path=path, tenant=tenant, delegate=delegate)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LedgerError("cannot read the ledger %s: %s" % (path, exc.strerror))


def _decoded(handle, path):
    for number, data in enumerate(handle, 1):
        try:
            yield data.decode("utf-8")
        except UnicodeDecodeError:
            raise LedgerError("%s is corrupt at line %d: not text (UTF-8). Restore it from a backup; a revoke "
                              "without it would not know which access the campaign added" % (path, number))


def parse_ledger(text, path="the ledger", tenant=None, delegate=None):
    """Read a ledger's text; refuse anything doubtful. `delegate` is mailbox_info's record of the delegate (the
    campaign's delegate is matched by its resolved object) or a string (compared without letter case)."""
    return parse_lines((text or "").split("\n"), path=path, tenant=tenant, delegate=delegate)


def parse_lines(lines, path="the ledger", tenant=None, delegate=None):
    """parse_ledger over an iterable of lines (each line is applied as it is read)."""
    events = _events(lines, path)
    header = read_header(events, path, tenant)
    check_owner(header, path, delegate=delegate)
    rights = set(header.get("access_rights") or ["FullAccess"])
    trustee_guid = str(header.get("delegate_guid") or "").lower()
    mailboxes = {}
    closed = None
    runs = []
    for number, event in events:
        kind = event.get("event")
        if kind in ("read", "write"):
            guid = str(event.get("trustee_guid") or "").lower()
            if trustee_guid and guid and guid != trustee_guid:
                raise LedgerError("%s line %d records access of %s, not of the campaign's delegate %s: another task's "
                                  "journal was written into this ledger. Restore it from a backup" % (
                                      path, number, event.get("trustee") or guid, header.get("delegate")))
            _apply(_entry(mailboxes, event.get("mailbox")), event, rights)
        elif kind == "mailbox":
            entry = _entry(mailboxes, event.get("id"))
            entry.address = event.get("address") or entry.address
        elif kind == "run":
            runs.append(event)
        elif kind == "closed":
            closed = event
    return LedgerState(header, mailboxes, closed, runs, path)


def _entry(mailboxes, ident):
    key = str(ident or "").strip().lower()
    entry = mailboxes.get(key)
    if entry is None:
        entry = mailboxes[key] = Mailbox(key)
    return entry


def _apply(entry, event, rights):
    """One journal line of mailbox_permission, in the order written."""
    held = rights.issubset(event.get("rights") or [])
    state = event.get("state")
    if event.get("event") == "read":
        if state == PRESENT:
            if entry.pre_existing is None:
                entry.pre_existing = held
            entry.grant = "held" if held else "pending"
            entry.revoke = None  # a grant after a revoke: the campaign holds the access again
        elif state == ABSENT and entry.revoke not in ("removed", "gone"):
            entry.revoke = "pending" if held else "nothing"
        return
    action = event.get("action")
    if state == PRESENT and action in ("added", "skipped", "failed"):
        entry.grant = action
        entry.error = event.get("error")
    elif state == ABSENT and action in ("removed", "gone", "skipped", "failed"):
        entry.revoke = action
        entry.error = event.get("error")


def _events(lines, path):
    """(line number, event) of every line that is not empty, as the lines are read."""
    def corrupt(number, what):
        return LedgerError("%s is corrupt at line %d: %s. Restore it from a backup; a revoke without it would not "
                           "know which access the campaign added" % (path, number, what))
    return read_events(lines, corrupt)


def read_header(events, path, tenant=None, method=None, what="an archive-access ledger"):
    """The header of a campaign ledger, the first of `events` (from _events): a campaign of `method` (FullAccess
    headers name none), in the format this collection reads, of this tenant; LedgerError otherwise."""
    first = next(events, None)
    header = first[1] if first is not None else {}
    if header.get("event") != "campaign" or (method and header.get("method") != method):
        raise LedgerError("%s does not start with a campaign header: it is not %s" % (path, what))
    if header.get("version") != LEDGER_VERSION:
        raise LedgerError("%s has ledger version %r; this collection reads version %d (write a new campaign with a "
                          "grant, after revoking the old one with the collection version that wrote it)" % (
                              path, header.get("version"), LEDGER_VERSION))
    check_owner(header, path, tenant)
    return header


def check_owner(header, path, tenant=None, delegate=None):
    """The ledger must be this tenant's and this delegate's (by resolved object, never by the string's case)."""
    if tenant and str(header.get("tenant", "")).lower() != str(tenant).lower():
        raise LedgerError("%s belongs to tenant '%s', not '%s': refusing to use another campaign's ledger" % (
            path, header.get("tenant"), tenant))
    if not delegate:
        return
    if isinstance(delegate, dict):
        ids = set(str(delegate.get(key) or "").lower() for key in ("external_directory_object_id", "guid")) - {""}
        recorded = set(str(header.get(key) or "").lower() for key in ("delegate_id", "delegate_guid")) - {""}
        if ids & recorded:
            return
        given = delegate.get("primary_smtp_address")
    else:
        given = delegate
        if str(header.get("delegate", "")).lower() == str(delegate).lower():
            return
    raise LedgerError("%s belongs to delegate '%s', not '%s': refusing to use another campaign's ledger" % (
        path, header.get("delegate"), given))


class LedgerWriter:
    """Appends the campaign's own events to a ledger, the way the module's journal appends its lines: one write per
    batch, fsync'd, after a newline when the file ends in a line torn by a crash."""

    def __init__(self, path):
        self.path = path

    def create(self, header):
        """A new ledger with its header; its directory is created private (0700) when missing."""
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise LedgerError("%s appeared while a new campaign was being started; run again" % self.path)
        except OSError as exc:
            raise LedgerError("cannot create the ledger %s: %s" % (self.path, exc.strerror))
        try:
            _write_all(fd, json.dumps(header, sort_keys=True) + "\n")
        finally:
            os.close(fd)

    def append(self, events):
        if not events:
            return
        data = "".join(json.dumps(event, sort_keys=True, separators=(",", ":")) + "\n" for event in events)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
        except OSError as exc:
            raise LedgerError("cannot open the ledger %s: %s" % (self.path, exc.strerror))
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = "\n" + data
            _write_all(fd, data)
        finally:
            os.close(fd)

    def set_aside(self, suffix):
        """Rename a closed ledger, so that a new grant starts a new campaign; returns the new path."""
        target = "%s.closed-%s" % (self.path, suffix)
        os.rename(self.path, target)
        return target


def _write_all(fd, text):
    remaining = memoryview(text.encode("utf-8"))
    while remaining:
        remaining = remaining[os.write(fd, remaining):]
    os.fsync(fd)


def pack_mailboxes(mailboxes):
    """A compact text form of a list of strings (xz + base64): about 2 bytes per address at 50,000 addresses,
    about 20 per ID (random GUIDs do not compress)."""
    data = "\n".join(sorted(set(str(mailbox) for mailbox in mailboxes))).encode("utf-8")
    # a dictionary of at most 1 MiB: the encoder needs about ten times its dictionary in memory (xz -9: 64 MiB,
    # some 700 MB), and lines of random GUIDs and similar addresses gain nothing from a longer window
    filters = [{"id": lzma.FILTER_LZMA2, "preset": 6, "dict_size": max(1 << 16, min(len(data), 1 << 20))}]
    return PACK_PREFIX + base64.b64encode(lzma.compress(data, format=lzma.FORMAT_XZ, filters=filters)).decode("ascii")


def unpack_mailboxes(packed):
    if not packed:
        return []
    if not isinstance(packed, str) or not packed.startswith(PACK_PREFIX):
        raise LedgerError("the packed mailbox list does not start with '%s'" % PACK_PREFIX)
    try:
        data = lzma.decompress(base64.b64decode(packed[len(PACK_PREFIX):]))
    except (ValueError, lzma.LZMAError):
        raise LedgerError("the packed mailbox list is corrupt")
    return [line for line in data.decode("utf-8").split("\n") if line]
