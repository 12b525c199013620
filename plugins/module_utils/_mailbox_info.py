# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The mailbox_info module: select mailboxes by identity, type, OPATH filter or group membership, and read (or
count) their permissions."""

from ansible_collections.m365.exchange.plugins.module_utils._argspec import CONCURRENCY, MISSING, merged
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
from ansible_collections.m365.exchange.plugins.module_utils._folder_permissions import (
    default_folder_scope,
    folder_entry,
    folder_identity,
    folder_path,
    is_no_entry,
    located_path,
    statistics_command,
)
from ansible_collections.m365.exchange.plugins.module_utils._permissions import permission_entries, visible_permissions
from ansible_collections.m365.exchange.plugins.module_utils._send_as import is_self, send_as_entry
from ansible_collections.m365.exchange.plugins.module_utils._send_on_behalf import delegate_names, trustee_keys
from ansible_collections.m365.exchange.plugins.module_utils._trustees import resolve_trustee
from ansible_collections.m365.exchange.plugins.module_utils._validation import Problems, concurrency, identities

ARGUMENT_SPEC = merged(
    CONCURRENCY, MISSING,
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
    include_send_as=dict(type="bool", default=False),
    include_send_on_behalf=dict(type="bool", default=False),
    include_folder_permissions=dict(type="list", elements="str"),
)
SEND_ON_BEHALF_PROPERTY = "GrantSendOnBehalfTo"
MUTUALLY_EXCLUSIVE = [("identity", "filter"), ("identity", "member_of_group")]


# Failures of a read that are not about the identity read.
CONNECTION_ERRORS = (AuthenticationError, AuthorizationError, ConfigurationError, TransientError)
FILTER_HELP = ("Write an OPATH filter such as Department -eq 'Legal' -and CustomAttribute1 -ne 'NoArchive': quote "
               "values with single quotes, double a quote inside a value (DisplayName -eq 'O''Brien'), and use the "
               "filterable properties of Get-Mailbox -Filter")


def run(module):
    params = module.params
    result_size, folders = validated_input(params)
    properties = list(params["properties"])
    if params["include_send_on_behalf"] and SEND_ON_BEHALF_PROPERTY not in properties:
        properties.append(SEND_ON_BEHALF_PROPERTY)
    selector = MailboxSelector(module.client, module.pipeline(), properties)
    types = params["recipient_type_details"]
    if params["identity"] is not None:
        selection = selector.by_identity([i.strip() for i in params["identity"]], types)
        check_identities(module, selection)
    else:
        selection = select_mailboxes(params, selector, types, result_size)
    mailboxes, addresses = records_of(selection, result_size)
    trustee = None
    if params["permission_user"]:
        trustee = resolve_trustee(module.client, params["permission_user"], "permission_user")
    if params["include_permissions"] or params["permission_user"] or params["count_permissions"]:
        add_permissions(module, addresses, mailboxes, trustee)
    if params["include_send_as"]:
        add_send_as(module, addresses, mailboxes, trustee)
    if params["include_send_on_behalf"]:
        add_send_on_behalf(mailboxes, trustee, keep_property=SEND_ON_BEHALF_PROPERTY in params["properties"])
    if folders:
        add_folder_permissions(module, addresses, mailboxes, folders, trustee)
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
    problems = Problems()
    identities(params["identity"], problems, required=False)
    for option in ("filter", "member_of_group", "permission_user"):
        if params[option] is not None and not params[option].strip():
            problems.add("%s is empty" % option)
        elif params[option] is not None and option != "filter":
            problems.add(identity_problem(params[option], option))
    if params["filter"] and params["filter"].strip():
        problems.add(opath_problem(params["filter"]))
    if params["count_permissions"] and params["permission_user"]:
        # -User filters the entries Exchange returns, so they could not be counted
        problems.add("count_permissions counts every explicit entry and cannot be combined with permission_user "
                     "'%s': use one, or run the module twice" % params["permission_user"])
    result_size = _result_size(params["result_size"], problems)
    concurrency(params["concurrency"], problems)
    folders = []
    for position, folder in enumerate(params["include_folder_permissions"] or []):
        path, problem = folder_path(folder)
        problems.add(problem and "include_folder_permissions[%d]: %s" % (position, problem))
        if path and path.lower() not in [p.lower() for _f, p in folders]:
            folders.append((str(folder).strip(), path))
    problems.raise_if_any("Invalid input")
    return result_size, folders


def _result_size(value, problems):
    text = str(value).strip().lower()
    if text == "unlimited":
        return None
    if text.isdigit() and int(text) > 0:
        return int(text)
    problems.add("result_size '%s' is neither 'unlimited' nor a positive number" % value)
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


def add_permissions(module, addresses, mailboxes, trustee=None):
    params = module.params
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


def _read_failures(module, mailboxes, what, failures):
    if failures:
        module.fail_on("Reading the %s of %d of %d mailboxes failed; first failures: %s" % (
            what, len(failures), len(mailboxes), "; ".join(str(error) for error in failures[:5])), mailboxes=mailboxes)


def add_send_as(module, addresses, mailboxes, trustee=None):
    """send_as: the SendAs entries of each mailbox (one Get-RecipientPermission each), without SELF unless asked."""
    include_self = module.params["include_self"]
    commands = []
    for address, _group_mailbox in addresses:
        parameters = {"Identity": address}
        if trustee:
            parameters["Trustee"] = trustee.identity
        commands.append(Command("Get-RecipientPermission", parameters))

    def keep(result):
        entries = [send_as_entry(row) for row in result.value]
        return [dict(trustee=e["trustee"], trustee_sid=e["trustee_sid"], access_rights=e["access_rights"],
                     deny=e["access_control_type"] == "Deny") for e in entries if include_self or not is_self(e)]

    failures = []
    for mailbox, result in zip(mailboxes, module.pipeline().run(commands, keep=keep)):
        if isinstance(result, ExchangeError):
            failures.append(result)
        else:
            mailbox["send_as"] = result
    _read_failures(module, mailboxes, "SendAs permissions", failures)


def add_send_on_behalf(mailboxes, trustee=None, keep_property=False):
    """send_on_behalf: the delegates of GrantSendOnBehalfTo (read with the selection: no extra cmdlet)."""
    keys = trustee_keys(trustee) if trustee else None
    for mailbox in mailboxes:
        names = delegate_names(mailbox.get("grant_send_on_behalf_to"))
        mailbox["send_on_behalf"] = [n for n in names if keys is None or n.lower() in keys]
        if not keep_property:
            mailbox.pop("grant_send_on_behalf_to", None)


def add_folder_permissions(module, addresses, mailboxes, folders, trustee=None):
    """folder_permissions: the entries of each asked folder of each mailbox (one Get-MailboxFolderPermission each;
    a default folder with a localized name costs a Get-MailboxFolderStatistics and a second read there)."""
    user = trustee.name if trustee and "@" in (trustee.name or "") else (trustee.identity if trustee else None)
    jobs = [(index, address, group, asked, path) for index, (address, group) in enumerate(addresses)
            for asked, path in folders]
    found = [[] for _mailbox in mailboxes]
    failures = []
    located = _read_folder_jobs(module, jobs, user, found, failures)
    if located:
        commands = [statistics_command(address, default_folder_scope(path), group)
                    for _i, address, group, _a, path in located]
        again = []
        for job, result in zip(located, module.pipeline().run(commands)):
            if isinstance(result, NotFoundError):
                continue
            if isinstance(result, ExchangeError):
                failures.append(result)
                continue
            path = located_path(job[4], result.value, default_folder_scope(job[4]))
            if path is not None and path.lower() != job[4].lower():
                again.append(job[:4] + (path,))
        _read_folder_jobs(module, again, user, found, failures, locate=False)
    for mailbox, entries in zip(mailboxes, found):
        mailbox["folder_permissions"] = entries
    _read_failures(module, mailboxes, "folder permissions", failures)


def _read_folder_jobs(module, jobs, user, found, failures, locate=True):
    """Read (mailbox, folder) jobs into found[]; returns the jobs of default folders not found under that name."""
    commands = []
    for _index, address, group, _asked, path in jobs:
        parameters = {"Identity": folder_identity(address, path)}
        if user:
            parameters["User"] = user
        if group:
            parameters["GroupMailbox"] = True
        commands.append(Command("Get-MailboxFolderPermission", parameters))

    def keep(result):
        return [folder_entry(row) for row in result.value]

    retry = []
    for job, result in zip(jobs, module.pipeline().run(commands, keep=keep)):
        index, _address, _group, asked, path = job
        if isinstance(result, NotFoundError):
            if locate and default_folder_scope(path):
                retry.append(job)
            continue  # the mailbox has no such folder
        if isinstance(result, ExchangeError):
            if not is_no_entry(result):
                failures.append(result)
            continue
        for entry in result:
            found[index].append(dict(folder=asked, folder_path=path, user=entry["user"],
                                     access_rights=entry["access_rights"],
                                     sharing_permission_flags=entry["sharing_permission_flags"]))
    return retry
