"""SendAs (Get/Add/Remove-RecipientPermission) and SendOnBehalf (Set-Mailbox -GrantSendOnBehalfTo, and the
GrantSendOnBehalfTo column of Get-Mailbox rows); Set-Mailbox also sets CustomAttribute1-15 (the archive campaign's
mark for RBAC for Applications).

SendAs is kept per recipient as the SIDs holding it (``Recipient.send_as``; None = the default: SELF on user
objects). GrantSendOnBehalfTo is kept as recipient GUIDs (``Recipient.send_on_behalf``), shown as their Names.
"""

from . import errors
from .cmdlets import CMDLETS, Cmdlet, Result, limited, resolve_one, resolve_trustee
from .extcommon import SWITCH, describe, no_settings_modified, p, render, require
from .params import EnumSpec, spec
from .tenant import MAIL_USER, MAILBOX_TYPES, MESG, SELF_SID, USER, USER_TYPES, USG

SEND_AS = "SendAs"
RECIPIENT_RIGHTS = EnumSpec("Microsoft.Exchange.Management.RecipientTasks.RecipientAccessRight[]", (SEND_AS,),
                            flags=True)
GENERIC_HASHTABLE = "#Exchange.GenericHashTable"
SEND_ON_BEHALF_TYPES = MAILBOX_TYPES | {MAIL_USER, MESG}


def _mail_enabled(rec):
    return rec.is_active and rec.rtd not in (USER, USG)


def send_as_sids(rec):
    if rec.send_as is not None:
        return list(rec.send_as)
    return [SELF_SID] if rec.rtd in USER_TYPES else []


def recipient_permission_row(tenant, rec, sid, select=None):
    values = {"Identity": rec.name, "Trustee": tenant.trustee_display(sid), "AccessControlType": "Allow",
              "AccessRights": [SEND_AS], "TrusteeSidString": sid, "TrusteeWithPrimarySmtpAddress": "",
              "IsValid": True, "ObjectState": "Unchanged"}
    return render(values, select)


def _account(tenant, sid, trustee):
    return tenant.account_name(trustee) if trustee is not None else tenant.well_known.get(sid, sid)


# -- RecipientPermission -----------------------------------------------------------------------------------------

def get_recipient_permission(inv):
    tenant, parameters = inv.tenant, inv.params
    if "Identity" in parameters:
        targets = [resolve_one(tenant, parameters["Identity"], _mail_enabled)]
    else:
        targets = tenant.recipients
    trustee_sid = resolve_trustee(tenant, parameters["Trustee"])[0] if "Trustee" in parameters else None
    pairs = ((rec, sid) for rec in targets if _mail_enabled(rec) for sid in send_as_sids(rec)
             if trustee_sid is None or sid == trustee_sid)
    return limited(pairs, parameters, lambda item, select: recipient_permission_row(tenant, item[0], item[1], select))


def add_recipient_permission(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Identity", "Trustee", "AccessRights")
    rec = resolve_one(tenant, parameters["Identity"], _mail_enabled)
    sid, trustee = resolve_trustee(tenant, parameters["Trustee"])
    current = send_as_sids(rec)
    if sid in current:
        return Result(warnings=["The appropriate access control entry is already present on the object \"%s\" for "
                                "account \"%s\"." % (tenant.dn(rec), _account(tenant, sid, trustee))])
    rec.send_as = current + [sid]
    return Result([(rec, sid)], lambda item, select: recipient_permission_row(tenant, item[0], item[1], select))


def remove_recipient_permission(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Identity", "Trustee", "AccessRights")
    rec = resolve_one(tenant, parameters["Identity"], _mail_enabled)
    sid, trustee = resolve_trustee(tenant, parameters["Trustee"])
    current = send_as_sids(rec)
    if sid not in current or parameters.get("Deny"):
        return Result(warnings=["Can't remove the access control entry on the object \"%s\" for account \"%s\" "
                                "because the ACE isn't present." % (tenant.dn(rec), _account(tenant, sid, trustee))],
                      value_null=True)
    rec.send_as = [s for s in current if s != sid]
    return Result()


# -- GrantSendOnBehalfTo ---------------------------------------------------------------------------------------------

def _delegate(tenant, value):
    """A recipient GrantSendOnBehalfTo may hold: a mailbox, mail user or mail-enabled security group."""
    text = str(value)
    matches = tenant.resolve(text, lambda r: r.is_active and r.rtd in SEND_ON_BEHALF_TYPES)
    if len(matches) > 1:
        raise errors.ambiguous(text)
    if not matches:
        raise errors.cmdlet_error(404, "NotFound", "Error executing cmdlet", errors.NOT_FOUND_TYPE,
                                  "Couldn't find object \"%s\". Please make sure that it was spelled correctly or "
                                  "specify a different object." % text, error_id="Ex94914C")
    return matches[0].guid


def _values(value):
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if v is not None and str(v).strip()]
    return [value] if str(value).strip() else []


def _edit(tenant, current, value):
    """The new GrantSendOnBehalfTo: a full list (null or [] clears), or the add/remove hashtable."""
    if isinstance(value, dict):
        keys = {str(k).lower(): v for k, v in value.items()}
        if keys.get("@odata.type") != GENERIC_HASHTABLE or not set(keys) - {"@odata.type"} <= {"add", "remove"}:
            raise errors.transformation("GrantSendOnBehalfTo", describe(value),
                                        "Microsoft.Exchange.Data.MultiValuedProperty",
                                        "Send a list of recipients, or an object with \"@odata.type\": "
                                        "\"#Exchange.GenericHashTable\" and \"add\" and/or \"remove\".")
        result = list(current)
        for item in _values(keys.get("add")):
            guid = _delegate(tenant, item)
            if guid not in result:
                result.append(guid)
        for item in _values(keys.get("remove")):
            guid = _delegate(tenant, item)
            result = [g for g in result if g != guid]
        return result
    result = []
    for item in _values(value):
        guid = _delegate(tenant, item)
        if guid not in result:
            result.append(guid)
    return result


# -- CustomAttribute1-15 ----------------------------------------------------------------------------------------------

CUSTOM_ATTRIBUTES = tuple("CustomAttribute%d" % number for number in range(1, 16))
CUSTOM_ATTRIBUTE_MAX_LENGTH = 1024
DATA_VALIDATION_TYPE = "Microsoft.Exchange.Data.DataValidationException"


def _custom_value(parameter, value):
    """A CustomAttributeN value: a string of at most 1,024 characters; null or "" clears the attribute."""
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        raise errors.transformation(parameter, describe(value), "System.String",
                                    "Cannot convert the value to type System.String.")
    text = str(value)
    if len(text) > CUSTOM_ATTRIBUTE_MAX_LENGTH:
        raise errors.cmdlet_error(400, "BadRequest", "Error executing cmdlet", DATA_VALIDATION_TYPE,
                                  "The length of the property is too long. The maximum length is %d and the length "
                                  "of the value provided is %d." % (CUSTOM_ATTRIBUTE_MAX_LENGTH, len(text)))
    return text


def _custom_attributes(mailbox, parameters):
    """The mailbox's 15 custom attributes after the Set-Mailbox (converted before anything is changed)."""
    values = [mailbox.custom_attribute(number) for number in range(1, 16)]
    for position, name in enumerate(CUSTOM_ATTRIBUTES):
        if name in parameters:
            values[position] = _custom_value(name, parameters[name])
    return values


def set_mailbox(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Identity")
    mailbox = resolve_one(tenant, parameters["Identity"],
                          lambda r: r.rtd in MAILBOX_TYPES and r.is_active)
    current = list(mailbox.send_on_behalf or ())
    wanted = _edit(tenant, current, parameters["GrantSendOnBehalfTo"]) if "GrantSendOnBehalfTo" in parameters \
        else current
    custom = _custom_attributes(mailbox, parameters)
    old_custom = [mailbox.custom_attribute(number) for number in range(1, 16)]
    if wanted == current and custom == old_custom:
        return Result(warnings=[no_settings_modified(tenant, mailbox)])
    mailbox.send_on_behalf = wanted or None
    mailbox.custom = tuple(custom) if any(custom) else None
    return Result()


# -- Get-Mailbox: IncludeGrantSendOnBehalfToWithDisplayNames -----------------------------------------------------------

WITH_DISPLAY_NAMES = "GrantSendOnBehalfToWithDisplayNames"


def _display_names(tenant, rec):
    names = []
    for guid in rec.send_on_behalf or ():
        found = [r for r in tenant.resolve(guid, lambda r: r.is_active) if r.guid.lower() == guid.lower()]
        if found:
            names.append(found[0].display_name or found[0].name)
    return names


def _get_mailbox_wrapper(original):
    include = p("IncludeGrantSendOnBehalfToWithDisplayNames", SWITCH)

    def handler(inv):
        wanted = inv.params.pop(include.name, False)
        result = original.handler(inv)
        if not wanted or result.render is None:
            return result
        tenant, render_row = inv.tenant, result.render

        def render_with_names(rec, select):
            row = render_row(rec, select)
            if select is None or any(s.lower() == WITH_DISPLAY_NAMES.lower() for s in select):
                row[WITH_DISPLAY_NAMES + "@odata.type"] = "#Collection(String)"
                row[WITH_DISPLAY_NAMES] = _display_names(tenant, rec)
            return row
        result.render = render_with_names
        return result
    params_spec = dict(original.params)
    params_spec[include.name.lower()] = include
    return Cmdlet(original.name, params_spec, handler, original.write)


_IDENTITY = p("Identity", "identity")
_RIGHTS = p("AccessRights", "enum_array", RECIPIENT_RIGHTS)
_CONFIRM = p("Confirm", SWITCH)
_SKIP = (p("SkipDomainValidationForMailContact", SWITCH), p("SkipDomainValidationForMailUser", SWITCH),
         p("SkipDomainValidationForSharedMailbox", SWITCH))


def cmdlets():
    return (
        Cmdlet("Get-RecipientPermission", spec(_IDENTITY, p("Trustee", "identity"), _RIGHTS,
                                               p("ResultSize", "resultsize")), get_recipient_permission),
        Cmdlet("Add-RecipientPermission", spec(_IDENTITY, p("Trustee", "identity"), _RIGHTS, _CONFIRM, *_SKIP),
               add_recipient_permission, write=True),
        Cmdlet("Remove-RecipientPermission", spec(_IDENTITY, p("Trustee", "identity"), _RIGHTS, _CONFIRM,
                                                  p("Deny", SWITCH), *_SKIP), remove_recipient_permission,
               write=True),
        Cmdlet("Set-Mailbox", spec(_IDENTITY, p("GrantSendOnBehalfTo", "raw"), _CONFIRM, p("Force", SWITCH),
                                   *(p(name, "raw") for name in CUSTOM_ATTRIBUTES)),
               set_mailbox, write=True),
        _get_mailbox_wrapper(CMDLETS["get-mailbox"]),
    )


CMDLETS.update((c.name.lower(), c) for c in cmdlets())
