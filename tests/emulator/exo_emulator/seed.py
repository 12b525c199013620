"""Hard cases of the newer delegations in every generated tenant (README, "Hard cases: SendAs, SendOnBehalf,
folders, RBAC for Applications"). Deterministic and drawing nothing from the generator's random stream, so
every object the older hard cases and ordinary objects describe stays exactly as it was."""

import hashlib

from . import folders, rbac
from .tenant import SELF_SID

HARD_LANGUAGES = (("zoe.muller", "de-DE"), ("alex.martin2", "fr-FR"), ("jose.nunez", "es-ES"),
                  ("wang.xiaoming", "ja-JP"))
CITY_LANGUAGES = {"Berlin": "de-DE", "Paris": "fr-FR", "Madrid": "es-ES", "Tokyo": "ja-JP"}


def _bits(*names):
    return folders.rights_bits(names)


def _folder(mailbox, key, entries, extra=None):
    if extra:
        mailbox.extra_folders = list(mailbox.extra_folders or ()) + [key]
    folder = next(f for f in folders.folders_of(mailbox) if f.key == key)
    folders.store_entries(mailbox, folder, entries)


def apply(tenant, people, archive_ops, users):
    """``people``: the hard-case recipients by alias; ``users``: the ordinary user mailboxes."""
    p = people
    for alias, language in HARD_LANGUAGES:
        p[alias].language = language
    for rec in users:
        language = CITY_LANGUAGES.get(rec.city)
        if language and int(hashlib.sha256(rec.guid.encode()).hexdigest()[:4], 16) % 2 == 0:
            rec.language = language
    admin, helpdesk = p["archive.admin"], p["helpdesk"]
    orphan = "S-1-5-21-2945127412-1848212957-3901842213-20005"
    finance = next(r for r in tenant.recipients if r.name == "Finance")

    # SendAs (SELF keeps its default entry on every user object).
    p["info"].send_as = [SELF_SID, helpdesk.sid]
    p["legal.hold"].send_as = [SELF_SID, admin.sid]
    p["support"].send_as = [SELF_SID, archive_ops.sid]
    p["orphans"].send_as = [SELF_SID, orphan]
    finance.send_as = [helpdesk.sid]

    # GrantSendOnBehalfTo (GUIDs; shown as Names).
    p["ceo"].send_on_behalf = [helpdesk.guid]
    p["legal.hold"].send_on_behalf = [admin.guid, archive_ops.guid]
    p["info"].send_on_behalf = [p["alex.martin"].guid, p["alex.martin2"].guid]

    # Folder permissions: (principal, rights, flags).
    default_calendar = folders.FREEBUSY
    delegate_private = folders.DELEGATE | folders.PRIVATE
    _folder(p["ceo"], "Calendar", [("Default", _bits("LimitedDetails"), 0), ("Anonymous", 0, 0),
                                   (helpdesk.sid, _bits("Editor"), delegate_private),
                                   (admin.sid, _bits("Reviewer"), 0)])
    _folder(p["zoe.muller"], "Calendar", [("Default", default_calendar, 0), ("Anonymous", 0, 0),
                                          (p["jose.nunez"].sid, _bits("Editor"), folders.DELEGATE)])
    _folder(p["room.atlantic"], "Calendar", [("Default", _bits("Reviewer"), 0), ("Anonymous", 0, 0),
                                             (archive_ops.sid, _bits("Author"), 0)])
    _folder(p["info"], "Calendar", [("Default", default_calendar, 0), ("Anonymous", 0, 0),
                                    (p["alex.martin2"].sid, _bits("Reviewer"), 0)])
    _folder(p["info"], "Inbox", [("Default", 0, 0), ("Anonymous", 0, 0), (helpdesk.sid, _bits("Reviewer"), 0)])
    _folder(p["support"], "Inbox", [("Default", 0, 0), ("Anonymous", 0, 0),
                                    (p["alex.martin"].sid, _bits("ReadItems", "CreateItems"), 0)])
    _folder(p["orphans"], "Calendar", [("Default", default_calendar, 0), ("Anonymous", 0, 0),
                                       (orphan, _bits("Reviewer"), 0)])
    _folder(p["legal.hold"], "Inbox/Case Files", [("Default", 0, 0), ("Anonymous", 0, 0),
                                                  (admin.sid, _bits("Reviewer"), 0)], extra=True)
    p["jose.nunez"].extra_folders = ["Calendar/Equipo"]

    # RBAC for Applications: an app with a scoped assignment and one with an org-wide assignment, both there before
    # any campaign; the second service principal has no display name (as New-ServicePrincipal leaves it).
    archiver = {"app_id": rbac.record_guid(tenant, "app", "contoso-archiver"),
                "object_id": rbac.record_guid(tenant, "sp", "contoso-archiver"), "display_name": "Contoso Archiver"}
    backup = {"app_id": rbac.record_guid(tenant, "app", "fabrikam-backup"),
              "object_id": rbac.record_guid(tenant, "sp", "fabrikam-backup"), "display_name": ""}
    for sp in (archiver, backup):
        sp["exchange_object_id"] = rbac.record_guid(tenant, "sp", sp["object_id"])
    tenant.service_principals = [archiver, backup]
    tenant.management_scopes = [{"name": "Legal Department", "guid": rbac.record_guid(tenant, "scope", "legal"),
                                 "filter": "Department -eq 'Legal'", "recipient_root": "", "exclusive": False}]
    tenant.role_assignments = [
        {"name": "Contoso Archiver Mail.Read", "guid": rbac.record_guid(tenant, "assignment", "archiver"),
         "role": "Application Mail.Read", "app": archiver["object_id"], "scope": "Legal Department",
         "enabled": True},
        {"name": "Application Mail.ReadBasic-" + backup["object_id"],
         "guid": rbac.record_guid(tenant, "assignment", "backup"), "role": "Application Mail.ReadBasic",
         "app": backup["object_id"], "scope": "", "enabled": True},
    ]
