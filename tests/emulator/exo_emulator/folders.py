"""Mailbox folders and their permissions: Get-MailboxFolderStatistics, Get/Add/Set/Remove-MailboxFolderPermission.

A mailbox has the default folders of its language (``Recipient.language``: a German mailbox has ``Kalender``,
not ``Calendar``) plus the user-created ``Recipient.extra_folders``. Permissions are kept only for folders that
differ from the default (``Recipient.folder_acl``); every folder has ``Default`` and ``Anonymous`` entries.
An entry is ``(principal, rights, flags)``: principal ``"Default"``, ``"Anonymous"`` or a SID.
"""

import base64
import hashlib
import re

from . import errors
from .cmdlets import CMDLETS as REGISTRY, SID_PATTERN, Cmdlet, Result, resolve_one
from .extcommon import SWITCH, items_result, mailbox_accept, p, render, require, task_error
from .params import EnumSpec, spec
from .tenant import MAIL_USER, MAILBOX_TYPES, MESG, iso

# -- rights -------------------------------------------------------------------------------------------------

READ, CREATE, EDIT_OWNED, DELETE_OWNED, EDIT_ALL, DELETE_ALL = 0x1, 0x2, 0x8, 0x10, 0x20, 0x40
CREATE_SUB, OWNER, CONTACT, VISIBLE, FREEBUSY, FREEBUSY_DETAILED = 0x80, 0x100, 0x200, 0x400, 0x800, 0x1000

RIGHT_BITS = (("ReadItems", READ), ("CreateItems", CREATE), ("EditOwnedItems", EDIT_OWNED),
              ("DeleteOwnedItems", DELETE_OWNED), ("EditAllItems", EDIT_ALL), ("DeleteAllItems", DELETE_ALL),
              ("CreateSubfolders", CREATE_SUB), ("FolderOwner", OWNER), ("FolderContact", CONTACT),
              ("FolderVisible", VISIBLE))
ROLE_BITS = (
    ("None", 0),
    ("AvailabilityOnly", FREEBUSY),
    ("LimitedDetails", FREEBUSY | FREEBUSY_DETAILED),
    ("Reviewer", VISIBLE | READ),
    ("Contributor", CREATE | VISIBLE),
    ("NonEditingAuthor", CREATE | DELETE_OWNED | VISIBLE | READ),
    ("Author", CREATE | DELETE_OWNED | EDIT_OWNED | VISIBLE | READ),
    ("PublishingAuthor", CREATE | CREATE_SUB | DELETE_OWNED | EDIT_OWNED | VISIBLE | READ),
    ("Editor", CREATE | DELETE_ALL | DELETE_OWNED | EDIT_ALL | EDIT_OWNED | VISIBLE | READ),
    ("PublishingEditor", CREATE | CREATE_SUB | DELETE_ALL | DELETE_OWNED | EDIT_ALL | EDIT_OWNED | VISIBLE | READ),
    ("Owner", CREATE | CREATE_SUB | DELETE_ALL | DELETE_OWNED | EDIT_ALL | EDIT_OWNED | CONTACT | OWNER | VISIBLE
     | READ),
)
NAME_BITS = dict((n.lower(), b) for n, b in RIGHT_BITS + ROLE_BITS)
ROLE_BY_BITS = dict((b, n) for n, b in ROLE_BITS)
CALENDAR_ONLY = FREEBUSY | FREEBUSY_DETAILED
EDITOR = dict(ROLE_BITS)["Editor"]
NOTIFY_ROLES = frozenset(dict(ROLE_BITS)[n] for n in ("AvailabilityOnly", "LimitedDetails", "Reviewer", "Editor"))

ACCESS_RIGHTS = EnumSpec("Microsoft.Exchange.Management.StoreTasks.MailboxFolderAccessRight[]",
                         ["None"] + [n for n, _b in RIGHT_BITS] + [n for n, _b in ROLE_BITS[1:]], flags=True)
DELEGATE, PRIVATE = 0x1, 0x2
FLAG_BITS = (("Delegate", DELEGATE), ("CanViewPrivateItems", PRIVATE))
SHARING_FLAGS = EnumSpec("Microsoft.Exchange.Management.StoreTasks.MailboxFolderPermissionFlags",
                         ("None", "Delegate", "CanViewPrivateItems"), flags=True)
FOLDER_SCOPES = EnumSpec("Microsoft.Exchange.Management.Tasks.ElcFolderType", (
    "All", "Archive", "Calendar", "Contacts", "ConversationHistory", "DeletedItems", "Drafts", "Inbox", "JunkEmail",
    "Journal", "LegacyArchiveJournals", "ManagedCustomFolder", "NonIpmRoot", "Notes", "Outbox", "Personal",
    "RecoverableItems", "RssSubscriptions", "SentItems", "SyncIssues", "Tasks"))


def rights_bits(names):
    bits = 0
    for name in names:
        bits |= NAME_BITS[name.lower()]
    return bits


def rights_names(bits):
    """How Get-MailboxFolderPermission shows rights: the role whose rights match exactly, else each right."""
    role = ROLE_BY_BITS.get(bits)
    if role is not None:
        return [role]
    return [n for n, b in RIGHT_BITS if bits & b] or ["None"]


def flag_bits(names):
    bits = 0
    for name in names:
        bits |= dict(FLAG_BITS).get(name, 0)
    return bits


def flag_text(bits):
    return ", ".join(n for n, b in FLAG_BITS if bits & b) or None


# -- folders --------------------------------------------------------------------------------------------------

ROOT = "Root"
ROOT_NAME = "Top of Information Store"
DEFAULT_KEYS = ("Inbox", "Calendar", "Contacts", "SentItems", "DeletedItems", "Drafts", "JunkEmail", "Outbox",
                "Tasks", "Notes")
FOLDER_NAMES = {
    "": ("Inbox", "Calendar", "Contacts", "Sent Items", "Deleted Items", "Drafts", "Junk Email", "Outbox", "Tasks",
         "Notes"),
    "de-DE": ("Posteingang", "Kalender", "Kontakte", "Gesendete Elemente", "Gelöschte Elemente", "Entwürfe",
              "Junk-E-Mail", "Postausgang", "Aufgaben", "Notizen"),
    "fr-FR": ("Boîte de réception", "Calendrier", "Contacts", "Éléments envoyés", "Éléments supprimés", "Brouillons",
              "Courrier indésirable", "Boîte d'envoi", "Tâches", "Notes"),
    "es-ES": ("Bandeja de entrada", "Calendario", "Contactos", "Elementos enviados", "Elementos eliminados",
              "Borradores", "Correo no deseado", "Bandeja de salida", "Tareas", "Notas"),
    "ja-JP": ("受信トレイ", "予定表", "連絡先", "送信済みアイテム", "削除済みアイテム", "下書き", "迷惑メール", "送信トレイ",
              "タスク", "メモ"),
    "pt-BR": ("Caixa de Entrada", "Calendário", "Contatos", "Itens Enviados", "Itens Excluídos", "Rascunhos",
              "Lixo Eletrônico", "Caixa de Saída", "Tarefas", "Anotações"),
}
LANGUAGES = tuple(sorted(k for k in FOLDER_NAMES if k))
FOLDER_ID_PREFIX = "LgAAAAA"


class Folder:
    """One folder of one mailbox: its key (well-known type or user path), type and names from the root."""

    __slots__ = ("key", "folder_type", "names")

    def __init__(self, key, folder_type, names):
        self.key = key
        self.folder_type = folder_type
        self.names = names

    @property
    def name(self):
        return self.names[-1] if self.names else ROOT_NAME

    @property
    def is_calendar(self):
        return self.folder_type == "Calendar"

    def identity(self, mailbox):
        return "%s:\\%s" % (mailbox.name, "\\".join(self.names))

    def folder_path(self):
        return "/" + "/".join(self.names) if self.names else "/" + ROOT_NAME


def folders_of(mailbox):
    """Every folder of a mailbox, root first, each user folder after its parent."""
    names = FOLDER_NAMES.get(mailbox.language) or FOLDER_NAMES[""]
    result = [Folder(ROOT, "Root", ())]
    by_key = {ROOT: result[0]}
    for key, name in zip(DEFAULT_KEYS, names):
        by_key[key] = Folder(key, key, (name,))
        result.append(by_key[key])
    for spec_ in sorted(mailbox.extra_folders or (), key=lambda s: s.count("/")):
        parent_key, _slash, name = spec_.rpartition("/")
        parent = by_key.get(parent_key)
        if parent is None:
            continue
        folder = Folder(spec_, "User Created", parent.names + (name,))
        by_key[spec_] = folder
        if parent_key == ROOT:
            result.append(folder)
            continue
        position = max(i for i, f in enumerate(result) if f.key == parent_key or f.key.startswith(parent_key + "/"))
        result.insert(position + 1, folder)
    return result


def folder_id(mailbox, folder):
    digest = hashlib.sha256(("%s:%s" % (mailbox.exchange_guid or mailbox.guid, folder.key)).encode()).digest()
    return FOLDER_ID_PREFIX + base64.b64encode(digest[:30]).decode()


def calendar_folder(mailbox):
    return next(f for f in folders_of(mailbox) if f.is_calendar)


def folder_not_found(identity):
    """Live text (a localized calendar addressed as :\\Calendar): no "on '<server>'" tail."""
    text = "The operation couldn't be performed because '%s' couldn't be found." % identity
    return errors.cmdlet_error(404, "NotFound", "Error executing cmdlet", errors.NOT_FOUND_TYPE, text,
                               error_id="Ex6F9304")


def resolve_folder(tenant, identity, parameters):
    """``mailbox:\\Path\\Sub``, ``mailbox:<FolderId>`` or a bare mailbox (its root) -> (mailbox, folder)."""
    mailbox_part, path = identity, None
    if ":\\" in identity:
        mailbox_part, _sep, path = identity.partition(":\\")
    elif ":" in identity and identity.rsplit(":", 1)[1].startswith(FOLDER_ID_PREFIX):
        mailbox_part, fid = identity.rsplit(":", 1)
        mailbox = _resolve_mailbox(tenant, mailbox_part, identity, parameters)
        for folder in folders_of(mailbox):
            if folder_id(mailbox, folder) == fid:
                return mailbox, folder
        raise folder_not_found(identity)
    mailbox = _resolve_mailbox(tenant, mailbox_part, identity, parameters)
    segments = [s for s in (path or "").split("\\") if s]
    folders = folders_of(mailbox)
    if not segments:
        return mailbox, folders[0]
    wanted = tuple(s.lower() for s in segments)
    for folder in folders:
        if tuple(n.lower() for n in folder.names) == wanted:
            return mailbox, folder
    raise folder_not_found(identity)


def _resolve_mailbox(tenant, text, identity, parameters):
    accept = mailbox_accept(parameters)
    matches = tenant.resolve(text, accept)
    if not matches:
        raise folder_not_found(identity) if text != identity else errors.not_found(identity, tenant.server_fqdn)
    if len(matches) > 1:
        raise errors.ambiguous(text)
    return matches[0]


# -- permission entries ------------------------------------------------------------------------------------------

SPECIAL = ("Default", "Anonymous")


def default_entries(folder):
    return (("Default", FREEBUSY if folder.is_calendar else 0, 0), ("Anonymous", 0, 0))


def entries(mailbox, folder):
    stored = (mailbox.folder_acl or {}).get(folder.key)
    if stored is None:
        return default_entries(folder)
    return tuple(tuple(e) for e in stored)


def store_entries(mailbox, folder, new_entries):
    """Replace a folder's entries (a new dict and list: cursors keep their snapshot)."""
    acl = dict(mailbox.folder_acl or {})
    acl[folder.key] = [tuple(e) for e in new_entries]
    mailbox.folder_acl = acl


def principal_display(tenant, principal):
    if principal in SPECIAL:
        return principal
    rec = tenant.sid_index.get(principal)
    if rec is None or not rec.is_active:
        return "NT:" + principal
    return rec.display_name or rec.name


def invalid_user(value):
    text = "The user \"%s\" is either not valid SMTP address, or there is no matching information." % value
    return task_error(text, "Microsoft.Exchange.Management.StoreTasks.InvalidExternalUserIdException")


FOLDER_USER_TYPES = MAILBOX_TYPES | {MAIL_USER, MESG}


def resolve_principal(tenant, value, allow_sid=True):
    """MailboxFolderUserIdParameter: Default, Anonymous, a mail-enabled security principal, or (for entries of
    deleted users) ``NT:S-1-5-...`` / a SID. -> (principal, display)."""
    text = value.strip()
    for special in SPECIAL:
        if text.lower() == special.lower():
            return special, special
    bare = text[3:] if text.upper().startswith("NT:") else text
    if allow_sid and SID_PATTERN.match(bare):
        return bare.upper(), principal_display(tenant, bare.upper())
    matches = tenant.resolve(text, lambda r: r.rtd in FOLDER_USER_TYPES and r.is_active)
    if len(matches) != 1:
        raise invalid_user(value)
    rec = matches[0]
    return rec.sid, rec.display_name or rec.name


def _entry_exists(display):
    return task_error("An existing permission entry was found for user: %s." % display,
                      "Microsoft.Exchange.Management.StoreTasks.UserAlreadyExistsInPermissionEntryException")


def _no_entry(display):
    return task_error("There is no existing permission entry found for user: %s." % display,
                      "Microsoft.Exchange.Management.StoreTasks.UserNotFoundInPermissionEntryException")


def _argument_error(text):
    return task_error(text, "System.ArgumentException")


def permission_row(tenant, mailbox, folder, entry, select=None):
    principal, bits, flags = entry
    values = {"FolderName": folder.name, "User": principal_display(tenant, principal),
              "AccessRights": rights_names(bits), "SharingPermissionFlags": flag_text(flags),
              "Identity": folder.identity(mailbox), "IsValid": True, "ObjectState": "Unchanged"}
    return render(values, select)


# -- cmdlets ---------------------------------------------------------------------------------------------------

def get_mailbox_folder_statistics(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Identity")
    mailbox = resolve_one(tenant, parameters["Identity"], mailbox_accept(parameters))
    scope = parameters.get("FolderScope", "All")
    folders = folders_of(mailbox)
    if parameters.get("Archive"):
        folders = []
    elif scope != "All":
        tops = [f for f in folders if f.key == scope]
        folders = [f for f in folders if tops and (f is tops[0] or f.key.startswith(tops[0].key + "/"))]

    def row(folder, select):
        return render(_statistics_values(mailbox, folder), select)
    return items_result(parameters, folders, row)


def _statistics_values(mailbox, folder):
    seed = int(hashlib.sha256(folder_id(mailbox, folder).encode()).hexdigest()[:6], 16)
    items = 0 if folder.key == ROOT else seed % 400
    size = items * 48213
    created = iso(mailbox.when_created)
    return {"Name": folder.name, "FolderPath": folder.folder_path(), "FolderId": folder_id(mailbox, folder),
            "FolderType": folder.folder_type, "Identity": "%s\\%s" % (mailbox.name, "\\".join(folder.names)),
            "ItemsInFolder": items, "VisibleItemsInFolder": items, "ItemsInFolderAndSubfolders": items,
            "FolderSize": "%s KB (%s bytes)" % (format(round(size / 1024.0, 2), ","), format(size, ",")),
            "FolderAndSubfolderSize": "%s KB (%s bytes)" % (format(round(size / 1024.0, 2), ","), format(size, ",")),
            "ContentMailboxGuid": mailbox.exchange_guid, "CreationTime": created, "LastModifiedTime": created,
            "Date": created, "IsValid": True, "ObjectState": "Unchanged"}


def get_mailbox_folder_permission(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Identity")
    mailbox, folder = resolve_folder(tenant, parameters["Identity"], parameters)
    current = entries(mailbox, folder)
    if "User" in parameters:
        principal, display = resolve_principal(tenant, parameters["User"])
        current = [e for e in current if e[0] == principal]
        if not current:
            raise _no_entry(display)
    return items_result(parameters, current, lambda e, select: permission_row(tenant, mailbox, folder, e, select))


def _validate(folder, bits, flags, parameters):
    if bits & CALENDAR_ONLY and not folder.is_calendar:
        raise _argument_error("The access rights AvailabilityOnly and LimitedDetails can only be applied to calendar "
                              "folders.")
    if flags:
        if not folder.is_calendar:
            raise _argument_error("The SharingPermissionFlags parameter only applies to calendar folders.")
        if bits != EDITOR:
            raise _argument_error("The SharingPermissionFlags parameter can only be used when the AccessRights "
                                  "parameter value is Editor.")
        if flags & PRIVATE and not flags & DELEGATE:
            raise _argument_error("The CanViewPrivateItems value of the SharingPermissionFlags parameter must be used "
                                  "with the Delegate value.")
    if "SendNotificationToUser" in parameters and (not folder.is_calendar or bits not in NOTIFY_ROLES):
        raise _argument_error("The SendNotificationToUser parameter only applies to calendar folders and the "
                              "AccessRights values AvailabilityOnly, LimitedDetails, Reviewer and Editor.")


def add_mailbox_folder_permission(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Identity", "User", "AccessRights")
    mailbox, folder = resolve_folder(tenant, parameters["Identity"], parameters)
    principal, display = resolve_principal(tenant, parameters["User"], allow_sid=False)
    current = list(entries(mailbox, folder))
    if any(e[0] == principal for e in current):
        raise _entry_exists(display)
    bits = rights_bits(parameters["AccessRights"])
    flags = flag_bits(parameters.get("SharingPermissionFlags", ()))
    _validate(folder, bits, flags, parameters)
    entry = (principal, bits, flags)
    current.append(entry)
    store_entries(mailbox, folder, current)
    return Result([entry], lambda e, select: permission_row(tenant, mailbox, folder, e, select))


def set_mailbox_folder_permission(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Identity", "User", "AccessRights")
    mailbox, folder = resolve_folder(tenant, parameters["Identity"], parameters)
    principal, display = resolve_principal(tenant, parameters["User"])
    current = list(entries(mailbox, folder))
    position = next((i for i, e in enumerate(current) if e[0] == principal), None)
    if position is None:
        raise _no_entry(display)
    bits = rights_bits(parameters["AccessRights"])
    _old_principal, old_bits, old_flags = current[position]
    if "SharingPermissionFlags" in parameters or "SendNotificationToUser" in parameters:
        # Documented: either parameter resets the flags to what is given (None by default).
        flags = flag_bits(parameters.get("SharingPermissionFlags", ()))
    else:
        flags = old_flags if bits == EDITOR else 0
    _validate(folder, bits, flags, parameters)
    if (bits, flags) == (old_bits, old_flags):
        return Result(warnings=["The command completed successfully but no permissions of '%s' have been modified."
                                % folder.identity(mailbox)])
    current[position] = (principal, bits, flags)
    store_entries(mailbox, folder, current)
    return Result()


def remove_mailbox_folder_permission(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Identity")
    mailbox, folder = resolve_folder(tenant, parameters["Identity"], parameters)
    if parameters.get("ResetDelegateUserCollection"):
        store_entries(mailbox, folder, [(e[0], e[1], 0) for e in entries(mailbox, folder)])
        return Result()
    require(parameters, "User")
    principal, display = resolve_principal(tenant, parameters["User"])
    if principal in SPECIAL:
        text = ("The %s user can't be removed from the permission entries of '%s'. Use Set-MailboxFolderPermission "
                "to change its access rights." % (principal, folder.identity(mailbox)))
        raise task_error(text, "Microsoft.Exchange.Management.StoreTasks.CannotRemoveSpecialUserException")
    current = list(entries(mailbox, folder))
    kept = [e for e in current if e[0] != principal]
    if len(kept) == len(current):
        raise _no_entry(display)
    store_entries(mailbox, folder, kept)
    return Result()


_IDENTITY = p("Identity", "identity")
_GROUP = p("GroupMailbox", SWITCH)
_RIGHTS = p("AccessRights", "enum_array", ACCESS_RIGHTS)
_FLAGS = p("SharingPermissionFlags", "enum_array", SHARING_FLAGS)
_NOTIFY = p("SendNotificationToUser", "bool")
_CONFIRM = p("Confirm", SWITCH)
_RESULT_SIZE = p("ResultSize", "resultsize")

CMDLETS = (
    Cmdlet("Get-MailboxFolderStatistics", spec(_IDENTITY, p("FolderScope", "enum", FOLDER_SCOPES), _RESULT_SIZE,
                                               p("IncludeOldestAndNewestItems", SWITCH),
                                               p("IncludeAnalysis", SWITCH), p("Archive", SWITCH), _GROUP),
           get_mailbox_folder_statistics),
    Cmdlet("Get-MailboxFolderPermission", spec(_IDENTITY, p("User", "identity"), _GROUP, _RESULT_SIZE),
           get_mailbox_folder_permission),
    Cmdlet("Add-MailboxFolderPermission", spec(_IDENTITY, p("User", "identity"), _RIGHTS, _FLAGS, _NOTIFY, _CONFIRM,
                                               _GROUP), add_mailbox_folder_permission, write=True),
    Cmdlet("Set-MailboxFolderPermission", spec(_IDENTITY, p("User", "identity"), _RIGHTS, _FLAGS, _NOTIFY, _CONFIRM,
                                               _GROUP), set_mailbox_folder_permission, write=True),
    Cmdlet("Remove-MailboxFolderPermission", spec(_IDENTITY, p("User", "identity"), _CONFIRM, _GROUP,
                                                  p("ResetDelegateUserCollection", SWITCH), p("Force", SWITCH)),
           remove_mailbox_folder_permission, write=True),
)

REGISTRY.update((c.name.lower(), c) for c in CMDLETS)

_FOLDER_PATH_SPLIT = re.compile(r"[\\/]")


def find_folder(mailbox, path):
    """A folder by a path of display names (``"Kalender"``, ``"Inbox/Case Files"``) or a key (``"Calendar"``)."""
    wanted = tuple(s.lower() for s in _FOLDER_PATH_SPLIT.split(path) if s)
    for folder in folders_of(mailbox):
        if folder.key.lower() == path.lower() or tuple(n.lower() for n in folder.names) == wanted:
            return folder
    return None
