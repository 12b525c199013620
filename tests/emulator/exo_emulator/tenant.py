"""Tenant model: recipients, mailbox ACLs, app registrations, identity indices, JSON files."""

import datetime
import hashlib
import json
import os
import threading
import uuid

SCHEMA = "exo-emulator-tenant/1"
DEFAULT_ENVIRONMENT = "O365Default"

MAILBOX_TYPES = frozenset(("UserMailbox", "SharedMailbox", "RoomMailbox", "EquipmentMailbox"))
GROUP_MAILBOX = "GroupMailbox"
MAIL_USER = "MailUser"
USER = "User"
MESG = "MailUniversalSecurityGroup"
USG = "UniversalSecurityGroup"
DG = "MailUniversalDistributionGroup"
GROUP_TYPES = frozenset((MESG, USG, DG, GROUP_MAILBOX))
USER_TYPES = MAILBOX_TYPES | {MAIL_USER, USER}
SECURITY_GROUP_TYPES = frozenset((MESG, USG))
ALL_TYPES = USER_TYPES | GROUP_TYPES

RECIPIENT_TYPE = {
    "UserMailbox": "UserMailbox", "SharedMailbox": "UserMailbox", "RoomMailbox": "UserMailbox",
    "EquipmentMailbox": "UserMailbox", GROUP_MAILBOX: "MailUniversalDistributionGroup",
    MAIL_USER: "MailUser", USER: "User", MESG: "MailUniversalSecurityGroup", USG: "Group",
    DG: "MailUniversalDistributionGroup",
}

# MailboxRights flag values; rows list them in this (ascending) order.
RIGHTS = (("FullAccess", 0x1), ("ExternalAccount", 0x2), ("DeleteItem", 0x10000),
          ("ReadPermission", 0x20000), ("ChangePermission", 0x40000), ("ChangeOwner", 0x80000))
RIGHT_BY_NAME = {name.lower(): (name, bit) for name, bit in RIGHTS}
FULL_ACCESS = 0x1
READ_PERMISSION = 0x20000
INHERITANCE_TYPES = ("None", "All", "Descendents", "SelfAndChildren", "Children")

SELF_SID = "S-1-5-10"
WELL_KNOWN = {"S-1-5-10": "NT AUTHORITY\\SELF", "S-1-5-18": "NT AUTHORITY\\SYSTEM",
              "S-1-5-20": "NT AUTHORITY\\NETWORK SERVICE"}
EXO_RESOURCE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"

CLOUDS = {
    "O365Default": ("outlook.office365.com", "login.microsoftonline.com"),
    "O365USGovGCCHigh": ("outlook.office365.us", "login.microsoftonline.us"),
    "O365USGovDoD": ("outlook-dod.office365.us", "login.microsoftonline.us"),
    "O365China": ("partner.outlook.cn", "login.chinacloudapi.cn"),
}
APP_NAMESPACE = uuid.UUID("6f1d3c2a-5b7e-4f0a-9c61-2d8e4b7a9e10")


def rights_to_names(bits):
    return [name for name, bit in RIGHTS if bits & bit]


def names_to_rights(names):
    bits = 0
    for name in names:
        bits |= RIGHT_BY_NAME[name.lower()][1]
    return bits


def iso(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_iso(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _lower(text):
    """``text.lower()``, returning ``text`` itself when unchanged (keeps index keys shared)."""
    low = text.lower()
    return text if low == text else low


class Ace:
    """One access control entry. Immutable: changes replace the object, so cursors keep snapshots."""

    __slots__ = ("sid", "rights", "deny", "inheritance", "inherited")

    def __init__(self, sid, rights, deny=False, inheritance="All", inherited=False):
        self.sid = sid
        self.rights = rights
        self.deny = deny
        self.inheritance = inheritance
        self.inherited = inherited

    def to_json(self):
        return [self.sid, rights_to_names(self.rights), self.deny, self.inheritance, self.inherited]

    @classmethod
    def from_json(cls, data):
        sid, rights, deny, inheritance, inherited = data
        return cls(sid, names_to_rights(rights), bool(deny), inheritance, bool(inherited))


SELF_ACE = Ace(SELF_SID, FULL_ACCESS | READ_PERMISSION)
DEFAULT_ACL = (SELF_ACE,)

_RECIPIENT_FIELDS = ("rtd", "guid", "exchange_guid", "edoid", "sid", "name", "alias", "display_name", "upn",
                     "primary_smtp", "email_addresses", "first_name", "last_name", "department", "office", "city",
                     "country", "company", "custom", "when_created", "sku_assigned", "hidden", "inactive",
                     "soft_deleted", "members", "owners", "acl", "automapping",
                     # delegation state beyond FullAccess (delegation.py, folders.py); None = the default
                     "language", "send_as", "send_on_behalf", "folder_acl", "extra_folders")


class Recipient:
    """A directory object. ``acl`` is None while the mailbox has the default ACL (SELF only)."""

    __slots__ = _RECIPIENT_FIELDS

    def __init__(self, rtd, guid, name, **fields):
        self.rtd = rtd
        self.guid = guid
        self.name = name
        self.exchange_guid = fields.get("exchange_guid", "")
        self.edoid = fields.get("edoid", "")
        self.sid = fields.get("sid", "")
        self.alias = fields.get("alias", "")
        self.display_name = fields.get("display_name", name)
        self.upn = fields.get("upn", "")
        self.primary_smtp = fields.get("primary_smtp", "")
        addresses = fields.get("email_addresses")
        # None means the standard pair (primary SMTP + routing address), computed by Tenant.addresses.
        self.email_addresses = tuple(addresses) if addresses is not None else None
        self.first_name = fields.get("first_name", "")
        self.last_name = fields.get("last_name", "")
        self.department = fields.get("department", "")
        self.office = fields.get("office", "")
        self.city = fields.get("city", "")
        self.country = fields.get("country", "")
        self.company = fields.get("company", "")
        self.custom = fields.get("custom")
        self.when_created = fields.get("when_created", 0.0)
        self.sku_assigned = fields.get("sku_assigned", False)
        self.hidden = fields.get("hidden", False)
        self.inactive = fields.get("inactive", False)
        self.soft_deleted = fields.get("soft_deleted", False)
        self.members = fields.get("members")
        self.owners = fields.get("owners")
        self.acl = fields.get("acl")
        self.automapping = fields.get("automapping")
        # Mailbox language ("" = en-US): decides the localized default folder names (folders.py).
        self.language = fields.get("language", "")
        # SIDs holding SendAs; None = the default (SELF on user objects, nobody on groups).
        self.send_as = fields.get("send_as")
        # GUIDs of the recipients in GrantSendOnBehalfTo (GUIDs survive renames).
        self.send_on_behalf = fields.get("send_on_behalf")
        # {folder key: [[principal, rights, flags], ...]} for folders whose permissions differ from the default.
        self.folder_acl = fields.get("folder_acl")
        # User-created folders: ["Inbox/Case Files", ...] (parent folder key / name).
        self.extra_folders = fields.get("extra_folders")

    @property
    def recipient_type(self):
        return RECIPIENT_TYPE[self.rtd]

    @property
    def is_mailbox(self):
        return self.rtd in MAILBOX_TYPES or self.rtd == GROUP_MAILBOX

    @property
    def is_group(self):
        return self.rtd in GROUP_TYPES

    @property
    def is_active(self):
        return not (self.inactive or self.soft_deleted)

    def aces(self):
        return DEFAULT_ACL if self.acl is None else self.acl

    def custom_attribute(self, number):
        return self.custom[number - 1] if self.custom else ""

    def to_json(self):
        data = {"type": self.rtd, "guid": self.guid, "name": self.name}
        for key in ("exchange_guid", "edoid", "sid", "alias", "display_name", "upn", "primary_smtp",
                    "first_name", "last_name", "department", "office", "city", "country", "company"):
            value = getattr(self, key)
            if value:
                data[key] = value
        if self.email_addresses is not None:
            data["email_addresses"] = list(self.email_addresses)
        if self.custom:
            data["custom_attributes"] = {str(i + 1): v for i, v in enumerate(self.custom) if v}
        data["when_created"] = iso(self.when_created)
        for key in ("sku_assigned", "hidden", "inactive", "soft_deleted"):
            if getattr(self, key):
                data[key] = True
        if self.members is not None:
            data["members"] = [m.guid for m in self.members]
        if self.owners is not None:
            data["owners"] = [m.guid for m in self.owners]
        if self.acl is not None:
            data["acl"] = [ace.to_json() for ace in self.acl]
        if self.automapping:
            data["automapping"] = dict(self.automapping)
        if self.language:
            data["language"] = self.language
        for key in ("send_as", "send_on_behalf", "extra_folders"):
            if getattr(self, key) is not None:
                data[key] = list(getattr(self, key))
        if self.folder_acl is not None:
            data["folder_acl"] = {k: [list(e) for e in v] for k, v in self.folder_acl.items()}
        return data

    @classmethod
    def from_json(cls, data):
        fields = {k: data[k] for k in ("exchange_guid", "edoid", "sid", "alias", "display_name", "upn", "primary_smtp",
                                       "email_addresses", "first_name", "last_name", "department", "office", "city",
                                       "country", "company", "sku_assigned", "hidden", "inactive", "soft_deleted")
                  if k in data}
        custom = data.get("custom_attributes")
        if custom:
            fields["custom"] = tuple(custom.get(str(i), "") for i in range(1, 16))
        if data.get("when_created"):
            fields["when_created"] = parse_iso(data["when_created"])
        if data.get("acl") is not None:
            fields["acl"] = [Ace.from_json(a) for a in data["acl"]]
        if data.get("automapping"):
            fields["automapping"] = dict(data["automapping"])
        if data.get("language"):
            fields["language"] = data["language"]
        for key in ("send_as", "send_on_behalf", "extra_folders"):
            if data.get(key) is not None:
                fields[key] = list(data[key])
        if data.get("folder_acl") is not None:
            fields["folder_acl"] = {k: [list(e) for e in v] for k, v in data["folder_acl"].items()}
        if fields.get("primary_smtp") and fields["primary_smtp"] == fields.get("upn"):
            fields["primary_smtp"] = fields["upn"]
        rec = cls(data["type"], data["guid"], data["name"], **fields)
        # Resolved to objects by Tenant once every recipient exists.
        rec.members = data.get("members")
        rec.owners = data.get("owners")
        return rec


class App:
    """An app registration: secrets, certificates (PKI names) and the two grants the API needs."""

    __slots__ = ("name", "client_id", "display_name", "secrets", "certificates", "app_role", "exchange_role",
                 "certificate_objects", "app_role_v2")

    def __init__(self, name, client_id, secrets=(), certificates=(), app_role=True, exchange_role=True,
                 display_name=None, app_role_v2=False):
        self.name = name
        self.client_id = client_id
        self.display_name = display_name or "exo-emulator " + name
        self.secrets = [dict(s) for s in secrets]
        self.certificates = list(certificates)
        self.app_role = app_role
        self.exchange_role = exchange_role
        self.certificate_objects = []
        # Exchange.ManageAsAppV2: the app permission of the documented Admin API (adminapi/v2.0).
        self.app_role_v2 = app_role_v2

    def to_json(self):
        return {"name": self.name, "client_id": self.client_id, "display_name": self.display_name,
                "secrets": self.secrets, "certificates": self.certificates,
                "app_role": self.app_role, "exchange_role": self.exchange_role, "app_role_v2": self.app_role_v2}

    @classmethod
    def from_json(cls, data):
        return cls(data["name"], data["client_id"], data.get("secrets", ()), data.get("certificates", ()),
                   data.get("app_role", True), data.get("exchange_role", True), data.get("display_name"),
                   data.get("app_role_v2", data["name"] == "main"))

    @property
    def secret(self):
        return self.secrets[0]["value"] if self.secrets else None


def default_apps(tenant_id):
    """The app registrations every tenant has unless its file says otherwise.

    ``admin_api_only`` holds only Exchange.ManageAsAppV2 (the documented Admin API, adminapi/v2.0); ``main``
    holds both app roles.
    """
    specs = (("main", True, True, True), ("no_app_role", False, True, False),
             ("no_exchange_role", True, False, False), ("expired_certificate", True, True, False),
             ("admin_api_only", False, True, True))
    apps = []
    for name, app_role, exchange_role, app_role_v2 in specs:
        client_id = str(uuid.uuid5(APP_NAMESPACE, tenant_id + ":" + name))
        digest = hashlib.sha256((tenant_id + ":secret:" + name).encode()).hexdigest()
        secret = {"id": str(uuid.uuid5(APP_NAMESPACE, client_id + ":secret")),
                  "value": "emu8Q~" + digest[:34], "expires": None, "revoked": False}
        apps.append(App(name, client_id, [secret], [name], app_role, exchange_role, app_role_v2=app_role_v2))
    return apps


class Tenant:
    """One emulated organization. Callers hold ``lock`` while reading or changing state."""

    def __init__(self, tenant_id, domain, name=None, environment=DEFAULT_ENVIRONMENT, prefix="NAMPR01A001",
                 sid_domain="S-1-5-21-1000000001-2000000002-3000000003", system_aces=True, apps=None):
        self.tenant_id = tenant_id.lower()
        self.domain = domain.lower()
        self.name = name or self.domain.split(".")[0]
        self.environment = environment
        self.prefix = prefix
        self.sid_domain = sid_domain
        self.system_aces_enabled = system_aces
        self.apps = {}
        for app in apps if apps is not None else default_apps(self.tenant_id):
            self.apps[app.client_id.lower()] = app
        self.recipients = []
        self.index = {}
        self.display_index = {}
        self.sid_index = {}
        self.lock = threading.RLock()
        self.system_aces = self._system_aces()
        self.well_known = dict(WELL_KNOWN)
        for sid, display in self._system_trustees():
            self.well_known[sid] = display
        # RBAC for Applications (rbac.py): plain records, saved with the tenant.
        self.service_principals = []
        self.management_scopes = []
        self.role_assignments = []
        self.organization_config = {}

    # -- construction ------------------------------------------------------
    def _system_trustees(self):
        forest = "S-1-5-21-3623811015-3361044348-30300820"
        prefix = self.prefix
        return ((forest + "-500", prefix + "\\Administrator"), (forest + "-512", prefix + "\\Domain Admins"),
                (forest + "-519", prefix + "\\Enterprise Admins"),
                (forest + "-1104", prefix + "\\Organization Management"),
                (forest + "-1105", prefix + "\\Exchange Servers"),
                (forest + "-1106", prefix + "\\Managed Availability Servers"))

    def _system_aces(self):
        sids = [sid for sid, _ace in self._system_trustees()]
        return (Ace(sids[0], FULL_ACCESS, True, "All", True), Ace(sids[1], FULL_ACCESS, True, "All", True),
                Ace(sids[2], FULL_ACCESS, True, "All", True), Ace(sids[3], FULL_ACCESS, True, "All", True),
                Ace("S-1-5-18", FULL_ACCESS, False, "All", True), Ace("S-1-5-20", READ_PERMISSION, False, "All", True),
                Ace(sids[4], FULL_ACCESS | READ_PERMISSION, False, "All", True),
                Ace(sids[5], READ_PERMISSION, False, "All", True))

    def add(self, rec):
        self.recipients.append(rec)
        self._index_recipient(rec)
        return rec

    @property
    def routing_domain(self):
        return "%s.mail.onmicrosoft.com" % self.name

    def addresses(self, rec):
        """EmailAddresses of a recipient (the standard pair unless the recipient lists its own)."""
        if rec.email_addresses is not None:
            return rec.email_addresses
        if not rec.primary_smtp:
            return ()
        return ("SMTP:" + rec.primary_smtp, "smtp:%s@%s" % (rec.alias, self.routing_domain))

    def _index_recipient(self, rec):
        keys = {rec.guid, rec.exchange_guid, rec.edoid, rec.sid, rec.name, rec.alias, rec.upn, rec.primary_smtp}
        for address in rec.email_addresses or ():
            keys.add(address.split(":", 1)[1] if ":" in address else address)
        for key in keys:
            if key:
                _add_key(self.index, _lower(key), rec)
        if rec.display_name:
            _add_key(self.display_index, _lower(rec.display_name), rec)
        if rec.sid:
            self.sid_index[rec.sid] = rec

    def unindex(self, rec):
        """Drop every index key of ``rec`` (before its names or addresses change; churn.py)."""
        keys = {rec.guid, rec.exchange_guid, rec.edoid, rec.sid, rec.name, rec.alias, rec.upn, rec.primary_smtp}
        for address in rec.email_addresses or ():
            keys.add(address.split(":", 1)[1] if ":" in address else address)
        for key in keys:
            if key:
                _remove_key(self.index, _lower(key), rec)
        if rec.display_name:
            _remove_key(self.display_index, _lower(rec.display_name), rec)
        if rec.sid and self.sid_index.get(rec.sid) is rec:
            del self.sid_index[rec.sid]

    def reindex(self, rec):
        """Index ``rec`` again after its names or addresses changed."""
        self._index_recipient(rec)

    def send_on_behalf_names(self, rec):
        """GrantSendOnBehalfTo as Get-Mailbox shows it: the Name of each delegate that still exists."""
        if not rec.send_on_behalf:
            return []
        names = []
        for guid in rec.send_on_behalf:
            key = guid.lower()
            found = [r for r in _as_list(self.index.get(key)) if r.guid.lower() == key and r.is_active]
            if found:
                names.append(found[0].name)
        return names

    def link_groups(self):
        """Turn member/owner GUID lists (from a file) into recipient references."""
        by_guid = {r.guid: r for r in self.recipients}
        for rec in self.recipients:
            for attr in ("members", "owners"):
                value = getattr(rec, attr)
                if value and isinstance(value[0], str):
                    setattr(rec, attr, [by_guid[g] for g in value if g in by_guid])

    # -- naming --------------------------------------------------------------
    @property
    def dn_suffix(self):
        return ",OU=%s,OU=Microsoft Exchange Hosted Organizations,DC=%s,DC=PROD,DC=OUTLOOK,DC=COM" % (
            self.domain, self.prefix)

    def dn(self, rec):
        return "CN=" + rec.name.replace("\\", "\\\\").replace(",", "\\,") + self.dn_suffix

    @staticmethod
    def legacy_dn(rec):
        return "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=%s-%s" % (
            rec.exchange_guid.replace("-", "") if rec.exchange_guid else rec.guid.replace("-", ""), rec.alias)

    @property
    def server_fqdn(self):
        return self.prefix + ".PROD.OUTLOOK.COM"

    def account_name(self, rec):
        """The DOMAIN\\account form Exchange warnings print for a trustee."""
        return "%s\\%s" % (self.prefix, rec.alias or rec.name)

    def trustee_display(self, sid):
        """How Get-MailboxPermission shows a trustee: UPN for users, Name for groups, else the SID."""
        known = self.well_known.get(sid)
        if known:
            return known
        rec = self.sid_index.get(sid)
        if rec is None:
            return sid
        if rec.is_group:
            return rec.name
        return rec.upn or rec.name

    # -- identity resolution -------------------------------------------------
    def lookup(self, identity):
        """Every recipient an identity string could name, best tier first: (matches, tier_two)."""
        key = identity.strip().lower()
        if not key:
            return []
        if ":" in key and key.split(":", 1)[0] in ("smtp", "sip", "x500"):
            key = key.split(":", 1)[1]
        if key.startswith("cn="):
            return self._lookup_dn(key)
        if key.startswith("/o="):
            return self._lookup_legacy_dn(key)
        if "\\" in key:
            key = key.rsplit("\\", 1)[1]
        found = _as_list(self.index.get(key))
        routing = "@" + self.routing_domain
        if not found and key.endswith(routing):
            found = [r for r in _as_list(self.index.get(key[:-len(routing)]))
                     if any(a.lower().endswith(":" + key) for a in self.addresses(r))]
        return found

    def lookup_display_name(self, identity):
        return _as_list(self.display_index.get(identity.strip().lower()))

    def _lookup_dn(self, key):
        suffix = self.dn_suffix.lower()
        if not key.endswith(suffix):
            return []
        name = key[3:-len(suffix)].replace("\\,", ",").replace("\\\\", "\\")
        return [r for r in _as_list(self.index.get(name)) if r.name.lower() == name]

    def _lookup_legacy_dn(self, key):
        last = key.rsplit("/cn=", 1)[-1]
        hex_guid = last.split("-", 1)[0]
        if len(hex_guid) != 32:
            return []
        guid = str(uuid.UUID(hex_guid))
        return [r for r in _as_list(self.index.get(guid)) if self.legacy_dn(r).lower() == key]

    def resolve(self, identity, accept):
        """Recipients in scope (``accept(rec)``) that ``identity`` names; display names are a fallback tier."""
        matches = [r for r in self.lookup(identity) if accept(r)]
        if not matches:
            matches = [r for r in self.lookup_display_name(identity) if accept(r)]
        return matches

    # -- ACL helpers -----------------------------------------------------------
    def all_aces(self, mailbox):
        aces = mailbox.aces()
        if self.system_aces_enabled:
            return tuple(aces) + self.system_aces
        return tuple(aces)

    # -- files --------------------------------------------------------------------
    def to_json(self):
        return {
            "schema": SCHEMA, "tenant_id": self.tenant_id, "domain": self.domain, "name": self.name,
            "environment": self.environment, "prefix": self.prefix, "sid_domain": self.sid_domain,
            "system_aces": self.system_aces_enabled,
            "apps": [app.to_json() for app in self.apps.values()],
            "recipients": [rec.to_json() for rec in self.recipients],
            "service_principals": [dict(r) for r in self.service_principals],
            "management_scopes": [dict(r) for r in self.management_scopes],
            "role_assignments": [dict(r) for r in self.role_assignments],
            "organization_config": dict(self.organization_config),
        }

    @classmethod
    def from_json(cls, data):
        if data.get("schema", SCHEMA) != SCHEMA:
            raise ValueError("unsupported tenant schema %r" % data.get("schema"))
        apps = [App.from_json(a) for a in data["apps"]] if data.get("apps") else None
        tenant = cls(data["tenant_id"], data["domain"], data.get("name"), data.get("environment", DEFAULT_ENVIRONMENT),
                     data.get("prefix", "NAMPR01A001"), data.get("sid_domain", "S-1-5-21-1000000001-2000000002-3000000003"),
                     data.get("system_aces", True), apps)
        for item in data.get("recipients", ()):
            tenant.add(Recipient.from_json(item))
        tenant.link_groups()
        tenant.service_principals = [dict(r) for r in data.get("service_principals", ())]
        tenant.management_scopes = [dict(r) for r in data.get("management_scopes", ())]
        tenant.role_assignments = [dict(r) for r in data.get("role_assignments", ())]
        tenant.organization_config = dict(data.get("organization_config") or {})
        return tenant

    def save(self, path):
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(self.to_json(), handle, ensure_ascii=False, separators=(",", ":"))
        os.replace(path + ".tmp", path)

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as handle:
            return cls.from_json(json.load(handle))

    def app_by_name(self, name):
        for app in self.apps.values():
            if app.name == name:
                return app
        return None

    def summary(self):
        counts = {}
        for rec in self.recipients:
            key = rec.rtd + (" (soft-deleted)" if rec.soft_deleted else " (inactive)" if rec.inactive else "")
            counts[key] = counts.get(key, 0) + 1
        return counts


def _add_key(index, key, rec):
    current = index.get(key)
    if current is None:
        index[key] = rec
    elif current is rec:
        return
    elif isinstance(current, list):
        if rec not in current:
            current.append(rec)
    else:
        index[key] = [current, rec]


def _remove_key(index, key, rec):
    current = index.get(key)
    if current is rec:
        del index[key]
    elif isinstance(current, list) and rec in current:
        current.remove(rec)
        if len(current) == 1:
            index[key] = current[0]
        elif not current:
            del index[key]


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    return [value]
