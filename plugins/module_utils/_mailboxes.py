# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Selecting mailboxes: by identity, type, OPATH filter and group membership."""

import functools
import re

from ansible_collections.m365.exchange.plugins.module_utils._client import Command
from ansible_collections.m365.exchange.plugins.module_utils._errors import (
    AmbiguousIdentityError,
    ExchangeError,
    NotFoundError,
)
from ansible_collections.m365.exchange.plugins.module_utils._parsing import snake_case

MAILBOX_PROPERTIES = (
    "Identity",
    "DisplayName",
    "Alias",
    "UserPrincipalName",
    "PrimarySmtpAddress",
    "RecipientTypeDetails",
    "ExternalDirectoryObjectId",
    "Guid",
)
GROUP_PROPERTIES = ("Identity", "Name", "DisplayName", "DistinguishedName", "RecipientTypeDetails", "Guid")

MAILBOX_TYPES = (
    "DiscoveryMailbox",
    "EquipmentMailbox",
    "GroupMailbox",
    "LinkedMailbox",
    "LinkedRoomMailbox",
    "RoomMailbox",
    "SchedulingMailbox",
    "SharedMailbox",
    "TeamMailbox",
    "UserMailbox",
)
GROUP_MAILBOX = "GroupMailbox"

IDENTITY_FORMS = "a primary SMTP address, user principal name, alias, GUID or ExternalDirectoryObjectId"
# local-part@domain: no whitespace, no second @, no characters SMTP addresses cannot hold unquoted; a DNS domain.
_ADDRESS = re.compile(
    r"^(?!\.)(?!.*\.\.)[^@\s\"(),:;<>\[\]\\]+(?<!\.)"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$",
    re.IGNORECASE)
_ADDRESS_PREFIX = re.compile(r"^(smtp|sip):", re.IGNORECASE)
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
_WHITESPACE = re.compile(r"\s")  # what str.isspace() calls whitespace


def identity_problem(value, option):
    """Why an identity must not be sent to Exchange, or None.

    An empty identity is never sent (an empty -Identity makes Get-MailboxPermission return every object).
    A value with an @ and no space is meant as an address and must look like one; other values (names,
    aliases, GUIDs) are left to Exchange, which says whether it knows them.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return "%s is empty" % option
    if _CONTROL_CHARACTER.search(text):
        return "%s '%s' contains control characters" % (option, text.encode("unicode_escape").decode("ascii"))
    if "@" in text and not _WHITESPACE.search(text):
        address = _ADDRESS_PREFIX.sub("", text)
        if not _ADDRESS.match(address):
            return ("%s '%s' is not a valid address: expected one @ between a local part and a domain, such as "
                    "ceo@contoso.com" % (option, text))
    return None


def opath_problem(opath):
    """Why an OPATH filter cannot be valid (an unterminated quoted value), or None.

    Values are quoted with '...' or "..."; the quote character is doubled inside a value (O''Brien).
    """
    quote = None
    start = 0
    position = 0
    while position < len(opath):
        char = opath[position]
        if quote is None:
            if char in "'\"":
                quote, start = char, position
        elif char == quote:
            if opath[position + 1:position + 2] == quote:
                position += 1
            else:
                quote = None
        position += 1
    if quote is not None:
        return ("filter \"%s\" has an unterminated quoted value starting at position %d (%s); quote values with "
                "single quotes and double a quote inside a value, for example DisplayName -eq 'O''Brien'"
                % (opath, start + 1, opath[start:start + 20]))
    return None


def opath_quote(value):
    """An OPATH string literal: single quotes, embedded quotes doubled (O''Brien)."""
    return "'%s'" % str(value).replace("'", "''")


def mailbox_record(row, properties=()):
    """The module's view of a Get-Mailbox row: snake_case keys, base properties first."""
    record = dict((_record_key(name), _plain(row.get(name))) for name in MAILBOX_PROPERTIES)
    for name in properties:
        record[_record_key(name)] = _plain(row.get(name))
    return record


@functools.lru_cache(maxsize=512)
def _record_key(name):
    # one key object shared by every record: 100,000 records would otherwise hold 800,000 copies (~50 MB)
    return snake_case(name)


def _plain(value):
    return None if value == "" else value


def mailbox_key(row):
    return (row.get("Guid") or row.get("ExternalDirectoryObjectId") or row.get("PrimarySmtpAddress") or "").lower()


def record_key(record):
    """mailbox_key() of a mailbox_record()."""
    return (record["guid"] or record["external_directory_object_id"] or record["primary_smtp_address"] or "").lower()


def record_address(record):
    """The most precise identity to address a mailbox with in later cmdlets."""
    return record["guid"] or record["external_directory_object_id"] or record["primary_smtp_address"]


def is_group_record(record):
    return record["recipient_type_details"] == GROUP_MAILBOX


class Selection:
    """The mailboxes found, as mailbox_record()s, and the identities that could not be resolved.

    Rows become records as they arrive, so that a tenant's worth of rows is never held at once.
    """

    def __init__(self, properties=()):
        self.records = []
        self.missing = []
        self.ambiguous = []
        self.failed = []
        self._properties = properties
        self._keys = set()

    def add(self, row):
        """A Get-Mailbox row; a mailbox already selected is not added again."""
        self._append(mailbox_key(row), lambda: mailbox_record(row, self._properties))

    def add_record(self, record):
        self._append(record_key(record), lambda: record)

    def _append(self, key, make_record):
        if key and key in self._keys:
            return
        self._keys.add(key)
        self.records.append(make_record())


def _add_pages(selection, pages):
    """Rows become records page by page (after a restart of the read, Selection drops the rows seen before)."""
    for page in pages:
        for row in page.value:
            selection.add(row)


class MailboxSelector:
    """Runs the Get-Mailbox / Get-Group queries that select mailboxes."""

    def __init__(self, client, pipeline, properties=()):
        self.client = client
        self.pipeline = pipeline
        self.properties = tuple(properties)
        self.select = tuple(MAILBOX_PROPERTIES) + tuple(p for p in properties if p not in MAILBOX_PROPERTIES)

    def by_identity(self, identities, types=None):
        """Resolve each identity; group mailboxes are looked up again with -GroupMailbox."""
        selection = Selection(self.properties)
        results = self.pipeline.run([Command("Get-Mailbox", {"Identity": i}, self.select) for i in identities])
        retry = []
        for identity, result in zip(identities, results):
            if isinstance(result, NotFoundError):
                retry.append(identity)
            else:
                self._resolved(selection, identity, result)
        if retry:
            commands = [Command("Get-Mailbox", {"Identity": i, "GroupMailbox": True}, self.select) for i in retry]
            for identity, result in zip(retry, self.pipeline.run(commands)):
                self._resolved(selection, identity, result)
        if types:
            selection.records = [record for record in selection.records if record["recipient_type_details"] in types]
        return selection

    def _resolved(self, selection, identity, result):
        if isinstance(result, NotFoundError):
            selection.missing.append(identity)
        elif isinstance(result, AmbiguousIdentityError):
            selection.ambiguous.append(identity)
        elif isinstance(result, ExchangeError):
            selection.failed.append((identity, result))
        elif len(result.value) > 1:
            selection.ambiguous.append(identity)
        else:
            for row in result.value:
                selection.add(row)

    def by_query(self, types=None, opath=None, result_size=None):
        """Get-Mailbox over the tenant; group mailboxes need their own query with -GroupMailbox.

        A number as result_size goes out as -ResultSize with pages of that size (at most 1,000), and the read
        stops at that many rows: the service's nextLink and "more results" warning are not followed past it.
        """
        selection = Selection(self.properties)
        types = list(types or [])
        queries = []
        plain_types = [t for t in types if t != GROUP_MAILBOX]
        if not types or plain_types:
            queries.append(self._query_parameters(plain_types, opath, result_size))
        if GROUP_MAILBOX in types:
            parameters = self._query_parameters([], opath, result_size)
            parameters["GroupMailbox"] = True
            queries.append(parameters)
        for parameters in queries:
            command = Command("Get-Mailbox", parameters, self.select)
            self.client.execute(command, consume=lambda pages: _add_pages(selection, pages),
                                max_rows=command.max_rows)
        if isinstance(result_size, int):
            selection.records = selection.records[:result_size]
        return selection

    def _query_parameters(self, types, opath, result_size):
        parameters = {"ResultSize": result_size if isinstance(result_size, int) else "Unlimited"}
        if types:
            parameters["RecipientTypeDetails"] = types
        if opath:
            parameters["Filter"] = opath
        return parameters

    def by_group(self, group, types=None, opath=None, result_size=None):
        """Mailboxes of a group's members, nested groups included."""
        row = self._group(group)
        if row.get("RecipientTypeDetails") == GROUP_MAILBOX:
            selection = self._unified_group_members(row, types, opath)
        else:
            selection = Selection(self.properties)
            for dn in self._nested_group_dns(row):
                if isinstance(result_size, int) and len(selection.records) >= result_size:
                    break
                condition = "MemberOfGroup -eq %s" % opath_quote(dn)
                if opath:
                    condition = "(%s) -and (%s)" % (condition, opath)
                for member in self.by_query(types, condition, result_size).records:
                    selection.add_record(member)
        if isinstance(result_size, int):
            selection.records = selection.records[:result_size]
        return selection

    def _group(self, group):
        rows = self.client.invoke("Get-Group", {"Identity": group}, GROUP_PROPERTIES).value
        if len(rows) != 1:
            raise AmbiguousIdentityError("Get-Group '%s': the group name matches %d groups; use its primary SMTP "
                                         "address or GUID" % (group, len(rows)), cmdlet="Get-Group", identity=group)
        return rows[0]

    def _nested_group_dns(self, root):
        """The DNs of the group and of every group nested in it; cycles are visited once."""
        seen = [root["DistinguishedName"]]
        pending = list(seen)
        while pending:
            dn = pending.pop()
            parameters = {"Filter": "MemberOfGroup -eq %s" % opath_quote(dn), "ResultSize": "Unlimited"}
            for child in self.client.invoke("Get-Group", parameters, GROUP_PROPERTIES).value:
                child_dn = child.get("DistinguishedName")
                if child_dn and child_dn not in seen:
                    seen.append(child_dn)
                    pending.append(child_dn)
        return seen

    def _unified_group_members(self, group, types, opath):
        links = self.client.invoke("Get-UnifiedGroupLinks", {
            "Identity": group.get("Guid") or group["Identity"], "LinkType": "Members", "ResultSize": "Unlimited",
        }, ("Guid", "RecipientTypeDetails")).value
        member_ids = [link["Guid"] for link in links if link.get("RecipientTypeDetails") in MAILBOX_TYPES]
        selection = self.by_identity(member_ids, types)
        if opath:
            allowed = set(record_key(record) for record in self.by_query(types, opath).records)
            selection.records = [record for record in selection.records if record_key(record) in allowed]
        return selection


def classify_missing(pipeline, identities):
    """Why Get-MailboxPermission could not find these identities: a group mailbox, another recipient, or nothing.

    Returns {identity: row or ExchangeError} from Get-Recipient.
    """
    select = ("Identity", "PrimarySmtpAddress", "RecipientTypeDetails", "Guid", "ExternalDirectoryObjectId")
    results = pipeline.run([Command("Get-Recipient", {"Identity": i}, select) for i in identities])
    found = {}
    for identity, result in zip(identities, results):
        if isinstance(result, ExchangeError):
            found[identity] = result
        elif len(result.value) == 1:
            found[identity] = result.value[0]
        elif not result.value:
            found[identity] = NotFoundError("Get-Recipient '%s': no recipient found" % identity)
        else:
            found[identity] = AmbiguousIdentityError("'%s' matches %d recipients" % (identity, len(result.value)))
    return found
