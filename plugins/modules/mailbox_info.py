#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: mailbox_info
short_description: Select Exchange Online mailboxes and read their permissions
version_added: 0.1.0
description:
  - Selects mailboxes by identity, by type, by an OPATH filter evaluated by Exchange, or by the membership of a group,
    like C(Get-Mailbox), and optionally reads their permissions like C(Get-MailboxPermission).
  - Results are complete across pages, use snake_case keys and never contain raw API payloads.
  - A selection that matches nothing returns an empty list; an identity that does not exist fails the task unless
    O(missing) says otherwise.
author:
  - m365.exchange developers (@m365-exchange)
extends_documentation_fragment:
  - m365.exchange.connection
  - m365.exchange.connection.action_group
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
options:
  identity:
    description:
      - Select these mailboxes, each by primary SMTP address, user principal name, alias, GUID or
        ExternalDirectoryObjectId. Group mailboxes are found too.
      - Mutually exclusive with O(filter) and O(member_of_group).
    type: list
    elements: str
  recipient_type_details:
    description:
      - Select mailboxes of these types, like C(-RecipientTypeDetails).
      - Without this option all mailboxes except Microsoft 365 group mailboxes are selected; add V(GroupMailbox) to
        include them.
      - Combined with O(identity) or O(member_of_group), keeps only mailboxes of these types.
    type: list
    elements: str
    choices: [DiscoveryMailbox, EquipmentMailbox, GroupMailbox, LinkedMailbox, LinkedRoomMailbox, RoomMailbox,
              SchedulingMailbox, SharedMailbox, TeamMailbox, UserMailbox]
  filter:
    description:
      - An OPATH filter evaluated by Exchange, like C(-Filter) of C(Get-Mailbox), for example
        V(Department -eq 'Legal' -and CustomAttribute1 -ne 'NoArchive').
      - Quote values with single quotes and double a quote inside a value (V(DisplayName -eq 'O''Brien')).
      - A filter with an unterminated quoted value fails the task before anything is sent; other syntax errors are
        reported by Exchange and fail the task with its reason.
    type: str
  member_of_group:
    description:
      - Select the mailboxes of the members of this group, nested groups included.
      - A distribution group, a security group (mail-enabled or not) or a Microsoft 365 group, by name, primary SMTP
        address or GUID.
    type: str
  result_size:
    description:
      - The most mailboxes to return, like C(-ResultSize); V(unlimited) or a positive number.
    type: str
    default: unlimited
  properties:
    description:
      - More Get-Mailbox properties to return, by their Exchange names (for example V(Department), V(SKUAssigned),
        V(WhenCreated)). They are returned under snake_case keys (V(department), V(sku_assigned), V(when_created)).
    type: list
    elements: str
    default: []
  include_permissions:
    description:
      - Read the permissions of each selected mailbox (one C(Get-MailboxPermission) per mailbox) and return them as
        RV(mailboxes[].permissions).
    type: bool
    default: false
  permission_user:
    description:
      - Read only the access control entries of this trustee (like C(-User) of C(Get-MailboxPermission)). Implies
        O(include_permissions=true).
    type: str
  count_permissions:
    description:
      - Read the permissions of each selected mailbox and return how many explicit entries it holds as
        RV(mailboxes[].permission_count), the number Exchange counts against its limit of 500 access control entries.
      - Without O(include_permissions), the entries themselves are not returned, which keeps the result small for a
        whole tenant.
      - Cannot be combined with O(permission_user), which makes Exchange return only that trustee's entries.
    type: bool
    default: false
  include_inherited:
    description:
      - Return inherited access control entries too.
    type: bool
    default: false
  include_self:
    description:
      - Return the entries of C(NT AUTHORITY\SELF), which every mailbox has.
    type: bool
    default: false
  missing:
    description:
      - What to do when an identity of O(identity) does not exist.
      - V(fail) fails the task; V(warn) leaves it out with a warning; V(ignore) leaves it out.
      - An ambiguous identity always fails the task.
    type: str
    choices: [fail, warn, ignore]
    default: fail
  concurrency:
    description:
      - The most cmdlets kept in flight at once when reading many mailboxes.
    type: int
    default: 64
seealso:
  - module: m365.exchange.mailbox_permission
  - name: Get-Mailbox
    description: The cmdlet whose selection options this module follows.
    link: https://learn.microsoft.com/powershell/module/exchange/get-mailbox
"""

EXAMPLES = r"""
- name: All user and shared mailboxes of the tenant
  m365.exchange.mailbox_info:
    recipient_type_details: [UserMailbox, SharedMailbox]
  register: scope

- name: Show how many were found
  ansible.builtin.debug:
    msg: "{{ scope.mailboxes | length }} mailboxes"

- name: Mailboxes of the legal department, with their license flag
  m365.exchange.mailbox_info:
    filter: "Department -eq 'Legal'"
    properties: [SKUAssigned]

- name: Mailboxes of the members of a group, nested groups included
  m365.exchange.mailbox_info:
    member_of_group: finance@contoso.com

- name: Who has access to two shared mailboxes
  m365.exchange.mailbox_info:
    identity:
      - info@contoso.com
      - support@contoso.com
    include_permissions: true
  register: shared

- name: Where the archive account holds explicit access
  m365.exchange.mailbox_info:
    recipient_type_details: [UserMailbox, SharedMailbox]
    permission_user: archive.admin@contoso.com
  register: archive_access

- name: List the mailboxes with such access
  ansible.builtin.debug:
    msg: "{{ archive_access.mailboxes | selectattr('permissions') | map(attribute='primary_smtp_address') | list }}"
"""

RETURN = r"""
mailboxes:
  description: The selected mailboxes.
  returned: always
  type: list
  elements: dict
  contains:
    identity:
      description: The mailbox's Exchange identity (its name).
      type: str
      sample: ceo
    display_name:
      description: The display name.
      type: str
      sample: Chief Executive
    alias:
      description: The alias.
      type: str
      sample: ceo
    user_principal_name:
      description: The user principal name.
      type: str
      sample: ceo@contoso.com
    primary_smtp_address:
      description: The primary SMTP address.
      type: str
      sample: ceo@contoso.com
    recipient_type_details:
      description: The mailbox type.
      type: str
      sample: UserMailbox
    external_directory_object_id:
      description: The Entra ID object ID.
      type: str
      sample: 3c2a1f50-5b1e-4a8e-9f0e-2f7c9d1b0a11
    guid:
      description: The Exchange object GUID.
      type: str
      sample: 9feb3a0c-1d2e-4f5a-8b7c-6d5e4f3a2b1c
    permissions:
      description:
        - The mailbox's access control entries, without inherited entries and C(NT AUTHORITY\SELF) unless asked.
      returned: when O(include_permissions=true) or O(permission_user) is set
      type: list
      elements: dict
      contains:
        user:
          description: The trustee as Exchange displays it (a UPN, a group name, or a SID for a deleted trustee).
          type: str
          sample: archive.admin@contoso.com
        user_sid:
          description: The trustee's security identifier.
          type: str
          sample: S-1-5-21-3623811015-3361044348-30300820-1013
        access_rights:
          description: The rights of the entry.
          type: list
          elements: str
          sample: [FullAccess]
        is_inherited:
          description: Whether the entry is inherited.
          type: bool
          sample: false
        deny:
          description: Whether the entry denies the rights.
          type: bool
          sample: false
        inheritance_type:
          description: The entry's inheritance type, when Exchange reports it.
          type: str
          sample: All
    permission_count:
      description:
        - The mailbox's explicit (not inherited) access control entries, C(NT AUTHORITY\SELF) included.
        - Exchange refuses a new entry on a mailbox that holds 500.
      returned: when O(count_permissions=true)
      type: int
      sample: 3
missing:
  description: Identities of O(identity) that do not exist (with O(missing=warn) or O(missing=ignore)).
  returned: always
  type: list
  elements: str
  sample: [left.company@contoso.com]
api_stats:
  description: What the module sent to Exchange Online.
  returned: always
  type: dict
  sample: {"http_requests": 12, "batch_requests": 10, "cmdlets": 102, "throttled": 0, "retries": 0,
           "token_renewals": 0}
"""

from ansible_collections.m365.exchange.plugins.module_utils._client import Command
from ansible_collections.m365.exchange.plugins.module_utils._errors import (
    AuthenticationError,
    AuthorizationError,
    ConfigurationError,
    ExchangeError,
    InvalidInputError,
    InvalidParameterError,
    NotFoundError,
    TransientError,
    name_the_app,
)
from ansible_collections.m365.exchange.plugins.module_utils._mailboxes import (
    IDENTITY_FORMS,
    MAILBOX_TYPES,
    MailboxSelector,
    identity_problem,
    is_group_record,
    opath_problem,
    record_address,
)
from ansible_collections.m365.exchange.plugins.module_utils._module import ExchangeModule
from ansible_collections.m365.exchange.plugins.module_utils._permissions import (
    permission_entries,
    resolve_trustee,
    visible_permissions,
)

# Failures of a read that are not about the identity read.
CONNECTION_ERRORS = (AuthenticationError, AuthorizationError, ConfigurationError, TransientError)
FILTER_HELP = ("Write an OPATH filter such as Department -eq 'Legal' -and CustomAttribute1 -ne 'NoArchive': quote "
               "values with single quotes, double a quote inside a value (DisplayName -eq 'O''Brien'), and use the "
               "filterable properties of Get-Mailbox -Filter")


def main():
    module = ExchangeModule(
        argument_spec=dict(
            identity=dict(type="list", elements="str"),
            recipient_type_details=dict(type="list", elements="str", choices=list(MAILBOX_TYPES)),
            filter=dict(type="str"),
            member_of_group=dict(type="str"),
            result_size=dict(type="str", default="unlimited"),
            properties=dict(type="list", elements="str", default=[]),
            include_permissions=dict(type="bool", default=False),
            count_permissions=dict(type="bool", default=False),
            permission_user=dict(type="str"),
            include_inherited=dict(type="bool", default=False),
            include_self=dict(type="bool", default=False),
            missing=dict(type="str", default="fail", choices=["fail", "warn", "ignore"]),
            concurrency=dict(type="int", default=64),
        ),
        mutually_exclusive=[("identity", "filter"), ("identity", "member_of_group")],
        supports_check_mode=True,
    )
    try:
        run(module)
    except ExchangeError as exc:
        module.fail_on(name_the_app(exc, module.params["client_id"], module.params["tenant"]), mailboxes=[])


def run(module):
    params = module.params
    result_size = validated_input(params)
    selector = MailboxSelector(module.client, module.pipeline(), params["properties"])
    types = params["recipient_type_details"]
    if params["identity"] is not None:
        selection = selector.by_identity([i.strip() for i in params["identity"]], types)
        check_identities(module, selection)
    else:
        selection = select_mailboxes(params, selector, types, result_size)
    mailboxes, addresses = records_of(selection, result_size)
    if params["include_permissions"] or params["permission_user"] or params["count_permissions"]:
        add_permissions(module, addresses, mailboxes)
    module.finish(changed=False, mailboxes=mailboxes, missing=selection.missing)


def records_of(selection, result_size):
    """The selected records, and how to address each mailbox in later cmdlets."""
    records = selection.records[:result_size] if isinstance(result_size, int) else selection.records
    return records, [(record_address(record), is_group_record(record)) for record in records]


def select_mailboxes(params, selector, types, result_size):
    """Mailboxes by group membership or by query, with the service's refusals explained in terms of the options."""
    group = params["member_of_group"]
    try:
        if group:
            return selector.by_group(group.strip(), types, params["filter"], result_size)
        return selector.by_query(types, params["filter"], result_size)
    except InvalidParameterError as exc:
        if params["filter"] and "filter" in str(exc).lower():
            raise InvalidInputError("Invalid input: filter \"%s\" was rejected by Exchange: %s. %s." % (
                params["filter"], exc.message, FILTER_HELP), cmdlet=exc.cmdlet, status=exc.status)
        raise
    except NotFoundError as exc:
        if group and exc.cmdlet == "Get-Group":
            raise InvalidInputError(
                "Invalid input: member_of_group '%s' was not found: name a distribution group, a security group or a "
                "Microsoft 365 group by name, primary SMTP address or GUID" % group.strip(),
                cmdlet=exc.cmdlet, identity=exc.identity, status=exc.status)
        raise


def validated_input(params):
    """The result size as an int (or None for unlimited); every input problem at once."""
    problems = []
    if params["identity"] is not None:
        empty = [str(i) for i, identity in enumerate(params["identity"]) if not (identity or "").strip()]
        if empty:
            problems.append("identity has empty items at positions %s; an empty identity would select every "
                            "mailbox" % ", ".join(empty))
        malformed = [identity_problem(identity, "identity[%d]" % position)
                     for position, identity in enumerate(params["identity"]) if (identity or "").strip()]
        problems.extend(problem for problem in malformed if problem)
        if empty or any(malformed):
            problems.append("each identity must be %s" % IDENTITY_FORMS)
        if not params["identity"]:
            problems.append("identity is an empty list: name at least one mailbox or leave identity out")
    for option in ("filter", "member_of_group", "permission_user"):
        if params[option] is not None and not params[option].strip():
            problems.append("%s is empty" % option)
        elif params[option] is not None and option != "filter":
            problem = identity_problem(params[option], option)
            if problem:
                problems.append(problem)
    if params["filter"] and params["filter"].strip():
        problem = opath_problem(params["filter"])
        if problem:
            problems.append(problem)
    if params["count_permissions"] and params["permission_user"]:
        # -User filters the entries Exchange returns, so they could not be counted
        problems.append("count_permissions counts every explicit entry and cannot be combined with permission_user "
                        "'%s': use one, or run the module twice" % params["permission_user"])
    result_size = _result_size(params["result_size"], problems)
    if not 1 <= params["concurrency"] <= 64:
        problems.append("concurrency %d is out of range: use 1 to 64" % params["concurrency"])
    if problems:
        raise InvalidInputError("Invalid input: " + "; ".join(problems))
    return result_size


def _result_size(value, problems):
    text = str(value).strip().lower()
    if text == "unlimited":
        return None
    if text.isdigit() and int(text) > 0:
        return int(text)
    problems.append("result_size '%s' is neither 'unlimited' nor a positive number" % value)
    return None


def check_identities(module, selection):
    for identity, error in selection.failed:
        if isinstance(error, CONNECTION_ERRORS):
            # about the app, the connection or the service, not about the identity: say so as it is
            raise error
    failures = ["'%s' matches several mailboxes" % i for i in selection.ambiguous]
    missing = selection.missing if module.params["missing"] == "fail" else []
    failures.extend("'%s' was not found" % identity for identity in missing)
    if failures:
        hint = "Each identity must be %s; primary SMTP addresses and GUIDs are unique" % IDENTITY_FORMS
        if missing:
            hint += "; missing=warn or missing=ignore skips identities that do not exist"
        failures = ["%s. %s" % ("; ".join(failures), hint)]
    failures.extend("'%s': %s" % (identity, error) for identity, error in selection.failed)
    if failures:
        raise InvalidInputError("Cannot select the mailboxes: %s" % "; ".join(failures))
    if selection.missing and module.params["missing"] == "warn":
        module.warn("Identities not found: %s" % ", ".join(selection.missing))


def add_permissions(module, addresses, mailboxes):
    params = module.params
    trustee = resolve_trustee(module.client, params["permission_user"], "permission_user") if params["permission_user"] else None
    commands = []
    for address, group_mailbox in addresses:
        parameters = {"Identity": address}
        if trustee:
            parameters["User"] = trustee.identity
        if group_mailbox:
            parameters["GroupMailbox"] = True
        commands.append(Command("Get-MailboxPermission", parameters))
    failures = []
    for mailbox, result in zip(mailboxes, module.pipeline().run(commands, keep=permission_fields(params))):
        if isinstance(result, ExchangeError):
            failures.append(result)
            continue
        warnings, fields = result
        module.collect_warnings(warnings or [])
        mailbox.update(fields)
    if failures:
        module.fail_on("Reading the permissions of %d of %d mailboxes failed; first failures: %s" % (
            len(failures), len(mailboxes), "; ".join(str(error) for error in failures[:5])), mailboxes=mailboxes)


def permission_fields(params):
    """What to keep of each Get-MailboxPermission result: its warnings and the mailbox's permission fields."""
    listed = params["include_permissions"] or params["permission_user"]
    counted = params["count_permissions"]

    def keep(result):
        entries = permission_entries(result)
        fields = {}
        if listed:
            fields["permissions"] = visible_permissions(entries, params["include_inherited"], params["include_self"])
        if counted:
            fields["permission_count"] = sum(1 for entry in entries if not entry["is_inherited"])
        return result.warnings or None, fields

    return keep


if __name__ == "__main__":
    main()
