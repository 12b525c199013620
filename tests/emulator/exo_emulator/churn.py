"""Tenant churn and the admin views of the newer delegations, shared by ``/_emulator/`` and ``EmulatorServer``.

Churn is what happens to a tenant while a campaign runs: a mailbox renamed (domain move: the old address
removed), converted to a mail user, deleted (soft-deleted), re-created under an address used before, and
permissions granted by hand. These run as an administrator would, outside the API: no counters, no latency.
"""

import time
import uuid

from . import errors, folders
from .cmdlets import resolve_trustee
from .delegation import SEND_ON_BEHALF_TYPES, send_as_sids
from .tenant import (FULL_ACCESS, GROUP_MAILBOX, MAIL_USER, MAILBOX_TYPES, USER, USG, Ace, Recipient,
                     names_to_rights, rights_to_names)

CHURN_NAMESPACE = uuid.UUID("8d0c5b4e-2a71-4f63-b0d9-7e1a3c5f9b24")


class ChurnError(ValueError):
    """A churn request that cannot apply (answered 400 by the admin API)."""


def _one(tenant, identity, accept, what):
    matches = tenant.resolve(identity, accept)
    if not matches:
        raise errors.not_found(identity, tenant.server_fqdn)
    if len(matches) > 1:
        raise errors.ambiguous(identity)
    return matches[0]


def _mailbox(tenant, identity):
    return _one(tenant, identity, lambda r: r.rtd in MAILBOX_TYPES and r.is_active, "mailbox")


def _holder_of(tenant, address, exclude=None):
    """An active recipient that has ``address`` among its addresses (or as UPN)."""
    key = address.strip().lower()
    for rec in tenant.lookup(key):
        if rec is exclude or not rec.is_active:
            continue
        if key == rec.upn.lower() or any(a.split(":", 1)[-1].lower() == key for a in tenant.addresses(rec)):
            return rec
    return None


def mailbox_summary(tenant, rec):
    return {"identity": rec.name, "name": rec.name, "alias": rec.alias, "display_name": rec.display_name,
            "recipient_type_details": rec.rtd, "primary_smtp_address": rec.primary_smtp,
            "user_principal_name": rec.upn, "email_addresses": list(tenant.addresses(rec)), "guid": rec.guid,
            "exchange_guid": rec.exchange_guid, "external_directory_object_id": rec.edoid, "sid": rec.sid,
            "soft_deleted": rec.soft_deleted}


# -- churn operations --------------------------------------------------------------------------------------------

def rename_mailbox(tenant, identity, primary_smtp, alias=None, name=None, display_name=None, upn=None,
                   keep_old_address=False):
    """New primary SMTP address (and alias/name); the old address leaves EmailAddresses unless kept. GUIDs, SID
    and every permission stay."""
    new_address = str(primary_smtp).strip()
    if "@" not in new_address:
        raise ChurnError("primary_smtp must be an address, got %r" % primary_smtp)
    rec = _mailbox(tenant, identity)
    holder = _holder_of(tenant, new_address, exclude=rec)
    if holder is not None:
        raise ChurnError("%s is already an address of %s" % (new_address, holder.name))
    old_primary, old_alias = rec.primary_smtp, rec.alias
    old_addresses = list(tenant.addresses(rec))
    tenant.unindex(rec)
    new_alias = alias or new_address.split("@", 1)[0]
    if name is None:
        name = new_alias if rec.name == old_alias else rec.name
    if upn is None:
        upn = new_address if rec.upn.lower() == old_primary.lower() else rec.upn
    rec.alias, rec.name, rec.primary_smtp, rec.upn = new_alias, name, new_address, upn
    if display_name is not None:
        rec.display_name = display_name
    old_routing = "%s@%s" % (old_alias, tenant.routing_domain)
    secondaries = []
    for address in old_addresses:
        prefix, _sep, value = address.partition(":")
        if prefix == "SMTP" or value.lower() in (old_primary.lower(), old_routing.lower(), new_address.lower()):
            continue
        secondaries.append(address)
    if keep_old_address:
        secondaries.insert(0, "smtp:" + old_primary)
    routing = "smtp:%s@%s" % (new_alias, tenant.routing_domain)
    rec.email_addresses = tuple(["SMTP:" + new_address] + secondaries
                                + ([routing] if routing.lower() not in (a.lower() for a in secondaries) else []))
    tenant.reindex(rec)
    return mailbox_summary(tenant, rec)


def convert_to_mail_user(tenant, identity):
    """The mailbox goes (with its ACL, SendOnBehalf and folders); the same user object stays as a MailUser."""
    rec = _mailbox(tenant, identity)
    tenant.unindex(rec)
    rec.rtd = MAIL_USER
    rec.exchange_guid = ""
    rec.sku_assigned = False
    rec.acl = rec.automapping = None
    rec.send_as = rec.send_on_behalf = rec.folder_acl = rec.extra_folders = None
    rec.language = ""
    tenant.reindex(rec)
    return mailbox_summary(tenant, rec)


def delete_mailbox(tenant, identity):
    """Soft-delete: ordinary Get-Mailbox no longer finds it; ``-SoftDeletedMailbox`` does."""
    rec = _mailbox(tenant, identity)
    rec.soft_deleted = True
    return mailbox_summary(tenant, rec)


def _next_sid(tenant):
    prefix = tenant.sid_domain + "-"
    rids = [int(r.sid[len(prefix):]) for r in tenant.recipients if r.sid.startswith(prefix)
            and r.sid[len(prefix):].isdigit()]
    return "%s%d" % (prefix, max(rids or [1100]) + 1)


def recreate_mailbox(tenant, address, recipient_type="UserMailbox", alias=None, display_name=None, name=None):
    """A new mailbox under an address used before: new GUIDs and SID, the default ACL and folders."""
    address = str(address).strip()
    if recipient_type not in MAILBOX_TYPES:
        raise ChurnError("recipient_type must be one of %s" % ", ".join(sorted(MAILBOX_TYPES)))
    holder = _holder_of(tenant, address)
    if holder is not None:
        raise ChurnError("%s is an address of %s, which still exists" % (address, holder.name))
    serial = "%s:recreate:%d:%s" % (tenant.tenant_id, len(tenant.recipients), address.lower())

    def new_guid(kind):
        return str(uuid.uuid5(CHURN_NAMESPACE, serial + ":" + kind))
    alias = alias or address.split("@", 1)[0]
    rec = Recipient(recipient_type, new_guid("guid"), name or alias, exchange_guid=new_guid("exchange"),
                    edoid=new_guid("edoid"), sid=_next_sid(tenant), alias=alias, display_name=display_name or alias,
                    upn=address, primary_smtp=address, when_created=time.time(),
                    sku_assigned=recipient_type == "UserMailbox")
    tenant.add(rec)
    return mailbox_summary(tenant, rec)


def grant(tenant, kind, identity, user, access_rights=None, deny=False, inheritance_type="All", automapping=True,
          folder=None, sharing_permission_flags=None):
    """A permission granted by hand (as an admin would in EAC or PowerShell): kind ``full_access``, ``send_as``,
    ``send_on_behalf`` or ``folder``."""
    if kind == "full_access":
        mailbox = _one(tenant, identity, lambda r: r.is_active and r.is_mailbox, "mailbox")
        sid, trustee = resolve_trustee(tenant, user)
        rights = names_to_rights(access_rights or ["FullAccess"])
        acl = list(mailbox.aces())
        for position, ace in enumerate(acl):
            if not ace.inherited and ace.sid == sid and ace.deny == bool(deny) and ace.inheritance == inheritance_type:
                acl[position] = Ace(sid, ace.rights | rights, bool(deny), inheritance_type)
                break
        else:
            acl.append(Ace(sid, rights, bool(deny), inheritance_type))
        mailbox.acl = acl
        if rights & FULL_ACCESS and not deny and trustee is not None and not trustee.is_group:
            mailbox.automapping = dict(mailbox.automapping or {}, **{sid: bool(automapping)})
        return {"kind": kind, "identity": mailbox.name, "trustee_sid": sid, "access_rights": rights_to_names(rights)}
    if kind == "send_as":
        rec = _one(tenant, identity, lambda r: r.is_active and r.rtd not in (USER, USG), "recipient")
        sid, _trustee = resolve_trustee(tenant, user)
        current = send_as_sids(rec)
        if sid not in current:
            rec.send_as = current + [sid]
        return {"kind": kind, "identity": rec.name, "trustee_sid": sid}
    if kind == "send_on_behalf":
        mailbox = _mailbox(tenant, identity)
        delegate = _one(tenant, user, lambda r: r.is_active and r.rtd in SEND_ON_BEHALF_TYPES, "delegate")
        current = list(mailbox.send_on_behalf or ())
        if delegate.guid not in current:
            mailbox.send_on_behalf = current + [delegate.guid]
        return {"kind": kind, "identity": mailbox.name, "delegate": delegate.name}
    if kind == "folder":
        mailbox = _one(tenant, identity, lambda r: r.is_active and r.rtd in MAILBOX_TYPES | {GROUP_MAILBOX}, "mailbox")
        target = folders.calendar_folder(mailbox) if folder in (None, "", "Calendar") else \
            folders.find_folder(mailbox, folder)
        if target is None:
            raise ChurnError("mailbox %s has no folder %r" % (mailbox.name, folder))
        principal, _display = folders.resolve_principal(tenant, user)
        bits = folders.rights_bits(access_rights or ["Reviewer"])
        flags = folders.flag_bits(sharing_permission_flags or ())
        kept = [e for e in folders.entries(mailbox, target) if e[0] != principal]
        if principal in folders.SPECIAL:
            kept = [(principal, bits, flags) if e[0] == principal else e for e in folders.entries(mailbox, target)]
        else:
            kept.append((principal, bits, flags))
        folders.store_entries(mailbox, target, kept)
        return {"kind": kind, "identity": target.identity(mailbox), "principal": principal,
                "access_rights": folders.rights_names(bits)}
    raise ChurnError("kind must be full_access, send_as, send_on_behalf or folder, got %r" % kind)


# -- views -----------------------------------------------------------------------------------------------------------

def delegations(tenant, identity):
    """SendAs, SendOnBehalf and every folder's permissions of one recipient (mailboxes: all of them)."""
    matches = tenant.resolve(identity, lambda r: r.is_active and r.rtd not in (USER, USG))
    if not matches:
        raise errors.not_found(identity, tenant.server_fqdn)
    if len(matches) > 1:
        raise errors.ambiguous(identity)
    rec = matches[0]
    result = {"identity": rec.name, "guid": rec.guid, "recipient_type_details": rec.rtd,
              "language": rec.language or "en-US",
              "send_as": [{"trustee": tenant.trustee_display(sid), "trustee_sid": sid} for sid in send_as_sids(rec)],
              "send_on_behalf": [], "folders": []}
    for guid in rec.send_on_behalf or ():
        found = [r for r in tenant.lookup(guid) if r.guid.lower() == guid.lower()]
        if found:
            result["send_on_behalf"].append({"name": found[0].name, "guid": guid,
                                             "display_name": found[0].display_name, "active": found[0].is_active})
    if rec.rtd in MAILBOX_TYPES or rec.rtd == GROUP_MAILBOX:
        for folder in folders.folders_of(rec):
            result["folders"].append({
                "key": folder.key, "name": folder.name, "folder_type": folder.folder_type,
                "identity": folder.identity(rec), "folder_id": folders.folder_id(rec, folder),
                "entries": [{"user": folders.principal_display(tenant, principal), "principal": principal,
                             "access_rights": folders.rights_names(bits),
                             "sharing_permission_flags": folders.flag_text(flags)}
                            for principal, bits, flags in folders.entries(rec, folder)]})
    return result


def rbac_state(tenant):
    return {"service_principals": [dict(r) for r in tenant.service_principals],
            "management_scopes": [dict(r) for r in tenant.management_scopes],
            "role_assignments": [dict(r) for r in tenant.role_assignments],
            "organization_config": dict(tenant.organization_config)}


def set_organization_config(tenant, settings):
    """Override Get-OrganizationConfig values (``None`` removes an override)."""
    for key, value in settings.items():
        if value is None:
            tenant.organization_config.pop(key, None)
        else:
            tenant.organization_config[key] = value
    return dict(tenant.organization_config)


# -- admin routes -----------------------------------------------------------------------------------------------------

OPERATIONS = {
    "churn/rename": lambda tenant, body: rename_mailbox(
        tenant, body["identity"], body["primary_smtp"], body.get("alias"), body.get("name"), body.get("display_name"),
        body.get("upn"), bool(body.get("keep_old_address", False))),
    "churn/convert-to-mail-user": lambda tenant, body: convert_to_mail_user(tenant, body["identity"]),
    "churn/delete": lambda tenant, body: delete_mailbox(tenant, body["identity"]),
    "churn/recreate": lambda tenant, body: recreate_mailbox(
        tenant, body["address"], body.get("recipient_type", "UserMailbox"), body.get("alias"),
        body.get("display_name"), body.get("name")),
    "churn/grant": lambda tenant, body: grant(
        tenant, body["kind"], body["identity"], body["user"], body.get("access_rights"), body.get("deny", False),
        body.get("inheritance_type", "All"), body.get("automapping", True), body.get("folder"),
        body.get("sharing_permission_flags")),
    "organization-config": set_organization_config,
}


def admin_handlers(app, query, body):
    """``{(method, route): callable}`` for EmulatorApp.admin_call."""
    def run(route):
        def handler():
            data = dict(body)
            tenant = app.tenant(data.pop("tenant", None) or query.get("tenant"))
            with tenant.lock:
                return OPERATIONS[route](tenant, data)
        return handler

    def view(function, *keys):
        def handler():
            tenant = app.tenant(query.get("tenant"))
            with tenant.lock:
                return function(tenant, *(query[k] for k in keys))
        return handler
    handlers = {("POST", route): run(route) for route in OPERATIONS}
    handlers[("GET", "delegations")] = view(delegations, "identity")
    handlers[("GET", "rbac")] = view(rbac_state)
    return handlers
