# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The app_access_info module: which mailboxes an app reaches through RBAC for Applications, as
Test-ServicePrincipalAuthorization says for each mailbox (evaluated now, without Exchange's cache)."""

from ansible_collections.m365.exchange.plugins.module_utils._argspec import CONCURRENCY, MISSING, merged
from ansible_collections.m365.exchange.plugins.module_utils._client import Command
from ansible_collections.m365.exchange.plugins.module_utils._errors import (
    AmbiguousIdentityError,
    ExchangeError,
    NotFoundError,
)
from ansible_collections.m365.exchange.plugins.module_utils._mailbox_info import CONNECTION_ERRORS, select_mailboxes
from ansible_collections.m365.exchange.plugins.module_utils._mailboxes import (
    GROUP_MAILBOX,
    IDENTITY_FORMS,
    MAILBOX_TYPES,
    MailboxSelector,
    identity_problem,
    opath_problem,
    record_address,
)
from ansible_collections.m365.exchange.plugins.module_utils._parsing import as_bool
from ansible_collections.m365.exchange.plugins.module_utils._rbac import (
    APP,
    canonical_role,
    describe_app,
    find_app,
    in_scope_value,
)
from ansible_collections.m365.exchange.plugins.module_utils._report import first_errors
from ansible_collections.m365.exchange.plugins.module_utils._validation import Problems, concurrency, identities

LISTS = ("all", "in_scope", "not_in_scope", "none")
ARGUMENT_SPEC = merged(
    CONCURRENCY, MISSING, APP,
    identity=dict(type="list", elements="str"),
    recipient_type_details=dict(type="list", elements="str", choices=[t for t in MAILBOX_TYPES if t != GROUP_MAILBOX]),
    filter=dict(type="str"),
    member_of_group=dict(type="str"),
    roles=dict(type="list", elements="str"),
    list_mailboxes=dict(type="str", default="all", choices=list(LISTS)),
    include_ews_settings=dict(type="bool", default=False),
)
MUTUALLY_EXCLUSIVE = [("identity", "filter"), ("identity", "member_of_group"), ("identity", "recipient_type_details")]


def validated(params):
    """The identities (or None), and the roles to consider (or None for every role of the app)."""
    problems = Problems()
    if not params["app"].strip():
        problems.add("app is empty: name the app by its app ID, the object ID of its service principal or its "
                     "display name in Exchange")
    targets = identities(params["identity"], problems, required=False)
    for option in ("filter", "member_of_group"):
        value = params[option]
        if value is not None and not value.strip():
            problems.add("%s is empty" % option)
        elif value is not None and option == "filter":
            problems.add(opath_problem(value))
        elif value is not None:
            problems.add(identity_problem(value, option))
    roles = None
    if params["roles"] is not None:
        roles = []
        for value in params["roles"]:
            role = canonical_role(value, problems, "roles")
            if role and role not in roles:
                roles.append(role)
        if not params["roles"]:
            problems.add("roles is an empty list: name at least one Application role, or leave roles out to consider "
                         "every role the app holds")
    concurrency(params["concurrency"], problems)
    problems.raise_if_any("Invalid input")
    return targets, roles


def keep(result):
    """A Test-ServicePrincipalAuthorization result as (warnings, role rows) (runs in the pipeline's workers)."""
    rows = [{"role": str(row.get("RoleName") or ""), "granted_permissions": row.get("GrantedPermissions"),
             "allowed_resource_scope": row.get("AllowedResourceScope"), "scope_type": row.get("ScopeType"),
             "in_scope": in_scope_value(row.get("InScope"))} for row in result.value]
    return result.warnings or None, rows


def run(module):
    params = module.params
    targets, roles = validated(params)
    principal = find_app(module.client, params["app"])
    if targets is not None:
        mailboxes = [{"identity": identity, "primary_smtp_address": None} for identity in targets]
        addresses = list(targets)
    else:
        selector = MailboxSelector(module.client, module.pipeline())
        records = select_mailboxes(params, selector, params["recipient_type_details"], None).records
        mailboxes = [{"identity": r["primary_smtp_address"] or r["identity"],
                      "primary_smtp_address": r["primary_smtp_address"]} for r in records]
        addresses = [record_address(r) for r in records]
    commands = [Command("Test-ServicePrincipalAuthorization", {"Identity": principal["object_id"], "Resource": address},
                        retry_safe=True) for address in addresses]
    results = module.pipeline().run(commands, keep=keep)
    report(module, principal, roles, mailboxes, results,
           ews_settings(module.client) if params["include_ews_settings"] else None)


def ews_settings(client):
    """The organization's EWS settings (Get-OrganizationConfig): whether EWS is on, and which apps it lets in."""
    rows = client.invoke("Get-OrganizationConfig", {}).value
    row = rows[0] if rows else {}

    def names(value):
        return [str(v) for v in value] if isinstance(value, list) else ([str(value)] if value else [])

    enabled = row.get("EwsEnabled")
    return {"ews_enabled": None if enabled in (None, "") else as_bool(enabled),
            "ews_application_access_policy": row.get("EwsApplicationAccessPolicy") or None,
            "ews_allow_list": names(row.get("EwsAllowList")), "ews_block_list": names(row.get("EwsBlockList"))}


def report(module, principal, roles, mailboxes, results, ews=None):
    wanted = set(role.lower() for role in roles) if roles else None
    entries, checked, missing, failed, held = [], [], [], [], {}
    for mailbox, result in zip(mailboxes, results):
        if isinstance(result, CONNECTION_ERRORS):
            raise result  # about the app, the connection or the service, not about the mailbox
        if isinstance(result, NotFoundError):
            missing.append(mailbox["identity"])
            continue
        if isinstance(result, AmbiguousIdentityError):
            failed.append(dict(mailbox, in_scope=None, roles=[],
                               error="'%s' matches several mailboxes; use its primary SMTP address or GUID"
                               % mailbox["identity"]))
            entries.append(failed[-1])
            continue
        if isinstance(result, ExchangeError):
            failed.append(dict(mailbox, in_scope=None, roles=[], error=str(result)))
            entries.append(failed[-1])
            continue
        warnings, rows = result
        module.collect_warnings(warnings or [])
        for row in rows:
            held.setdefault(row["role"], row)
        rows = [row for row in rows if wanted is None or row["role"].lower() in wanted]
        checked.append(dict(mailbox, in_scope=any(row["in_scope"] for row in rows), roles=rows))
        entries.append(checked[-1])
    warn_about_roles(module, principal, roles, held, bool(checked))
    in_scope = sum(1 for mailbox in checked if mailbox["in_scope"])
    summary = {"mailboxes": len(checked), "in_scope": in_scope, "not_in_scope": len(checked) - in_scope,
               "missing": len(missing), "failed": len(failed)}
    listed = module.params["list_mailboxes"]
    result = dict(changed=False, app=principal, summary=summary, missing=missing,
                  mailboxes=[m for m in entries if _listed(m, listed)])
    if ews is not None:
        result["ews_settings"] = ews
    problems = []
    if missing and module.params["missing"] == "fail":
        problems.append("%s not found: %s. Each identity must be %s; missing=warn or missing=ignore leaves them out"
                        % (_mailboxes(len(missing), "was", "were"), ", ".join(missing[:20]), IDENTITY_FORMS))
    if failed:
        problems.append("Test-ServicePrincipalAuthorization failed for %s: %s" % (
            _mailboxes(len(failed)), first_errors(failed)))
    if problems:
        module.fail_on("; ".join(problems), **result)
    if missing and module.params["missing"] == "warn":
        module.warn("Mailboxes not found: %s" % ", ".join(missing))
    module.finish(**result)


def _mailboxes(count, *verbs):
    """'1 mailbox was' / '3 mailboxes were'."""
    words = "%d mailbox%s" % (count, "" if count == 1 else "es")
    if verbs:
        words += " " + verbs[0 if count == 1 else 1]
    return words


def _listed(mailbox, listed):
    if "error" in mailbox or listed == "all":
        return True
    if listed == "none":
        return False
    return mailbox["in_scope"] == (listed == "in_scope")


def warn_about_roles(module, principal, roles, held, any_checked):
    if not any_checked:
        return
    app = describe_app(principal)
    if not held:
        module.warn("%s holds no role assignment in Exchange: no mailbox is in scope. An app can still reach every "
                    "mailbox through a tenant-wide admin consent of a Microsoft Graph permission in Entra ID, which "
                    "Exchange does not show" % app)
        return
    names = dict((name.lower(), name) for name in held)
    for role in roles or []:
        if role.lower() not in names:
            module.warn("%s holds no assignment of %s: no mailbox is in scope for it (it holds %s)" % (
                app, role, ", ".join(sorted(held))))
    for name, row in sorted(held.items()):
        if (roles is None or name.lower() in set(r.lower() for r in roles)) \
                and str(row.get("scope_type") or "").lower() == "organization":
            module.warn("%s holds %s for the whole organization (no custom resource scope): every mailbox is in "
                        "scope for it" % (app, name))
