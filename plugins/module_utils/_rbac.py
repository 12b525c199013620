# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""RBAC for Applications: what the service_principal, management_scope, management_role_assignment and
app_access_info modules share (roles, service principal lookup, rows, scope filters, confirmed writes).

An app gets access to mailboxes in three objects: a service principal (New-ServicePrincipal: the app's ID and the
object ID of its enterprise application), a management scope (New-ManagementScope -RecipientRestrictionFilter: an
OPATH filter over recipients) and a role assignment (New-ManagementRoleAssignment -App -Role "Application ..."
-CustomResourceScope). Test-ServicePrincipalAuthorization evaluates the scope against one mailbox at a time, now
(no cache): it is the proof of a grant.

Design notes for the archive_access role (application_rbac method)
-----------------------------------------------------------------

The scope Exchange enforces must equal the campaign's mailbox set (types, filter, group, identities, minus the
exclusions). Two ways, chosen per campaign:

1. A filter, where the set is expressible in OPATH: `recipient_filter()` below composes it from the campaign's
   types, its OPATH filter and its exclusions (by ExternalDirectoryObjectId, which survives renames). Writes: the
   service principal when it is missing (1), the scope (1), one assignment per role (1 each); revoke: the same
   objects removed (assignments first, then the scope, the service principal only when the campaign created it).
   No write per mailbox. Caveat: a filter scope is live; a mailbox created later that matches the filter comes
   into scope by itself, where a FullAccess campaign is a snapshot. Not expressible: `member_of_group`
   (`MemberOfGroup -eq '<DN>'` matches direct members only; nested groups need one clause per nested group's DN,
   and Microsoft 365 groups have no DN membership at all), long identity lists (one clause per mailbox; OPATH
   filters have a length limit) and many exclusions.
2. A campaign mark, where it is not: set a custom attribute that no one else uses on every mailbox of the set
   (Set-Mailbox -CustomAttributeN '<campaign id>'; or the multi-valued ExtensionCustomAttribute1-5 with
   @{Add=...}, which lets several campaigns mark one mailbox) and scope on `CustomAttributeN -eq '<campaign id>'`.
   Writes: one Set-Mailbox per mailbox (N), plus the three objects above; revoke: the objects, then one
   Set-Mailbox per mailbox to clear the mark (N). The ledger must record each mailbox's previous value of the
   attribute (read with the scope's mailbox_info call: `properties: [CustomAttributeN]`, no extra read) and the
   preflight must refuse an attribute that holds other values on mailboxes in scope.

Either way the proof is app_access_info over every mailbox in scope (each InScope for the campaign's roles) and
over the excluded ones (none InScope): N + E Test-ServicePrincipalAuthorization reads, through the paced pipeline.
It catches a filter that misses a mailbox type, a mark that did not land, and an org-wide assignment of the same
app (every excluded mailbox InScope). A tenant-wide admin consent of the same Microsoft Graph permission for the
app bypasses every scope and is invisible to Exchange: the role's report must state it.

Emulator support: the three objects, Test-ServicePrincipalAuthorization evaluating the scope filter live (the
OPATH engine of Get-Mailbox -Filter, CustomAttribute1-15 and ExternalDirectoryObjectId included),
Get-OrganizationConfig's EWS settings, Set-Mailbox -CustomAttributeN. Not ExtensionCustomAttribute1-5 (neither
settable nor filterable). The role's side (the plan, the ledger, the proof) is plugin_utils/_app_campaign.py; the
mark is set by mailbox_custom_attribute.
"""

import re

from ansible_collections.m365.exchange.plugins.module_utils._errors import (
    AmbiguousIdentityError,
    InvalidInputError,
    InvalidParameterError,
    NotFoundError,
    ServiceError,
    TransientError,
)
from ansible_collections.m365.exchange.plugins.module_utils._mailboxes import opath_problem, opath_quote
from ansible_collections.m365.exchange.plugins.module_utils._parsing import as_bool

# learn.microsoft.com/exchange/permissions-exo/application-rbac, "Supported Application Roles" (the first 13), then
# the roles Exchange Online added since for the newer Graph permissions (MailboxFolder, MailboxItem, SMTP).
APPLICATION_ROLES = (
    "Application Mail.Read",
    "Application Mail.ReadBasic",
    "Application Mail.ReadWrite",
    "Application Mail.Send",
    "Application MailboxSettings.Read",
    "Application MailboxSettings.ReadWrite",
    "Application Calendars.Read",
    "Application Calendars.ReadWrite",
    "Application Contacts.Read",
    "Application Contacts.ReadWrite",
    "Application Mail Full Access",
    "Application Exchange Full Access",
    "Application EWS.AccessAsApp",
    "Application MailboxFolder.Read",
    "Application MailboxFolder.ReadWrite",
    "Application MailboxItem.Read",
    "Application MailboxItem.ReadWrite",
    "Application MailboxItem.Export",
    "Application MailboxItem.ImportExport",
    "Application SMTP.SendAsApp",
)
_ROLE_BY_KEY = dict((role.lower(), role) for role in APPLICATION_ROLES)

# The app a role assignment or a proof is about (documented in the m365.exchange.rbac.app doc fragment).
APP = dict(app=dict(type="str", required=True))

# Exchange object names (scopes, role assignments) are directory common names: at most 64 characters.
MAX_NAME_LENGTH = 64
LISTED = 10  # how many known objects an error message names

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


REGISTER_HELP = ("register it with m365.exchange.service_principal (app_id, and object_id: the Object ID of the app's "
                 "enterprise application in Entra ID)")
FILTER_HELP = ("Write an OPATH filter over recipient properties, such as Department -eq 'Legal' -and "
               "CustomAttribute1 -ne 'NoArchive': quote values with single quotes, double a quote inside a value "
               "(DisplayName -eq 'O''Brien'), and use the filterable properties of -RecipientFilter "
               "(RecipientTypeDetails, Department, CustomAttribute1-15, PrimarySmtpAddress, ...)")


# ---- input checks (no request) --------------------------------------------------------------------------------------

def is_guid(value):
    return isinstance(value, str) and bool(_GUID.match(value.strip()))


def guid_problem(value, option, what):
    """Why a GUID option is unusable, or None."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return "%s is empty: give %s, a GUID such as 00000000-0000-0000-0000-000000000000" % (option, what)
    if not is_guid(text):
        return "%s '%s' is not a GUID: give %s, such as 00000000-0000-0000-0000-000000000000" % (option, text, what)
    return None


def name_problem(value, option):
    """Why an Exchange object name is unusable, or None."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return "%s is empty" % option
    if _CONTROL_CHARACTER.search(text):
        return "%s '%s' contains control characters" % (option, text.encode("unicode_escape").decode("ascii"))
    if len(text) > MAX_NAME_LENGTH:
        return "%s '%s' has %d characters: Exchange object names have at most %d" % (
            option, text, len(text), MAX_NAME_LENGTH)
    return None


def canonical_role(value, problems, option="role"):
    """The Application role named by value (any letter case, with or without the 'Application ' prefix), or None."""
    text = value.strip() if isinstance(value, str) else ""
    role = _ROLE_BY_KEY.get(text.lower()) or _ROLE_BY_KEY.get(("application " + text).lower())
    if role is None:
        problems.add("%s '%s' is not an Application role of RBAC for Applications: use one of %s" % (
            option, text, ", ".join(APPLICATION_ROLES)))
    return role


def filter_problems(text, problems, option="recipient_restriction_filter"):
    """What can be told wrong about an OPATH filter without asking Exchange: empty, an unterminated quoted value,
    unbalanced parentheses. Exchange checks the rest (properties, operators, values)."""
    if not isinstance(text, str) or not text.strip():
        problems.add("%s is empty: %s" % (option, FILTER_HELP))
        return
    quote = opath_problem(text)
    if quote:
        problems.add("%s: %s" % (option, quote))
        return
    depth = 0
    for kind, _text in _tokens(text):
        if kind == "(":
            depth += 1
        elif kind == ")":
            depth -= 1
            if depth < 0:
                problems.add("%s \"%s\" closes a parenthesis that was not opened; %s" % (option, text, _PARENTHESES))
                return
    if depth:
        problems.add("%s \"%s\" leaves %d parenthes%s open; %s" % (
            option, text, depth, "is" if depth == 1 else "es", _PARENTHESES))


_PARENTHESES = ("every ( needs its ) outside quoted values, for example (City -eq 'Berlin' -or City -eq 'Paris') -and "
                "RecipientTypeDetails -eq 'UserMailbox'")


# ---- OPATH filters ----------------------------------------------------------------------------------------------------

def _tokens(text):
    """(kind, text) of an OPATH filter: '(' and ')', 'str' (a quoted value, quotes kept) and 'word'."""
    tokens = []
    position, length = 0, len(text)
    while position < length:
        char = text[position]
        if char.isspace():
            position += 1
        elif char in "()":
            tokens.append((char, char))
            position += 1
        elif char in "'\"":
            end = position + 1
            while end < length:
                if text[end] == char:
                    if text[end + 1:end + 2] == char:
                        end += 2
                        continue
                    break
                end += 1
            tokens.append(("str", text[position:end + 1]))
            position = end + 1
        else:
            end = position
            while end < length and not text[end].isspace() and text[end] not in "()'\"":
                end += 1
            tokens.append(("word", text[position:end]))
            position = end
    return tokens


def _unquoted(token):
    quote, body = token[0], token[1:-1]
    return body.replace(quote + quote, quote)


def normalized_filter(text):
    """A form of an OPATH filter in which two filters Exchange takes the same way are equal: spacing, the letter
    case of property names and operators, double or single quotes, parentheses around the whole filter."""
    parts = []
    for kind, token in _tokens(text or ""):
        if kind == "str":
            parts.append(opath_quote(_unquoted(token)))
        elif kind == "word":
            parts.append(token.lower())
        else:
            parts.append(token)
    while len(parts) >= 2 and parts[0] == "(" and _closing(parts, 0) == len(parts) - 1:
        parts = parts[1:-1]
    return " ".join(parts)


def _closing(parts, start):
    depth = 0
    for position in range(start, len(parts)):
        if parts[position] == "(":
            depth += 1
        elif parts[position] == ")":
            depth -= 1
            if depth == 0:
                return position
    return -1


def recipient_filter(recipient_type_details=None, opath=None, exclude=None, mark=None):
    """A RecipientRestrictionFilter for a set of mailboxes (see the design notes above).

    recipient_type_details: mailbox types (without them, every type but GroupMailbox, as Get-Mailbox selects);
    opath: the campaign's own OPATH filter; exclude: ExternalDirectoryObjectIds to leave out; mark: (attribute,
    value) of a campaign mark, e.g. ("CustomAttribute12", "archive-2026-07").
    """
    clauses = []
    types = list(recipient_type_details or [])
    if types:
        clauses.append(" -or ".join("RecipientTypeDetails -eq %s" % opath_quote(t) for t in types))
    else:
        clauses.append("RecipientTypeDetails -ne 'GroupMailbox'")
    if opath and opath.strip():
        clauses.append(opath.strip())
    if mark:
        clauses.append("%s -eq %s" % (mark[0], opath_quote(mark[1])))
    for object_id in exclude or ():
        clauses.append("ExternalDirectoryObjectId -ne %s" % opath_quote(object_id))
    if len(clauses) == 1:
        return clauses[0]
    return " -and ".join("(%s)" % clause for clause in clauses)


def explain_filter_refusal(error, text, option="recipient_restriction_filter"):
    """Exchange's 400 about a filter, in terms of the module's option (other errors are returned as they are)."""
    if isinstance(error, InvalidParameterError) and "filter" in error.message.lower():
        return InvalidInputError("Invalid input: %s \"%s\" was rejected by Exchange: %s. %s." % (
            option, text, error.message, FILTER_HELP), cmdlet=error.cmdlet, status=error.status)
    return error


# ---- rows -------------------------------------------------------------------------------------------------------------

def _text(value):
    return "" if value is None else str(value)


def _lower(value):
    return _text(value).strip().lower()


def service_principal_record(row):
    return {"app_id": _lower(row.get("AppId")), "object_id": _lower(row.get("ObjectId") or row.get("Name")),
            "display_name": _text(row.get("DisplayName")),
            "exchange_object_id": _lower(row.get("ExchangeObjectId")) or None}


def scope_record(row):
    return {"name": _text(row.get("Name") or row.get("Identity")), "guid": _lower(row.get("Guid")) or None,
            "recipient_restriction_filter": _text(row.get("RecipientFilter")),
            "scope_restriction_type": row.get("ScopeRestrictionType"),
            "exclusive": as_bool(row.get("Exclusive"))}


def assignment_record(row):
    enabled = row.get("Enabled")
    return {"name": _text(row.get("Name") or row.get("Identity")), "guid": _lower(row.get("Guid")) or None,
            "role": _text(row.get("Role")), "role_assignee": _text(row.get("RoleAssignee")),
            "role_assignee_name": _text(row.get("RoleAssigneeName")),
            "role_assignee_type": _text(row.get("RoleAssigneeType")),
            "custom_resource_scope": _text(row.get("CustomResourceScope")) or None,
            "recipient_write_scope": row.get("RecipientWriteScope"),
            "enabled": True if enabled is None else as_bool(enabled)}


def describe_app(record):
    return "%s (app ID %s)" % (record["display_name"] or "a service principal without display name",
                               record["app_id"])


# ---- service principals -----------------------------------------------------------------------------------------------

def service_principals(client):
    """Every service principal registered in Exchange Online (an organization has few)."""
    rows = client.invoke("Get-ServicePrincipal", {}).value
    return [service_principal_record(row) for row in rows]


def match_app(records, app):
    """The service principals `app` names: by app ID, object ID or Exchange object ID; else by display name."""
    key = app.strip().lower()
    if is_guid(key):
        return [r for r in records if key in (r["app_id"], r["object_id"], r["exchange_object_id"])]
    return [r for r in records if r["display_name"].strip().lower() == key]


def find_app(client, app, option="app", required=True):
    """The service principal of the app, or None (required=False) when Exchange has none."""
    records = service_principals(client)
    matches = match_app(records, app)
    if len(matches) > 1:
        raise InvalidInputError("%s '%s' names %d service principals (%s): name the app by its app ID" % (
            option, app.strip(), len(matches), "; ".join(describe_app(r) for r in matches[:LISTED])))
    if matches:
        return matches[0]
    if not required:
        return None
    known = "; ".join(describe_app(r) for r in records[:LISTED]) or "none"
    if len(records) > LISTED:
        known += "; and %d more" % (len(records) - LISTED)
    raise InvalidInputError(
        "%s '%s' has no service principal in Exchange Online: %s. Name the app by its app ID, the object ID of its "
        "service principal or its display name in Exchange; service principals in Exchange: %s" % (
            option, app.strip(), REGISTER_HELP, known))


def assignee_matches(record, assignment):
    """Whether a role assignment is the app's (RoleAssignee is the service principal's object ID or name)."""
    if assignment["role_assignee_type"] and assignment["role_assignee_type"].lower() != "serviceprincipal":
        return False
    assignee = assignment["role_assignee"].strip().lower()
    return bool(assignee) and assignee in (record["object_id"], record["app_id"], record["exchange_object_id"])


def same_scope(left, right):
    return (left or "").strip().lower() == (right or "").strip().lower()


def in_scope_value(value):
    """InScope of Test-ServicePrincipalAuthorization: True, False, or None ("Not Run", missing)."""
    if isinstance(value, bool):
        return value
    text = _lower(value)
    if text in ("true", "false"):
        return text == "true"
    return None


# ---- one object, written and confirmed ---------------------------------------------------------------------------------

class ObjectRun:
    """The run of a module that manages one Exchange object: plan, write (not in check mode), confirm, result.

    Every write is followed by a read of the object: the task reports what the read shows, never what a status
    code suggests. A write whose answer was lost (connection, 5xx) is settled by that read, and sent once more when
    the read does not show it.
    """

    def __init__(self, module, key):
        self.module = module
        self.key = key  # the result key of the object (service_principal, scope, assignment)
        self.client = module.client

    def write(self, cmdlet, parameters, read, holds, what):
        """Send one write and return the state read after it, once the read shows the change."""
        error = None
        for _attempt in range(2):
            warnings = []
            try:
                result = self.client.invoke(cmdlet, parameters)
                warnings = result.warnings
                self.module.collect_warnings(warnings)
                error = None
            except TransientError as exc:
                error = exc
            except InvalidParameterError as exc:
                raise self.refusal(exc)
            state = read()
            if holds(state):
                return state
            if error is None:
                raise ServiceError("%s %s was answered without error, but reading %s afterwards does not show the "
                                   "change%s. Nothing else was changed; rerun the task." % (
                                       cmdlet, _shown(parameters), what,
                                       ": the service said: %s" % " ".join(warnings) if warnings else ""),
                                   cmdlet=cmdlet)
        raise TransientError("%s; reading %s afterwards does not show the change. Rerun the task." % (error, what),
                             cmdlet=cmdlet)

    def refusal(self, error):
        """Exchange's 400 for a write, in terms of the module's options (subclasses explain more)."""
        return error

    def finish(self, changed, before, after, **result):
        result[self.key] = after
        result["changed"] = changed
        if self.module._diff:  # pylint: disable=protected-access
            result["diff"] = {"before": before or {}, "after": after or {}}
        self.module.finish(**result)


def _shown(parameters):
    return ", ".join("-%s %s" % (name, value) for name, value in parameters.items())


def read_or_none(client, cmdlet, identity):
    """The rows of a Get- by identity; [] when Exchange does not find it."""
    try:
        return client.invoke(cmdlet, {"Identity": identity}).value
    except NotFoundError:
        return []
    except AmbiguousIdentityError as exc:
        raise InvalidInputError("'%s' matches several objects (%s): %s" % (identity, cmdlet, exc.message),
                                cmdlet=cmdlet)
