# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The documented Exchange Online Admin API v2.0 (preview): which cmdlets it has, and how to reach it.

With the connection option admin_api=v2, the client sends a cmdlet to ``POST /adminapi/v2.0/{tenant}/{Endpoint}``
when an endpoint of that API documents the cmdlet and every parameter the command carries; everything else goes
to InvokeCommand as before. The body, the envelope and the paging are the same; the API has no $batch, so these
commands are sent one request each.

Permissions (learn.microsoft.com/exchange/reference/admin-api-authentication): the application permission
Exchange.ManageAsAppV2 of Office 365 Exchange Online, plus an Exchange role that allows the cmdlet (Recipient
Management, or Exchange Administrator), as for InvokeCommand. The modules still resolve trustees and classify
identities with Get-Recipient / Get-User, which only InvokeCommand offers, so the app keeps Exchange.ManageAsApp.
"""

from ansible_collections.m365.exchange.plugins.module_utils._errors import AuthenticationError, AuthorizationError

INVOKE_COMMAND = "invoke_command"
V2 = "v2"
ADMIN_APIS = (INVOKE_COMMAND, V2)

# cmdlet -> (endpoint, parameters the endpoint documents for it). Case-insensitive names.
_CONFIRM = ("Confirm",)
ENDPOINTS = {
    "get-mailbox": ("Mailbox", ("Identity", "ResultSize", "IncludeGrantSendOnBehalfToWithDisplayNames")),
    "set-mailbox": ("Mailbox", ("Identity", "GrantSendOnBehalfTo") + _CONFIRM),
    "get-mailboxfolderpermission": ("MailboxFolderPermission", ("Identity", "User", "ResultSize")),
    "add-mailboxfolderpermission": ("MailboxFolderPermission", ("Identity", "User", "AccessRights",
                                                                "SharingPermissionFlags", "SendNotificationToUser")
                                    + _CONFIRM),
    "set-mailboxfolderpermission": ("MailboxFolderPermission", ("Identity", "User", "AccessRights",
                                                                "SharingPermissionFlags", "SendNotificationToUser")
                                    + _CONFIRM),
    "remove-mailboxfolderpermission": ("MailboxFolderPermission", ("Identity", "User") + _CONFIRM),
}
_ALLOWED = dict((cmdlet, frozenset(name.lower() for name in allowed)) for cmdlet, (_e, allowed) in ENDPOINTS.items())

PERMISSION_HINT = ("admin_api=v2 sends Get-Mailbox, Set-Mailbox -GrantSendOnBehalfTo and the MailboxFolderPermission "
                   "cmdlets to the Exchange Online Admin API v2.0, which needs the Exchange.ManageAsAppV2 application "
                   "permission (with admin consent) besides an Exchange role; grant it, or use admin_api=invoke_command")


def v2_endpoint(cmdlet, parameters):
    """The Admin API v2.0 endpoint that documents this cmdlet with these parameters, or None."""
    key = (cmdlet or "").lower()
    allowed = _ALLOWED.get(key)
    if allowed is None:
        return None
    if any(str(name).lower() not in allowed for name in parameters or {}):
        return None
    return ENDPOINTS[key][0]


def with_v2_hint(error):
    """An authentication or authorization error of a task that uses the Admin API v2.0, with the permission it needs."""
    if isinstance(error, (AuthenticationError, AuthorizationError)) and PERMISSION_HINT not in error.message:
        error.message = "%s. %s" % (error.message.rstrip("."), PERMISSION_HINT)
    return error
