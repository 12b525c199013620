"""The emulated cmdlets. Each handler returns a Result; paging and envelopes live in exchange.py."""

import itertools
import re

from . import errors, opath, rows
from .params import ACCESS_RIGHTS, INHERITANCE, LINK_TYPE, RECIPIENT_TYPE_DETAILS, Param, spec
from .tenant import (FULL_ACCESS, GROUP_MAILBOX, GROUP_TYPES, MAIL_USER, MAILBOX_TYPES, MESG, DG, READ_PERMISSION,
                     SELF_SID, USER, USER_TYPES, USG, Ace, names_to_rights, rights_to_names)

DEFAULT_RESULT_SIZE = 1000
MORE_RESULTS_WARNING = ("There are more results available than are currently displayed. To view them, increase the "
                        "value for the ResultSize parameter.")
DEFAULT_LIMIT_WARNING = ("By default, only the first 1000 items are returned. Use the ResultSize parameter to specify "
                         "the number of items returned. To return all items, specify \"-ResultSize Unlimited\". Be "
                         "aware that, depending upon the actual number of items, returning all items can take a long "
                         "time and consume a large amount of memory. Also, we don't recommend storing the results in "
                         "a variable. Instead, pipe the results to another task or script to perform batch changes.")
SID_PATTERN = re.compile(r"^S-1-\d+(-\d+)+$", re.IGNORECASE)
PRINCIPAL_TYPES = MAILBOX_TYPES | {MAIL_USER, USER, MESG, USG}
ACL_LIMIT = 500


class Invocation:
    """One cmdlet call: the tenant, bound parameters, response-shape settings and the other settings."""

    __slots__ = ("tenant", "cmdlet", "params", "shapes", "options")

    def __init__(self, tenant, cmdlet, params, shapes, options=None):
        self.tenant = tenant
        self.cmdlet = cmdlet
        self.params = params
        self.shapes = shapes
        self.options = options or {}

    def option(self, name, default=None):
        return self.options.get(name, default)


class Result:
    """Items plus how to render one; ``value_null`` sends ``"value": null`` (nothing-to-do writes).

    ``result_size`` is set when an explicit -ResultSize N truncates the items (which are then all of them):
    the API answers N rows, a nextLink and the "more results" warning, as the live service does."""

    __slots__ = ("items", "render", "warnings", "tail_warnings", "value_null", "result_size")

    def __init__(self, items=(), render=None, warnings=None, tail_warnings=None, value_null=False,
                 result_size=None):
        self.items = list(items)
        self.render = render
        self.warnings = warnings or []
        self.tail_warnings = tail_warnings or []
        self.value_null = value_null
        self.result_size = result_size


# -- filterable properties ---------------------------------------------------------

def _filter_properties():
    prop = opath.Property
    rtd_enum = opath.EnumValues.of(RECIPIENT_TYPE_DETAILS.names, RECIPIENT_TYPE_DETAILS.type_name[:-2])
    rt_enum = opath.EnumValues.of(("UserMailbox", "MailUser", "User", "MailUniversalDistributionGroup",
                                   "MailUniversalSecurityGroup", "Group", "MailContact", "DynamicDistributionGroup"),
                                  "Microsoft.Exchange.Data.Directory.Recipient.RecipientType")
    props = [
        prop("RecipientType", "enum", lambda r: r.recipient_type, rt_enum),
        prop("RecipientTypeDetails", "enum", lambda r: r.rtd, rtd_enum),
        prop("Alias", "string", lambda r: r.alias), prop("Name", "string", lambda r: r.name),
        prop("DisplayName", "string", lambda r: r.display_name),
        prop("PrimarySmtpAddress", "string", lambda r: r.primary_smtp),
        prop("WindowsEmailAddress", "string", lambda r: r.primary_smtp),
        prop("UserPrincipalName", "string", lambda r: r.upn),
        prop("ExternalDirectoryObjectId", "string", lambda r: r.edoid), prop("Guid", "string", lambda r: r.guid),
        prop("ExchangeGuid", "string", lambda r: r.exchange_guid),
        prop("Department", "string", lambda r: r.department), prop("Office", "string", lambda r: r.office),
        prop("City", "string", lambda r: r.city), prop("CountryOrRegion", "string", lambda r: r.country),
        prop("Company", "string", lambda r: r.company), prop("FirstName", "string", lambda r: r.first_name),
        prop("LastName", "string", lambda r: r.last_name),
        prop("HiddenFromAddressListsEnabled", "bool", lambda r: r.hidden),
        prop("IsInactiveMailbox", "bool", lambda r: r.inactive), prop("SKUAssigned", "bool", lambda r: r.sku_assigned),
        prop("WhenCreated", "date", lambda r: r.when_created), prop("WhenCreatedUTC", "date", lambda r: r.when_created),
        prop("MemberOfGroup", "member", None),
    ]
    for number in range(1, 16):
        props.append(prop("CustomAttribute%d" % number, "string",
                          lambda r, n=number: r.custom_attribute(n)))
    return {p.name.lower(): p for p in props}


FILTER_PROPERTIES = _filter_properties()


class _FilterContext:
    def __init__(self, tenant, addresses_property):
        self.tenant = tenant
        self.addresses_property = addresses_property

    def group_members(self, identity):
        groups = self.tenant.resolve(identity, lambda r: r.rtd in GROUP_TYPES)
        members = set()
        for group in groups[:1]:
            members.update(id(m) for m in group.members or ())
        return members


def _compile_filter(tenant, text):
    props = dict(FILTER_PROPERTIES)
    props["emailaddresses"] = opath.Property("EmailAddresses", "multi", tenant.addresses)
    try:
        return opath.compile_filter(text, props, _FilterContext(tenant, props["emailaddresses"]))
    except opath.FilterError as exc:
        raise errors.filter_error(str(exc)) from None


# -- shared helpers ------------------------------------------------------------

def resolve_one(tenant, identity, accept):
    matches = tenant.resolve(identity, accept)
    if not matches:
        raise errors.not_found(identity, tenant.server_fqdn)
    if len(matches) > 1:
        raise errors.ambiguous(identity)
    return matches[0]


def _anr_matcher(text):
    prefix = text.strip().lower()

    def matches(rec):
        for value in (rec.name, rec.alias, rec.display_name, rec.first_name, rec.last_name,
                      rec.primary_smtp.split("@")[0]):
            if value and value.lower().startswith(prefix):
                return True
        return False
    return matches


def _select_recipients(inv, accept, render):
    """Identity lookup or a scan with RecipientTypeDetails/Filter/Anr, then the ResultSize rules."""
    tenant, params = inv.tenant, inv.params
    if "Identity" in params and "Anr" in params:
        raise errors.missing_parameters()
    tests = [accept]
    if "RecipientTypeDetails" in params:
        wanted = frozenset(params["RecipientTypeDetails"])
        tests.append(lambda r: r.rtd in wanted)
    if "Filter" in params:
        tests.append(_compile_filter(tenant, params["Filter"]))
    if "Anr" in params:
        tests.append(_anr_matcher(params["Anr"]))
    if "Identity" in params:
        found = resolve_one(tenant, params["Identity"], accept)
        candidates = [found]
    else:
        candidates = tenant.recipients
    if len(tests) == 1:
        selected = (r for r in candidates if accept(r))
    else:
        selected = (r for r in candidates if all(test(r) for test in tests))
    return limited(selected, params, lambda item, select: render(tenant, item, select))


def limited(iterable, params, render):
    """Apply ResultSize: absent = 1000 with PowerShell's warning, N = N (every item is kept and marked: the API
    pages them by N, see Result), Unlimited = everything."""
    size = params.get("ResultSize", DEFAULT_RESULT_SIZE) if "ResultSize" in params else DEFAULT_RESULT_SIZE
    if size is None:
        return Result(iterable, render)
    if "ResultSize" in params:
        items = list(iterable)
        return Result(items, render, result_size=size if len(items) > size else None)
    items = list(itertools.islice(iterable, size + 1))
    tail = []
    if len(items) > size:
        items.pop()
        tail.append(DEFAULT_LIMIT_WARNING if "ResultSize" not in params else MORE_RESULTS_WARNING)
    return Result(items, render, tail_warnings=tail)


def _mailbox_accept(params, group_only):
    group = params.get("GroupMailbox", False)
    soft = params.get("SoftDeletedMailbox", False)
    inactive_only = params.get("InactiveMailboxOnly", False)
    include_inactive = params.get("IncludeInactiveMailbox", False) or inactive_only
    if group and group_only:
        types = frozenset((GROUP_MAILBOX,))
    elif group:
        types = MAILBOX_TYPES | {GROUP_MAILBOX}
    else:
        types = MAILBOX_TYPES

    def accept(rec):
        if rec.rtd not in types:
            return False
        if soft:
            return rec.soft_deleted
        if rec.soft_deleted:
            return False
        if inactive_only:
            return rec.inactive
        return include_inactive or not rec.inactive
    return accept


def _principal_accept(rec):
    return rec.rtd in PRINCIPAL_TYPES and rec.is_active


def resolve_trustee(tenant, value):
    """SID of the security principal ``value`` names (users, mail users, security groups, SIDs)."""
    text = value.strip()
    for sid, display in tenant.well_known.items():
        if display.lower() == text.lower():
            return sid, None
    if SID_PATTERN.match(text):
        return text.upper(), tenant.sid_index.get(text.upper())
    rec = resolve_one(tenant, text, _principal_accept)
    return rec.sid, rec


def _account(tenant, sid, rec):
    if rec is not None:
        return tenant.account_name(rec)
    return tenant.well_known.get(sid, sid)


# -- read cmdlets ----------------------------------------------------------------

def get_mailbox(inv):
    return _select_recipients(inv, _mailbox_accept(inv.params, group_only=True), rows.mailbox_row)


def get_recipient(inv):
    return _select_recipients(inv, lambda r: r.is_active and r.rtd not in (USER, USG), rows.recipient_row)


def get_user(inv):
    return _select_recipients(inv, lambda r: r.is_active and r.rtd in USER_TYPES, rows.user_row)


def get_group(inv):
    return _select_recipients(inv, lambda r: r.is_active and r.rtd in GROUP_TYPES, rows.group_row)


def _members_result(inv, members):
    tenant = inv.tenant
    return limited(iter(members), inv.params, lambda item, select: rows.recipient_row(tenant, item, select))


def get_distribution_group_member(inv):
    _require(inv.params, "Identity")
    group = resolve_one(inv.tenant, inv.params["Identity"], lambda r: r.is_active and r.rtd in (DG, MESG))
    return _members_result(inv, group.members or ())


def get_unified_group_links(inv):
    _require(inv.params, "Identity", "LinkType")
    group = resolve_one(inv.tenant, inv.params["Identity"], lambda r: r.is_active and r.rtd == GROUP_MAILBOX)
    link = inv.params["LinkType"]
    members = {"Members": group.members, "Subscribers": group.members, "Owners": group.owners}.get(link) or ()
    return _members_result(inv, members)


def get_mailbox_permission(inv):
    tenant, params = inv.tenant, inv.params
    accept = _mailbox_accept(params, group_only=False)
    if "Identity" in params:
        mailboxes = [resolve_one(tenant, params["Identity"], accept)]
    elif inv.option("permission_requires_identity", True):
        raise errors.missing_identity(inv.cmdlet)
    else:
        mailboxes = [r for r in tenant.recipients if accept(r)]
    if params.get("Owner"):
        return limited(iter(mailboxes), params, lambda item, select: rows.owner_row(tenant, item, select))
    trustee_sid = resolve_trustee(tenant, params["User"])[0] if "User" in params else None
    hide_soft_deleted = not params.get("IncludeSoftDeletedUserPermissions", False)

    def visible(ace):
        if trustee_sid is not None and ace.sid != trustee_sid:
            return False
        if hide_soft_deleted:
            rec = tenant.sid_index.get(ace.sid)
            return rec is None or not rec.soft_deleted
        return True

    self_twice = inv.shapes.get("self", "twice") == "twice"
    pairs = ((mbx, ace) for mbx in mailboxes for ace in _shown_aces(tenant, mbx, self_twice) if visible(ace))
    shapes = inv.shapes
    return limited(pairs, params, lambda item, select: rows.permission_row(tenant, item[0], item[1], shapes, select))


INHERITED_SELF = Ace(SELF_SID, READ_PERMISSION, False, "All", True)


def _shown_aces(tenant, mailbox, self_twice):
    """The ACEs Get-MailboxPermission lists; live output shows NT AUTHORITY\\SELF twice for a mailbox (an
    inherited entry besides the explicit one), so every mailbox gets one unless it has its own."""
    aces = tenant.all_aces(mailbox)
    if self_twice and not any(ace.inherited and ace.sid == SELF_SID for ace in aces):
        return aces + (INHERITED_SELF,)
    return aces


# -- write cmdlets ------------------------------------------------------------------

def _require(params, *names):
    for name in names:
        if name not in params:
            raise errors.missing_parameters()


def _find_explicit(acl, sid, deny, inheritance):
    for position, ace in enumerate(acl):
        if not ace.inherited and ace.sid == sid and ace.deny == deny and ace.inheritance == inheritance:
            return position, ace
    return None, None


def add_mailbox_permission(inv):
    tenant, params = inv.tenant, inv.params
    _require(params, "Identity")
    if "Owner" in params and "User" not in params:
        resolve_one(tenant, params["Identity"], _mailbox_accept(params, group_only=False))
        return Result()
    _require(params, "User", "AccessRights")
    mailbox = resolve_one(tenant, params["Identity"], _mailbox_accept(params, group_only=False))
    sid, trustee = resolve_trustee(tenant, params["User"])
    rights = names_to_rights(params["AccessRights"])
    deny = params.get("Deny", False)
    inheritance = params.get("InheritanceType", "All")
    acl = list(mailbox.aces())
    position, existing = _find_explicit(acl, sid, deny, inheritance)
    if existing is not None and existing.rights & rights == rights:
        warning = ("The appropriate access control entry is already present on the object \"%s\" for account "
                   "\"%s\"." % (tenant.dn(mailbox), _account(tenant, sid, trustee)))
        return Result(warnings=[warning])
    if existing is not None:
        ace = Ace(sid, existing.rights | rights, deny, inheritance)
        acl[position] = ace
    else:
        if sum(1 for a in acl if not a.inherited) >= ACL_LIMIT:
            raise errors.acl_limit(mailbox.guid)
        ace = Ace(sid, rights, deny, inheritance)
        acl.append(ace)
    mailbox.acl = acl
    _record_automapping(mailbox, sid, trustee, rights, deny, params.get("AutoMapping", True))
    shapes = inv.shapes
    return Result([(mailbox, ace)], lambda item, select: rows.permission_row(tenant, item[0], item[1], shapes, select))


def _record_automapping(mailbox, sid, trustee, rights, deny, automapping):
    """AutoMapping applies to FullAccess for users only (groups never auto-map); the API cannot read it back."""
    if deny or not rights & FULL_ACCESS or trustee is None or trustee.is_group:
        return
    if mailbox.automapping is None:
        mailbox.automapping = {}
    mailbox.automapping[sid] = bool(automapping)


def remove_mailbox_permission(inv):
    tenant, params = inv.tenant, inv.params
    _require(params, "Identity")
    mailbox = resolve_one(tenant, params["Identity"], _mailbox_accept(params, group_only=False))
    if params.get("ResetDefault"):
        mailbox.acl = None
        mailbox.automapping = None
        return Result()
    if params.get("ClearAutoMapping"):
        mailbox.automapping = None
        return Result()
    _require(params, "User", "AccessRights")
    sid, trustee = resolve_trustee(tenant, params["User"])
    rights = names_to_rights(params["AccessRights"])
    deny = params.get("Deny", False)
    inheritance = params.get("InheritanceType", "All")
    acl = list(mailbox.aces())
    position, existing = _find_explicit(acl, sid, deny, inheritance)
    if existing is None or not existing.rights & rights:
        return Result(warnings=_nothing_removed_warnings(tenant, mailbox, sid, trustee, rights, deny), value_null=True)
    remaining = existing.rights & ~rights
    if remaining:
        acl[position] = Ace(sid, remaining, deny, inheritance)
    else:
        del acl[position]
    mailbox.acl = acl
    if existing.rights & rights & FULL_ACCESS and not deny and mailbox.automapping:
        mailbox.automapping.pop(sid, None)
    return Result()


def _nothing_removed_warnings(tenant, mailbox, sid, trustee, rights, deny):
    dn = tenant.dn(mailbox)
    warnings = []
    for ace in tenant.all_aces(mailbox):
        if ace.inherited and ace.sid == sid and ace.deny == deny and ace.rights & rights:
            rights_text = ", ".join(rights_to_names(ace.rights))
            warnings.append("An inherited access control entry has been specified: [Rights: %s, ControlType: %s]  "
                            "and was ignored on object \"%s\"." % (rights_text, "Deny" if deny else "Allow", dn))
            break
    warnings.append("Can't remove the access control entry on the object \"%s\" for account \"%s\" because the ACE "
                    "doesn't exist on the object." % (dn, _account(tenant, sid, trustee)))
    return warnings


# -- registry --------------------------------------------------------------------------

class Cmdlet:
    __slots__ = ("name", "params", "handler", "write")

    def __init__(self, name, params, handler, write=False):
        self.name = name
        self.params = params
        self.handler = handler
        self.write = write


def _p(name, kind, enum=None):
    return Param(name, kind, enum)


_IDENTITY = _p("Identity", "identity")
_RESULT_SIZE = _p("ResultSize", "resultsize")
_FILTER = _p("Filter", "string")
_RTD = _p("RecipientTypeDetails", "enum_array", RECIPIENT_TYPE_DETAILS)
_ANR = _p("Anr", "string")
_SWITCH = "switch"

CMDLETS = {c.name.lower(): c for c in (
    Cmdlet("Get-Mailbox", spec(_IDENTITY, _FILTER, _RTD, _RESULT_SIZE, _ANR, _p("GroupMailbox", _SWITCH),
                               _p("SoftDeletedMailbox", _SWITCH), _p("InactiveMailboxOnly", _SWITCH),
                               _p("IncludeInactiveMailbox", _SWITCH)), get_mailbox),
    Cmdlet("Get-Recipient", spec(_IDENTITY, _FILTER, _RTD, _RESULT_SIZE, _ANR), get_recipient),
    Cmdlet("Get-User", spec(_IDENTITY, _FILTER, _RTD, _RESULT_SIZE, _ANR), get_user),
    Cmdlet("Get-Group", spec(_IDENTITY, _FILTER, _RTD, _RESULT_SIZE, _ANR), get_group),
    Cmdlet("Get-DistributionGroupMember", spec(_IDENTITY, _RESULT_SIZE), get_distribution_group_member),
    Cmdlet("Get-UnifiedGroupLinks", spec(_IDENTITY, _p("LinkType", "enum", LINK_TYPE), _RESULT_SIZE),
           get_unified_group_links),
    Cmdlet("Get-MailboxPermission", spec(_IDENTITY, _p("User", "identity"), _p("Owner", _SWITCH), _RESULT_SIZE,
                                         _p("GroupMailbox", _SWITCH), _p("SoftDeletedMailbox", _SWITCH),
                                         _p("IncludeUnresolvedPermissions", _SWITCH),
                                         _p("IncludeSoftDeletedUserPermissions", _SWITCH)), get_mailbox_permission),
    Cmdlet("Add-MailboxPermission", spec(_IDENTITY, _p("User", "identity"),
                                         _p("AccessRights", "enum_array", ACCESS_RIGHTS),
                                         _p("InheritanceType", "enum", INHERITANCE), _p("AutoMapping", "bool"),
                                         _p("Deny", _SWITCH), _p("GroupMailbox", _SWITCH), _p("Owner", "identity"),
                                         _p("Confirm", _SWITCH)), add_mailbox_permission, write=True),
    Cmdlet("Remove-MailboxPermission", spec(_IDENTITY, _p("User", "identity"),
                                            _p("AccessRights", "enum_array", ACCESS_RIGHTS),
                                            _p("InheritanceType", "enum", INHERITANCE), _p("Deny", _SWITCH),
                                            _p("GroupMailbox", _SWITCH), _p("SoftDeletedMailbox", _SWITCH),
                                            _p("ClearAutoMapping", _SWITCH), _p("ResetDefault", _SWITCH),
                                            _p("Confirm", _SWITCH), _p("BypassMasterAccountSid", _SWITCH)),
           remove_mailbox_permission, write=True),
)}


# Cmdlets kept in their own modules (SendAs/SendOnBehalf, folder permissions, RBAC for Applications); each
# registers itself into CMDLETS when it has loaded, whichever module was imported first.
from . import delegation, folders, rbac  # noqa: E402,F401  pylint: disable=wrong-import-position,cyclic-import,unused-import
