"""Row rendering: wide Get-* rows with @odata.type sidecars, $select trimming, permission rows."""

from .tenant import RECIPIENT_TYPE, iso, rights_to_names

COLLECTION = "#Collection(String)"
GUID = "#Guid"
GUID_KEYS = frozenset(("Guid", "ExchangeGuid", "ArchiveGuid", "DisabledArchiveGuid", "ExchangeObjectId"))
ZERO_GUID = "00000000-0000-0000-0000-000000000000"

# Static part of a Get-Mailbox row (values as a real tenant shows them by default).
MAILBOX_STATIC = (
    ("Database", "NAMPR01DG001-db042"), ("UseDatabaseRetentionDefaults", False),
    ("RetainDeletedItemsUntilBackup", False), ("DeliverToMailboxAndForward", False),
    ("LitigationHoldEnabled", False), ("SingleItemRecoveryEnabled", True), ("RetentionHoldEnabled", False),
    ("EndDateForRetentionHold", ""), ("StartDateForRetentionHold", ""), ("RetentionComment", ""),
    ("RetentionUrl", ""), ("LitigationHoldDate", ""), ("LitigationHoldOwner", ""), ("ElcProcessingDisabled", False),
    ("ComplianceTagHoldApplied", False), ("WasInactiveMailbox", False), ("DelayHoldApplied", False),
    ("DelayReleaseHoldApplied", False), ("InactiveMailboxRetireTime", ""), ("OrphanSoftDeleteTrackingTime", ""),
    ("LitigationHoldDuration", "Unlimited"), ("ManagedFolderMailboxPolicy", ""),
    ("RetentionPolicy", "Default MRM Policy"), ("AddressBookPolicy", ""), ("CalendarRepairDisabled", False),
    ("ExchangeUserAccountControl", "None"), ("AdminDisplayVersion", "Version 15.20 (Build 7762.21)"),
    ("MessageCopyForSentAsEnabled", False), ("MessageCopyForSendOnBehalfEnabled", False),
    ("MessageTrackingReadStatusEnabled", True), ("ForwardingAddress", ""), ("ForwardingSmtpAddress", ""),
    ("RetainDeletedItemsFor", "14.00:00:00"), ("IsMailboxEnabled", True), ("Languages", []),
    ("OfflineAddressBook", ""), ("ProhibitSendQuota", "99 GB (106,300,440,576 bytes)"),
    ("ProhibitSendReceiveQuota", "100 GB (107,374,182,400 bytes)"),
    ("RecoverableItemsQuota", "30 GB (32,212,254,720 bytes)"),
    ("RecoverableItemsWarningQuota", "20 GB (21,474,836,480 bytes)"),
    ("CalendarLoggingQuota", "6 GB (6,442,450,944 bytes)"), ("DowngradeHighPriorityMessagesEnabled", False),
    ("ProtocolSettings", ["RemotePowerShell\u00a71"]), ("RecipientLimits", "500"), ("ImListMigrationCompleted", False),
    ("SiloName", ""), ("IsLinked", False), ("IsRootPublicFolderMailbox", False), ("LinkedMasterAccount", ""),
    ("ResetPasswordOnNextLogon", False), ("ResourceCapacity", ""), ("ResourceCustom", []),
    ("RoomMailboxAccountEnabled", ""), ("SCLDeleteThreshold", ""), ("SCLDeleteEnabled", ""),
    ("SCLRejectThreshold", ""), ("SCLRejectEnabled", ""), ("SCLQuarantineThreshold", ""),
    ("SCLQuarantineEnabled", ""), ("SCLJunkThreshold", ""), ("SCLJunkEnabled", ""), ("AntispamBypassEnabled", False),
    ("ServerLegacyDN", ""), ("ServerName", "nampr01mb4242"), ("UseDatabaseQuotaDefaults", False),
    ("IssueWarningQuota", "98 GB (105,226,698,752 bytes)"), ("RulesQuota", "256 KB (262,144 bytes)"),
    ("UMEnabled", False), ("ThrottlingPolicy", ""), ("RoleAssignmentPolicy", "Default Role Assignment Policy"),
    ("DefaultPublicFolderMailbox", ""), ("EffectivePublicFolderMailbox", ""),
    ("SharingPolicy", "Default Sharing Policy"), ("RemoteAccountPolicy", ""), ("ArchiveDatabase", ""),
    ("ArchiveGuid", ZERO_GUID), ("ArchiveName", []), ("ArchiveQuota", "100 GB (107,374,182,400 bytes)"),
    ("ArchiveWarningQuota", "90 GB (96,636,764,160 bytes)"), ("ArchiveDomain", ""), ("ArchiveStatus", "None"),
    ("ArchiveState", "None"), ("AutoExpandingArchiveEnabled", False), ("DisabledArchiveDatabase", ""),
    ("DisabledArchiveGuid", ZERO_GUID), ("QueryBaseDN", ""), ("QueryBaseDNRestrictionEnabled", False),
    ("MailboxMoveTargetMDB", ""), ("MailboxMoveSourceMDB", ""), ("MailboxMoveFlags", "None"),
    ("MailboxMoveStatus", "None"), ("IsPersonToPersonTextMessagingEnabled", False),
    ("IsMachineToPersonTextMessagingEnabled", True), ("UserSMimeCertificate", []), ("UserCertificate", []),
    ("CalendarVersionStoreDisabled", False), ("SourceAnchor", ""), ("AuditEnabled", True),
    ("AuditLogAgeLimit", "90.00:00:00"),
    ("AuditAdmin", ["Update", "MoveToDeletedItems", "SoftDelete", "HardDelete", "SendAs", "SendOnBehalf", "Create"]),
    ("AuditDelegate", ["Update", "MoveToDeletedItems", "SoftDelete", "HardDelete", "SendAs", "SendOnBehalf"]),
    ("AuditOwner", ["Update", "MoveToDeletedItems", "SoftDelete", "HardDelete"]),
    ("DefaultAuditSet", ["Admin", "Delegate", "Owner"]), ("IsSoftDeletedByDisable", False),
    ("IncludeInGarbageCollection", False), ("WhenSoftDeleted", ""), ("InPlaceHolds", []),
    ("GeneratedOfflineAddressBooks", []), ("DataEncryptionPolicy", ""),
    ("MessageCopyForSMTPClientSubmissionEnabled", True), ("RecipientThrottlingThreshold", "Standard"),
    ("ExternalOofOptions", "External"), ("ForeignGroupSid", ""), ("AdministrativeUnits", []),
    ("ArbitrationMailbox", ""), ("ModeratedBy", []), ("ModerationEnabled", False),
    ("EmailAddressPolicyEnabled", False), ("RejectMessagesFrom", []), ("RejectMessagesFromDLMembers", []),
    ("RejectMessagesFromSendersOrMembers", []), ("AcceptMessagesOnlyFrom", []),
    ("AcceptMessagesOnlyFromDLMembers", []), ("AcceptMessagesOnlyFromSendersOrMembers", []),
    ("BypassModerationFromSendersOrMembers", []), ("GrantSendOnBehalfTo", []),
    ("RequireSenderAuthenticationEnabled", False), ("SimpleDisplayName", ""),
    ("SendModerationNotifications", "Always"), ("MailTip", ""), ("MailTipTranslations", []),
    ("MaxSendSize", "35 MB (36,700,160 bytes)"), ("MaxReceiveSize", "36 MB (37,748,736 bytes)"),
    ("PoliciesIncluded", []), ("PoliciesExcluded", ["{26491cfc-9e50-4857-861b-0cb8df22b5d7}"]),
    ("ExtensionCustomAttribute1", []), ("ExtensionCustomAttribute2", []), ("ExtensionCustomAttribute3", []),
    ("ExtensionCustomAttribute4", []), ("ExtensionCustomAttribute5", []), ("IsValid", True),
    ("ExchangeVersion", "0.20 (15.0.0.0)"), ("ObjectState", "Unchanged"),
)
MAILBOX_DYNAMIC = (
    "Identity", "Id", "Name", "Alias", "DisplayName", "UserPrincipalName", "PrimarySmtpAddress", "WindowsEmailAddress",
    "EmailAddresses", "RecipientType", "RecipientTypeDetails", "ExternalDirectoryObjectId", "Guid", "ExchangeGuid",
    "ExchangeObjectId", "DistinguishedName", "LegacyExchangeDN", "SamAccountName", "WindowsLiveID",
    "MicrosoftOnlineServicesID", "SKUAssigned", "IsInactiveMailbox", "IsSoftDeletedByRemove", "IsResource",
    "IsShared", "ResourceType", "AccountDisabled", "HiddenFromAddressListsEnabled", "Department", "Office", "City",
    "CountryOrRegion", "UsageLocation", "WhenMailboxCreated", "WhenCreated", "WhenCreatedUTC", "WhenChanged",
    "WhenChangedUTC", "OrganizationalUnitRoot", "OrganizationId", "OriginatingServer", "ObjectCategory",
    "ObjectClass", "AddressListMembership", "UMDtmfMap",
) + tuple("CustomAttribute%d" % i for i in range(1, 16))


def _sidecar(key, value):
    if isinstance(value, list):
        return COLLECTION
    if key in GUID_KEYS:
        return GUID
    return None


def _with_sidecars(pairs):
    row = {}
    for key, value in pairs:
        sidecar = _sidecar(key, value)
        if sidecar:
            row[key + "@odata.type"] = sidecar
        row[key] = value
    return row


def _mailbox_dynamic(tenant, rec):
    created = iso(rec.when_created)
    rtd = rec.rtd
    resource = rtd in ("RoomMailbox", "EquipmentMailbox")
    values = {
        "Identity": rec.name, "Id": rec.name, "Name": rec.name, "Alias": rec.alias, "DisplayName": rec.display_name,
        "UserPrincipalName": rec.upn, "PrimarySmtpAddress": rec.primary_smtp, "WindowsEmailAddress": rec.primary_smtp,
        "EmailAddresses": list(tenant.addresses(rec)), "RecipientType": RECIPIENT_TYPE[rtd],
        "RecipientTypeDetails": rtd, "ExternalDirectoryObjectId": rec.edoid, "Guid": rec.guid,
        "ExchangeGuid": rec.exchange_guid, "ExchangeObjectId": rec.guid, "DistinguishedName": tenant.dn(rec),
        "LegacyExchangeDN": tenant.legacy_dn(rec), "SamAccountName": "$%s" % rec.guid[:12].upper(),
        "WindowsLiveID": rec.upn, "MicrosoftOnlineServicesID": rec.upn, "SKUAssigned": rec.sku_assigned,
        "IsInactiveMailbox": rec.inactive, "IsSoftDeletedByRemove": rec.soft_deleted, "IsResource": resource,
        "IsShared": rtd == "SharedMailbox", "ResourceType": rtd[:-7] if resource else "",
        "AccountDisabled": rtd != "UserMailbox", "HiddenFromAddressListsEnabled": rec.hidden,
        "Department": rec.department, "Office": rec.office, "City": rec.city, "CountryOrRegion": rec.country,
        "UsageLocation": rec.country, "WhenMailboxCreated": created, "WhenCreated": created,
        "WhenCreatedUTC": created, "WhenChanged": created, "WhenChangedUTC": created,
        "OrganizationalUnitRoot": tenant.domain,
        "OrganizationId": "%s.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/%s - %s.PROD.OUTLOOK.COM/"
                          "ConfigurationUnits/%s/Configuration" % (tenant.prefix, tenant.domain, tenant.prefix,
                                                                   tenant.domain),
        "OriginatingServer": "%sDC001.%s.PROD.OUTLOOK.COM" % (tenant.prefix[:8], tenant.prefix),
        "ObjectCategory": "%s.PROD.OUTLOOK.COM/Configuration/Schema/Person" % tenant.prefix,
        "ObjectClass": ["top", "person", "organizationalPerson", "user"],
        "AddressListMembership": ["\\Mailboxes(VLV)", "\\All Mailboxes(VLV)", "\\All Recipients(VLV)",
                                  "\\Default Global Address List", "\\All Users"],
        "UMDtmfMap": [],
    }
    for number in range(1, 16):
        values["CustomAttribute%d" % number] = rec.custom_attribute(number)
    values["GrantSendOnBehalfTo"] = tenant.send_on_behalf_names(rec)  # delegation.py; key keeps its static position
    return values


def _template(static, dynamic_keys):
    pairs = [(key, None) for key in dynamic_keys] + list(static)
    return pairs


MAILBOX_KEYS = [key for key, _kind in _template(MAILBOX_STATIC, MAILBOX_DYNAMIC)]
MAILBOX_STATIC_MAP = dict(MAILBOX_STATIC)
_LIST_DYNAMIC = frozenset(("EmailAddresses", "ObjectClass", "AddressListMembership", "UMDtmfMap"))


def mailbox_row(tenant, rec, select=None):
    dynamic = _mailbox_dynamic(tenant, rec)
    if select is not None:
        return select_row(dynamic, MAILBOX_STATIC_MAP, select)
    row = {}
    for key in MAILBOX_KEYS:
        value = dynamic[key] if key in dynamic else MAILBOX_STATIC_MAP[key]
        if isinstance(value, list):
            row[key + "@odata.type"] = COLLECTION
        elif key in GUID_KEYS:
            row[key + "@odata.type"] = GUID
        row[key] = value
    return row


def select_row(dynamic, static, select):
    """Only the requested properties (case-insensitive names, canonical casing), each with its sidecar."""
    row = {}
    for wanted in select:
        key = _canonical(wanted, dynamic, static)
        if key is None:
            continue
        value = dynamic[key] if key in dynamic else static[key]
        sidecar = _sidecar(key, value)
        if sidecar:
            row[key + "@odata.type"] = sidecar
        row[key] = value
    return row


_CANONICAL_CACHE = {}


def _canonical(name, dynamic, static):
    if name in dynamic or name in static:
        return name
    lowered = name.lower()
    cached = _CANONICAL_CACHE.get(lowered)
    if cached is not None and (cached in dynamic or cached in static):
        return cached
    for key in list(dynamic) + list(static):
        if key.lower() == lowered:
            _CANONICAL_CACHE[lowered] = key
            return key
    return None


def _recipient_values(tenant, rec):
    created = iso(rec.when_created)
    values = {
        "Identity": rec.name, "Name": rec.name, "Alias": rec.alias, "DisplayName": rec.display_name,
        "PrimarySmtpAddress": rec.primary_smtp, "WindowsLiveID": rec.upn if not rec.is_group else "",
        "EmailAddresses": list(tenant.addresses(rec)), "RecipientType": RECIPIENT_TYPE[rec.rtd],
        "RecipientTypeDetails": rec.rtd, "ExternalDirectoryObjectId": rec.edoid, "Guid": rec.guid,
        "ExchangeGuid": rec.exchange_guid or ZERO_GUID, "ExchangeObjectId": rec.guid,
        "DistinguishedName": tenant.dn(rec), "LegacyExchangeDN": tenant.legacy_dn(rec) if rec.alias else "",
        "HiddenFromAddressListsEnabled": rec.hidden, "Department": rec.department, "Office": rec.office,
        "City": rec.city, "CountryOrRegion": rec.country, "Company": rec.company, "FirstName": rec.first_name,
        "LastName": rec.last_name, "SKUAssigned": rec.sku_assigned if rec.is_mailbox else "",
        "IsDirSynced": False, "WhenCreated": created, "WhenCreatedUTC": created, "WhenChanged": created,
        "WhenChangedUTC": created, "OrganizationalUnit": "%s/%s" % (tenant.server_fqdn.lower(), tenant.domain),
        "IsValid": True, "ObjectState": "Unchanged",
    }
    for number in range(1, 16):
        values["CustomAttribute%d" % number] = rec.custom_attribute(number)
    return values


def _render(values, select):
    if select is not None:
        return select_row(values, {}, select)
    return _with_sidecars(values.items())


def recipient_row(tenant, rec, select=None):
    return _render(_recipient_values(tenant, rec), select)


def user_row(tenant, rec, select=None):
    values = _recipient_values(tenant, rec)
    values.update({"UserPrincipalName": rec.upn, "SamAccountName": "$%s" % rec.guid[:12].upper(),
                   "AccountDisabled": rec.rtd not in ("UserMailbox", "MailUser", "User"),
                   "Title": "", "Manager": "", "Phone": "", "StreetAddress": "", "PostalCode": "",
                   "StateOrProvince": "", "Sid": rec.sid, "UserAccountControl": "NormalAccount"})
    for key in ("Alias", "PrimarySmtpAddress", "EmailAddresses", "ExchangeGuid", "LegacyExchangeDN", "SKUAssigned"):
        values.pop(key, None)
    return _render(values, select)


GROUP_TYPE = {"MailUniversalSecurityGroup": "Universal, SecurityEnabled", "UniversalSecurityGroup":
              "Universal, SecurityEnabled", "MailUniversalDistributionGroup": "Universal",
              "GroupMailbox": "Universal"}


def group_row(tenant, rec, select=None):
    values = _recipient_values(tenant, rec)
    values.update({"WindowsEmailAddress": rec.primary_smtp, "Members": [m.name for m in rec.members or ()],
                   "ManagedBy": [m.name for m in rec.owners or ()], "GroupType": GROUP_TYPE.get(rec.rtd, "Universal"),
                   "SamAccountName": "$%s" % rec.guid[:12].upper(), "Sid": rec.sid, "IsSecurityPrincipal":
                   rec.rtd in ("MailUniversalSecurityGroup", "UniversalSecurityGroup"), "Notes": "",
                   "SeniorityIndex": ""})
    for key in ("SKUAssigned", "FirstName", "LastName", "WindowsLiveID"):
        values.pop(key, None)
    return _render(values, select)


def permission_row(tenant, mailbox, ace, shapes, select=None):
    names = rights_to_names(ace.rights)
    access_shape = shapes.get("access_rights", "joined")
    if access_shape == "list":
        rights = names
    elif access_shape == "string":
        rights = ", ".join(names)
    else:
        rights = [", ".join(names)]
    deny = {"IsPresent": ace.deny} if shapes.get("deny") == "ispresent" else ace.deny
    values = {"Identity": mailbox.name, "User": tenant.trustee_display(ace.sid), "UserSid": ace.sid,
              "AccessRights": rights, "IsInherited": ace.inherited, "Deny": deny}
    if shapes.get("inheritance_type", "absent") == "present":
        # live rows carry no InheritanceType (reference, "Round 2"); the kind shape is a setting
        values["InheritanceType"] = ace.inheritance
    values["IsValid"] = True
    values["ObjectState"] = "Unchanged"
    return _render(values, select)


def owner_row(tenant, mailbox, select=None):
    values = {"Identity": mailbox.name, "Owner": "%s\\Organization Management" % tenant.prefix,
              "IsValid": True, "ObjectState": "Unchanged"}
    return _render(values, select)
