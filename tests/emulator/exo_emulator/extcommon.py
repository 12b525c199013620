"""Helpers shared by the cmdlet families added after the FullAccess core (delegation, folders, rbac)."""

from . import errors, params
from .cmdlets import limited, Result
from .rows import COLLECTION, GUID, GUID_KEYS, select_row
from .tenant import GROUP_MAILBOX, MAILBOX_TYPES

# Parameter kinds the core binder does not have: a value passed through as JSON (Set-Mailbox's multi-valued
# add/remove hashtable) and a list of strings (MultiValuedProperty<string>).


def describe(value):
    """How PowerShell names a value it could not convert."""
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    if isinstance(value, list):
        return "System.Object[]"
    return str(value)


def _raw(_param, value):
    return value


def _strings(param, value):
    values = value if isinstance(value, list) else [value]
    out = []
    for item in values:
        if item is None or isinstance(item, (dict, list, bool)):
            raise errors.transformation(param.name, describe(item),
                                        "Microsoft.Exchange.Data.MultiValuedProperty`1[System.String]",
                                        "Cannot convert the value to type System.String.")
        out.extend(p.strip() for p in str(item).split(",") if p.strip())
    if not out:
        raise errors.binding_validation(param.name, "an empty collection")
    return out


params.CONVERTERS.setdefault("raw", _raw)
params.CONVERTERS.setdefault("strings", _strings)

SWITCH = "switch"


def p(name, kind, enum=None):
    return params.Param(name, kind, enum)


def render(values, select=None):
    """A row with @odata.type sidecars (lists, GUID keys), trimmed by $select."""
    if select is not None:
        return select_row(values, {}, select)
    row = {}
    for key, value in values.items():
        if isinstance(value, list):
            row[key + "@odata.type"] = COLLECTION
        elif key in GUID_KEYS:
            row[key + "@odata.type"] = GUID
        row[key] = value
    return row


def require(parameters, *names):
    for name in names:
        if name not in parameters:
            raise errors.missing_parameters()


def items_result(parameters, items, render_item):
    """All items, or the ResultSize rules when the caller sent ResultSize."""
    if "ResultSize" in parameters:
        return limited(iter(items), parameters, render_item)
    return Result(list(items), render_item)


def mailbox_accept(parameters):
    """Active mailboxes; group mailboxes too with -GroupMailbox."""
    types = MAILBOX_TYPES | {GROUP_MAILBOX} if parameters.get("GroupMailbox") else MAILBOX_TYPES

    def accept(rec):
        return rec.rtd in types and rec.is_active
    return accept


def task_error(text, exc_type, status=400, error_id=""):
    """A cmdlet's own failure: ``{"error":{"code","message":"Error executing cmdlet","details":[id|type|text]}}``."""
    code = {400: "BadRequest", 404: "NotFound", 500: "InternalServerError"}.get(status, "BadRequest")
    return errors.cmdlet_error(status, code, "Error executing cmdlet", exc_type, text, error_id=error_id)


def no_settings_modified(tenant, rec, what="settings"):
    """The warning a Set-* cmdlet gives when it changed nothing."""
    return ("The command completed successfully but no %s of '%s.PROD.OUTLOOK.COM/Microsoft Exchange Hosted "
            "Organizations/%s/%s' have been modified." % (what, tenant.prefix, tenant.domain, rec.name))
