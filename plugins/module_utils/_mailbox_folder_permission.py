# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The mailbox_folder_permission module: its options, their checks, and the bulk run of the FolderPermission
delegation."""

from ansible_collections.m365.exchange.plugins.module_utils._admin_api import V2
from ansible_collections.m365.exchange.plugins.module_utils._argspec import BULK, STATE, merged
from ansible_collections.m365.exchange.plugins.module_utils._bulk import BulkRun
from ansible_collections.m365.exchange.plugins.module_utils._folder_permissions import (
    ACCESS_RIGHT_NAMES,
    CAN_VIEW_PRIVATE_ITEMS,
    DEFAULT_FOLDER,
    DELEGATE,
    EDITOR,
    FLAG_NAMES,
    NOTIFY_ROLES,
    ROLE_NAMES,
    SPECIAL_USERS,
    FolderPermission,
    FolderUser,
    folder_path,
    rights_bits,
    rights_shown,
)
from ansible_collections.m365.exchange.plugins.module_utils._trustees import is_sid, resolve_trustee, trustee_problem
from ansible_collections.m365.exchange.plugins.module_utils._validation import Problems, bulk_options, choice_list

ARGUMENT_SPEC = merged(
    BULK, STATE,
    folder=dict(type="str", default=DEFAULT_FOLDER),
    user=dict(type="str", required=True, aliases=["trustee"]),
    access_rights=dict(type="list", elements="str"),
    sharing_permission_flags=dict(type="list", elements="str"),
    send_notification_to_user=dict(type="bool", default=False),
)


def special_user(user):
    text = (user or "").strip().lower()
    return next((name for name in SPECIAL_USERS if name.lower() == text), None)


def checked_rights(params, problems):
    """The access rights as Exchange names them (a role alone, or granular rights), or None."""
    given = params["access_rights"]
    if params["state"] == "absent":
        if given:
            problems.add("access_rights cannot be used with state=absent: the user's entry is removed whatever its role "
                         "(Default and Anonymous are set to None); leave access_rights out")
        return None
    if not given:
        problems.add("access_rights is required with state=present: a role such as %s, or granular rights such as "
                     "ReadItems, FolderVisible" % ", ".join(ROLE_NAMES))
        return None
    rights = choice_list(given, ACCESS_RIGHT_NAMES, "access_rights", problems)
    roles = [name for name in rights if name in ROLE_NAMES]
    if roles and len(rights) > 1:
        problems.add("access_rights %s: a role (%s) stands for a set of rights and cannot be combined with other names; "
                     "give one role, or granular rights only" % (rights, ", ".join(roles)))
        return None
    return rights_shown(rights_bits(rights)) if rights else None


def checked_flags(params, rights, special, problems):
    given = params["sharing_permission_flags"]
    if given is None:
        return None
    if params["state"] == "absent":
        problems.add("sharing_permission_flags cannot be used with state=absent: leave it out")
        return None
    flags = [name for name in choice_list(given, FLAG_NAMES + ("None",), "sharing_permission_flags", problems)
             if name != "None"] if given else []
    if flags and special:
        problems.add("sharing_permission_flags is for users: %s cannot be a delegate; leave it out" % special)
    elif flags and rights is not None and rights != [EDITOR]:
        problems.add("sharing_permission_flags %s needs access_rights [Editor] (Exchange allows the flags with the "
                     "Editor role only), but access_rights is %s" % (flags, rights))
    if CAN_VIEW_PRIVATE_ITEMS in flags and DELEGATE not in flags:
        problems.add("sharing_permission_flags CanViewPrivateItems needs Delegate too: use [Delegate, "
                     "CanViewPrivateItems]")
    return flags


def run(module):
    params = module.params
    problems = Problems()
    identities = bulk_options(params, problems)
    folder, problem = folder_path(params["folder"])
    problems.add(problem)
    user = params["user"]
    special = special_user(user)
    absent = params["state"] == "absent"
    if not special:
        if is_sid(user):
            if not absent:
                problems.add("user '%s' is a SID: a SID names a user who is gone, whose entries can only be removed "
                             "(state=absent); to grant, name the user by user principal name, primary SMTP address or "
                             "GUID, or use Default or Anonymous" % user.strip())
        else:
            problems.add(trustee_problem(user))
    rights = checked_rights(params, problems)
    flags = checked_flags(params, rights, special, problems)
    if params["send_notification_to_user"]:
        if absent:
            problems.add("send_notification_to_user cannot be used with state=absent: leave it out")
        elif special:
            problems.add("send_notification_to_user is for users: %s gets no notification; leave it out" % special)
        elif rights is not None and rights[0] not in NOTIFY_ROLES:
            problems.add("send_notification_to_user applies to the calendar roles %s only, but access_rights is %s" % (
                ", ".join(NOTIFY_ROLES), rights))
    problems.raise_if_any()
    if special:
        folder_user = FolderUser(special=special)
    else:
        folder_user = FolderUser(resolve_trustee(module.client, user, allow_sid=absent))
    delegation = FolderPermission(folder_user, folder, rights, flags, params["send_notification_to_user"],
                                  params["state"], v2=params.get("admin_api") == V2)
    BulkRun(module, delegation).run(identities)
