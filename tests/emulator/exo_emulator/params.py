"""Cmdlet parameter binding: case-insensitive names, PowerShell-style conversions and errors."""

from . import errors
from .tenant import INHERITANCE_TYPES, RIGHTS

RESULT_SIZE_TYPE = "Microsoft.Exchange.Data.Unlimited`1[System.UInt32]"
BOOL_REASON = ("Cannot convert value \"System.String\" to type \"System.Boolean\". Boolean parameters accept only "
               "Boolean values and numbers, such as $True, $False, 1 or 0.")


class EnumSpec:
    """Valid names of a .NET enum and its type name (for ParameterTransformationException)."""

    def __init__(self, type_name, names, flags=False):
        self.type_name = type_name
        self.names = tuple(names)
        self.flags = flags
        self.by_lower = {n.lower(): n for n in self.names}


ACCESS_RIGHTS = EnumSpec("Microsoft.Exchange.Management.RecipientTasks.MailboxRights[]",
                         sorted(name for name, _flag in RIGHTS), flags=True)
INHERITANCE = EnumSpec("System.DirectoryServices.ActiveDirectorySecurityInheritance", INHERITANCE_TYPES)
RECIPIENT_TYPE_DETAILS = EnumSpec("Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails[]", (
    "None", "UserMailbox", "LinkedMailbox", "SharedMailbox", "LegacyMailbox", "RoomMailbox", "EquipmentMailbox",
    "MailContact", "MailUser", "MailUniversalDistributionGroup", "MailNonUniversalGroup",
    "MailUniversalSecurityGroup", "DynamicDistributionGroup", "PublicFolder", "SystemAttendantMailbox",
    "SystemMailbox", "MailForestContact", "User", "Contact", "UniversalDistributionGroup", "UniversalSecurityGroup",
    "NonUniversalGroup", "DisabledUser", "MicrosoftExchange", "ArbitrationMailbox", "MailboxPlan", "LinkedUser",
    "RoomList", "DiscoveryMailbox", "RoleGroup", "RemoteUserMailbox", "Computer", "RemoteRoomMailbox",
    "RemoteEquipmentMailbox", "RemoteSharedMailbox", "PublicFolderMailbox", "TeamMailbox", "RemoteTeamMailbox",
    "MonitoringMailbox", "GroupMailbox", "LinkedRoomMailbox", "AuditLogMailbox", "RemoteGroupMailbox",
    "SchedulingMailbox", "GuestMailUser", "AuxAuditLogMailbox", "SupervisoryReviewPolicyMailbox"))
LINK_TYPE = EnumSpec("Microsoft.Exchange.Management.RecipientTasks.LinkType",
                     ("Members", "Owners", "Subscribers", "Aggregators", "EventSubscribers"))


class Param:
    __slots__ = ("name", "kind", "enum")

    def __init__(self, name, kind, enum=None):
        self.name = name
        self.kind = kind
        self.enum = enum


def _describe(value):
    if isinstance(value, (dict, list)):
        return "System.Collections.Hashtable" if isinstance(value, dict) else "System.Object[]"
    return str(value)


def _identity(param, value):
    if value is None:
        raise errors.binding_validation(param.name, "null")
    if isinstance(value, (bool, dict, list)):
        raise errors.transformation(param.name, _describe(value), "System.String", "Invalid identity value.")
    text = str(value)
    if not text.strip():
        raise errors.binding_validation(param.name, "an empty string")
    return text


def _string(param, value):
    if value is None:
        raise errors.binding_validation(param.name, "null")
    if isinstance(value, (dict, list)):
        raise errors.transformation(param.name, _describe(value), "System.String",
                                    "Cannot convert the value to type System.String.")
    return str(value)


def _switch(param, value):
    if isinstance(value, dict) and "IsPresent" in value:
        value = value["IsPresent"]
    if isinstance(value, bool):
        return value
    raise errors.transformation(param.name, _describe(value), "System.Management.Automation.SwitchParameter",
                                BOOL_REASON)


def _bool(param, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise errors.transformation(param.name, _describe(value), "System.Boolean", BOOL_REASON)


def _result_size(param, value):
    if isinstance(value, str) and value.strip().lower() == "unlimited":
        return None
    number = value
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
        return number
    raise errors.transformation(param.name, _describe(value), RESULT_SIZE_TYPE,
                                "The value must be a positive integer or \"Unlimited\".")


def _enum_names(param, value):
    values = value if isinstance(value, list) else [value]
    if not values:
        raise errors.binding_validation(param.name, "an empty collection")
    names = []
    for item in values:
        if not isinstance(item, str):
            raise errors.invalid_enum(param.name, _describe(item), param.enum.type_name, param.enum.names)
        parts = [p.strip() for p in item.split(",")] if param.enum.flags else [item.strip()]
        for part in parts:
            canonical = param.enum.by_lower.get(part.lower())
            if canonical is None:
                raise errors.invalid_enum(param.name, part, param.enum.type_name, param.enum.names)
            names.append(canonical)
    return names


def _enum(param, value):
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    names = _enum_names(param, value)
    if len(names) != 1:
        raise errors.invalid_enum(param.name, _describe(value), param.enum.type_name, param.enum.names)
    return names[0]


CONVERTERS = {"identity": _identity, "string": _string, "switch": _switch, "bool": _bool,
              "resultsize": _result_size, "enum_array": _enum_names, "enum": _enum}


def bind(params_spec, raw):
    """Validate raw JSON parameters against ``params_spec`` (lower-case name -> Param)."""
    bound = {}
    for key, value in raw.items():
        param = params_spec.get(str(key).lower())
        if param is None:
            raise errors.unknown_parameter(key)
        bound[param.name] = CONVERTERS[param.kind](param, value)
    return bound


def spec(*params):
    return {p.name.lower(): p for p in params}
