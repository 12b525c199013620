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
from ansible_collections.m365.exchange.plugins.module_utils._permissions import permission_entries, visible_permissions
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
)
MUTUALLY_EXCLUSIVE = [("identity", "filter"), ("identity", "member_of_group")]


# Failures of a read that are not about the identity read.
CONNECTION_ERRORS = (AuthenticationError, AuthorizationError, ConfigurationError, TransientError)
FILTER_HELP = ("Write an OPATH filter such as Department -eq 'Legal' -and CustomAttribute1 -ne 'NoArchive': quote "
               "values with single quotes, double a quote inside a value (DisplayName -eq 'O''Brien'), and use the "
               "filterable properties of Get-Mailbox -Filter")


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
    problems.raise_if_any("Invalid input")
    return result_size


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
