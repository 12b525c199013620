# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The archive-access campaign on the controller: the role's inputs, the plan of a run, each chunk's record, the
report data, and what is published for AWX. The ``m365.exchange.archive_campaign`` action calls these; files are
written here, the ledger through `_ledger`.

A run keeps its working files in a private directory beside the reports (``plan.json``, one ``chunk-NNNNN.json``
per module call, ``chunks.jsonl`` with each chunk's summary); `finish` builds the reports from them and removes it.
"""

import csv
import datetime
import io
import json
import os
import re
import shutil
import time
import uuid

import jinja2

from ansible_collections.m365.exchange.plugins.module_utils._custom_attribute import canonical_attribute
from ansible_collections.m365.exchange.plugins.module_utils._mailboxes import identity_problem
from ansible_collections.m365.exchange.plugins.module_utils._rbac import canonical_role, guid_problem, is_guid
from ansible_collections.m365.exchange.plugins.plugin_utils._ledger import (
    LedgerError,
    LedgerWriter,
    campaign_header,
    check_owner,
    mailbox_id,
    pack_mailboxes,
    read_ledger,
    timestamp,
    unpack_mailboxes,
    utc_now,
)

ACTIONS = ("grant", "revoke", "preflight", "verify")
METHODS = ("full_access", "application_rbac")
METHOD_NAMES = {"full_access": "FullAccess", "application_rbac": "RBAC for Applications"}
SCOPE_BY = ("auto", "filter", "mark")
SCOPE_DEFAULTS = {"recipient_type_details": ["UserMailbox", "SharedMailbox"], "filter": None, "identities": [],
                  "member_of_group": None, "exclude": []}
CHUNK_SIZE_RANGE = (1, 50000)
CONCURRENCY_RANGE = (1, 64)
PROPAGATION_RANGE = (0, 1440)
ACL_LIMIT = 500
OUTCOMES = ("added", "removed", "unchanged", "skipped", "gone", "failed")
REPORT_FORMATS = ("json", "csv", "html")
CSV_COLUMNS = ("mailbox", "mailbox_id", "action", "before", "after", "time", "error")
LISTED = 20  # how many mailboxes a message names


def mailboxes(count):
    """'1 mailbox', '2 mailboxes'."""
    return "%d mailbox%s" % (count, "" if count == 1 else "es")


class CampaignError(Exception):
    """Why the campaign cannot go on; nothing was changed by the step that raises it."""


# ---- the role's inputs --------------------------------------------------------------------------------------


def check_inputs(args):
    """The role's variables as one dict, checked beyond what argument_specs can say. Returns (values, problems)."""
    problems = []
    scope = dict(SCOPE_DEFAULTS)
    given_scope = args.get("scope") or {}
    if not isinstance(given_scope, dict):
        problems.append("archive_access_scope must be a dictionary, got %r" % (given_scope,))
        given_scope = {}
    scope.update(dict((k, v) for k, v in given_scope.items() if v is not None))
    for key in ("identities", "exclude", "recipient_type_details"):
        if isinstance(scope[key], str):
            scope[key] = [scope[key]]
        if key == "recipient_type_details":
            continue
        for position, value in enumerate(scope[key] or []):
            problem = identity_problem(value, "archive_access_scope.%s[%d]" % (key, position))
            if problem:
                problems.append(problem)
    if scope["identities"] and (scope["filter"] or scope["member_of_group"]):
        problems.append("archive_access_scope.identities cannot be combined with %s: name the mailboxes, or select "
                        "them by filter or group" % ("filter" if scope["filter"] else "member_of_group"))
    if scope["filter"] is not None and not str(scope["filter"]).strip():
        problems.append("archive_access_scope.filter is empty: leave it out or give an OPATH filter")
    for key, (low, high), meaning in (
            ("chunk_size", CHUNK_SIZE_RANGE, "mailboxes per module call"),
            ("concurrency", CONCURRENCY_RANGE, "cmdlets in flight at most"),
            ("propagation_minutes", PROPAGATION_RANGE, "minutes")):
        value = args.get(key)
        if value is None:
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            problems.append("archive_access_%s '%s' is not a whole number: use %d to %d (%s)" % (
                key, value, low, high, meaning))
            continue
        if not low <= number <= high:
            problems.append("archive_access_%s %d is out of range: use %d to %d (%s)" % (
                key, number, low, high, meaning))
    method = args.get("method") or "full_access"
    if method not in METHODS:
        problems.append("archive_access_method '%s' is not a method of this role: use full_access (the delegate gets "
                        "FullAccess on each mailbox) or application_rbac (an app gets an Application role on a "
                        "management scope)" % method)
    warnings = []
    if method == "application_rbac":
        problems.extend(app_problems(args, scope))
        warnings = full_access_only_warnings(args.get("full_access_only"))
    elif args.get("action") == "verify":
        problems.append("archive_access_action 'verify' proves a campaign of archive_access_method=application_rbac; "
                        "a FullAccess campaign's reports and ledger show its access")
    elif method == "full_access":
        problem = identity_problem(args.get("delegate"), "archive_access_delegate")
        if problem:
            problems.append(problem + ": the delegate is the archive account, by user principal name or primary "
                                      "SMTP address")
    if not str(args.get("tenant") or "").strip():
        problems.append("archive_access_tenant is empty: set exo_tenant, EXO_TENANT or archive_access_tenant to the "
                        "tenant's name (the same form every time: it names the ledger)")
    for key in ("ledger", "report_dir", "data_dir"):
        value = args.get(key)
        if value and key == "ledger" and os.path.isdir(os.path.expanduser(value)):
            problems.append("archive_access_ledger '%s' is a directory: give the path of a file (it is created if "
                            "missing)" % value)
        elif value and key != "ledger" and os.path.exists(os.path.expanduser(value)) \
                and not os.path.isdir(os.path.expanduser(value)):
            problems.append("archive_access_%s '%s' is a file: give a directory (it is created if missing)" % (
                key, value))
    values = {"scope": scope, "method": method}
    if warnings:
        values["warnings"] = warnings
    return values, problems


# Variables of the role that only archive_access_method=full_access reads, with their defaults.
FULL_ACCESS_ONLY = {"revoke_all": False, "acl_limit_action": "stop", "check_acl_limit": False, "automapping": False}


def full_access_only_warnings(given):
    """One warning naming the FullAccess-only variables set to other than their defaults (application_rbac ignores
    them), or none."""
    changed = []
    for key, default in FULL_ACCESS_ONLY.items():
        value = (given or {}).get(key)
        if value is None or value == "":
            continue
        if isinstance(default, bool):
            value = str(value).strip().lower() in ("true", "yes", "on", "1")
        if value != default:
            changed.append("archive_access_%s=%s" % (key, str(value).lower() if isinstance(value, bool) else value))
    if not changed:
        return []
    return ["archive_access_method=application_rbac ignores %s: %s only for archive_access_method=full_access (an "
            "app's access has no access control entries on the mailboxes, and its revoke removes exactly what its "
            "ledger records)" % (", ".join(changed), "it applies" if len(changed) == 1 else "they apply")]


class _Problems(list):
    """The `add` of module_utils' Problems, for the checks shared with the modules."""

    def add(self, problem):
        if problem:
            self.append(problem)


def app_problems(args, scope):
    """What is wrong with the variables of archive_access_method=application_rbac."""
    problems = _Problems()
    app = args.get("app")
    if not isinstance(app, str) or not app.strip():
        problems.add("archive_access_app is empty: with archive_access_method=application_rbac name the app by its "
                     "app ID, the object ID of its service principal, or its display name in Exchange")
    roles = args.get("app_roles")
    if not isinstance(roles, list) or not roles:
        problems.add("archive_access_app_roles %r is not a list of Application roles: give at least one, such as "
                     "[Application Mail.Read]" % (roles,))
    else:
        for position, role in enumerate(roles):
            canonical_role(role, problems, "archive_access_app_roles[%d]" % position)
    attribute = args.get("mark_attribute")
    if canonical_attribute(attribute) is None:
        problems.add("archive_access_mark_attribute '%s' is not a custom attribute of a mailbox: use one of "
                     "CustomAttribute1 to CustomAttribute15 that nothing else in the tenant uses" % (attribute,))
    scope_by = args.get("app_scope_by") or "auto"
    if scope_by not in SCOPE_BY:
        problems.add("archive_access_app_scope_by '%s' is not allowed: use auto (a filter where the scope can be "
                     "written as one, else a mark), filter or mark" % scope_by)
    elif scope_by == "filter" and (scope.get("identities") or scope.get("member_of_group")):
        problems.add("archive_access_app_scope_by=filter cannot select archive_access_scope.%s: a management "
                     "scope's filter cannot name mailboxes one by one or follow a group's nested members; use auto or "
                     "mark (the campaign then marks the selected mailboxes in archive_access_mark_attribute)" % (
                         "identities" if scope.get("identities") else "member_of_group"))
    object_id = args.get("app_object_id")
    if object_id:
        problems.add(guid_problem(object_id, "archive_access_app_object_id", "the Object ID of the app's enterprise "
                                                                             "application (service principal)"))
        if isinstance(app, str) and app.strip() and not is_guid(app):
            problems.add("archive_access_app '%s' must be the app ID (a GUID) when archive_access_app_object_id is "
                         "given: the role registers the service principal with both" % app.strip())
    return list(problems)


# ---- where things go ----------------------------------------------------------------------------------------


def data_dir(given=None, environ=None):
    """The data directory of the user running the play: $XDG_DATA_HOME (or ~/.local/share)/m365.exchange."""
    if given:
        return os.path.abspath(os.path.expanduser(given))
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(os.path.abspath(base), "m365.exchange", "archive_access")


def tenant_dir(args):
    return os.path.join(data_dir(args.get("data_dir")), _file_part(str(args["tenant"]).lower()))


def ledger_path(args, delegate):
    """archive_access_ledger, or <data dir>/<tenant>/<delegate's object ID>.ledger.jsonl: never the letter case
    of how the delegate was written, and not its address, which a rename changes."""
    if args.get("ledger"):
        return os.path.abspath(os.path.expanduser(args["ledger"]))
    return os.path.join(tenant_dir(args), "%s.ledger.jsonl" % _file_part(mailbox_id(delegate)))


def report_dir(args):
    if args.get("report_dir"):
        return os.path.abspath(os.path.expanduser(args["report_dir"]))
    return os.path.join(tenant_dir(args), "reports")


def _file_part(text):
    return "".join(c if c.isalnum() or c in ".-_@" else "_" for c in text) or "_"


def private_dir(path):
    if not os.path.isdir(path):
        os.makedirs(path, mode=0o700)


def write_json(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, sort_keys=True)


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


# ---- the plan of a run -----------------------------------------------------------------------------------------


def plan(args, check_mode=False):
    """What a run will do: its targets (mailbox IDs, in chunks), where its ledger and reports go, and what to say.

    Grant: the selected mailboxes less the exclusions and the delegate's own mailbox; the ledger is opened (a
    closed one is set aside and a new campaign starts), and the address of every target is recorded beside its ID.
    Revoke: the campaign's open mailboxes (granted, not yet removed or gone) from the ledger or from the campaign a
    grant job published, less the exclusions; or, with revoke_all, every selected mailbox. Preflight: the numbers.
    """
    action = args["action"]
    delegate = args["delegate"]
    excluded = exclusions(args)
    result = {"warnings": [], "closed": False, "chunks": []}
    if args.get("exclude_missing"):
        result["warnings"].append("archive_access_scope.exclude: %d entries match no mailbox and exclude nothing: "
                                  "%s" % (len(args["exclude_missing"]), ", ".join(args["exclude_missing"][:LISTED])))
    if action == "revoke":
        targets, info = revoke_targets(args, delegate, excluded, result)
    else:
        targets, info = grant_targets(args, delegate, excluded)
    # what the report calls excluded: archive_access_scope.exclude (the delegate's own mailbox is left out anyway)
    info["excluded"] = sorted(set(r.get("primary_smtp_address") or mailbox_id(r) for r in args.get("excluded") or []))
    if action == "preflight" or result["closed"]:
        result["lines"] = preflight_lines(args, info, targets) if action == "preflight" else [result["msg"]]
        result["scope"] = dict((k, v) for k, v in info.items() if k not in ("addresses", "published"))
        return result
    run = start_run(args, info, targets, check_mode)
    size = int(args.get("chunk_size") or 1000)
    ids = list(targets)
    result.update(run=run, scope=dict((k, v) for k, v in info.items() if k not in ("addresses", "published")),
                  chunks=[ids[i:i + size] for i in range(0, len(ids), size)])
    result["lines"] = [intro_line(args, info, len(ids), check_mode)]
    if not ids and action == "grant":
        result["lines"].append("%s: the scope selects no mailbox (after exclusions), so nothing is granted. Check "
                               "archive_access_scope." % args["tenant"])
    return result


def exclusions(args):
    """{id: address} of the mailboxes never touched: archive_access_scope.exclude and the delegate's own."""
    excluded = {}
    for record in list(args.get("excluded") or []) + [args["delegate"]]:
        ident = mailbox_id(record)
        if ident:
            excluded[ident] = record.get("primary_smtp_address") or ident
    return excluded


def grant_targets(args, delegate, excluded):
    """{id: address} of the selected mailboxes to grant on, in the order selected (one entry per mailbox)."""
    targets = {}
    selected = args.get("selected") or []
    blockers = set(mailbox_id(r) for r in args.get("acl_full") or [])
    left_out = []
    for record in selected:
        ident = mailbox_id(record)
        if not ident or ident in excluded or ident in targets:
            continue
        if ident in blockers:
            left_out.append(record.get("primary_smtp_address") or ident)
            continue
        targets[ident] = record.get("primary_smtp_address") or ident
    if left_out and args.get("acl_limit_action", "stop") == "stop":
        raise CampaignError(
            "%s with %d access control entries already, so Exchange would refuse the delegate's entry: %s. "
            "Remove stale entries (for example orphaned S-1-5-21-... trustees) from them, add them to "
            "archive_access_scope.exclude, or set archive_access_acl_limit_action=skip. Nothing was changed." % (
                mailboxes(len(left_out)), ACL_LIMIT, ", ".join(left_out[:LISTED])))
    info = {"selected": len(set(mailbox_id(r) for r in selected)), "targets": len(targets),
            "acl_full": sorted(left_out), "source": "scope", "addresses": targets}
    if args["action"] == "preflight":
        info["ledger"] = ledger_status(args, delegate)
    return targets, info


def revoke_targets(args, delegate, excluded, result):
    """{id: address} of the mailboxes whose campaign access the revoke removes."""
    tenant = args["tenant"]
    campaigns = args.get("campaigns") or {}
    info = {"selected": 0, "acl_full": [], "pre_existing": 0}
    if args.get("revoke_all"):
        targets, info = grant_targets(dict(args, acl_full=[], action="revoke"), delegate, excluded)
        info.update(source="all", pre_existing=0)
        return targets, info
    published = _published_for(campaigns, tenant)
    if published is not None:
        return _from_published(published, delegate, excluded, info, result)
    path = ledger_path(args, delegate)
    state = read_ledger(path, tenant=tenant, delegate=delegate)
    if state is None:
        raise CampaignError(
            "There is no ledger at %s and no campaign published for %s (archive_access_campaigns), so it is unknown "
            "which access the grant added. Point archive_access_ledger at the grant's ledger, pass the grant job's "
            "artifacts, or set archive_access_revoke_all=true to remove all of %s's explicit FullAccess in scope. "
            "Nothing was changed." % (path, tenant, delegate.get("primary_smtp_address")))
    info.update(source="ledger", ledger=path, campaign=state.id, pre_existing=len(state.pre_existing()))
    if state.closed is not None:
        result["closed"] = True
        result["msg"] = ("%s: campaign %s of %s is closed since %s: every mailbox it granted was removed or is gone. "
                         "Nothing to revoke; nothing was changed. A new campaign starts only with a new grant." % (
                             tenant, state.id, state.header.get("delegate"), state.closed.get("at")))
        return {}, info
    targets = {}
    kept = []
    for entry in state.open():
        if entry.id in excluded:
            kept.append(entry.name)
        else:
            targets[entry.id] = entry.address or entry.id
    info.update(targets=len(targets), kept_excluded=sorted(kept), addresses=targets)
    return targets, info


def _published_for(campaigns, tenant):
    for key, value in campaigns.items():
        if str(key).lower() == str(tenant).lower():
            return value
    return None


def _from_published(published, delegate, excluded, info, result):
    try:
        check_owner({"tenant": published.get("tenant"), "delegate": published.get("delegate"),
                     "delegate_id": published.get("delegate_id"), "delegate_guid": published.get("delegate_guid")},
                    "the campaign published for %s (archive_access_campaigns)" % published.get("tenant"),
                    delegate=delegate)
        pairs = [line.split("\t", 1) for line in unpack_mailboxes(published.get("granted"))]
    except LedgerError as exc:
        raise CampaignError("%s. Nothing was changed." % exc)
    info.update(source="published", campaign=published.get("id"), pre_existing=len(published.get("pre_existing") or []),
                published=dict((k, v) for k, v in published.items() if k != "closed"))
    if published.get("closed"):
        result["closed"] = True
        result["msg"] = ("%s: campaign %s (published by the grant job) is closed since %s. Nothing to revoke; nothing "
                         "was changed." % (published.get("tenant"), published.get("id"), published["closed"]))
        return {}, info
    targets = {}
    kept = []
    for pair in pairs:
        ident, address = pair[0].lower(), pair[1] if len(pair) > 1 else pair[0]
        if ident in excluded:
            kept.append(address)
        else:
            targets[ident] = address
    info.update(targets=len(targets), kept_excluded=sorted(kept), addresses=targets)
    return targets, info


def ledger_status(args, delegate):
    """What a preflight says about an existing ledger (read only)."""
    path = ledger_path(args, delegate)
    state = read_ledger(path, tenant=args["tenant"], delegate=delegate)
    if state is None:
        return {"path": path, "exists": False}
    return dict(state.counts(), path=path, exists=True, campaign=state.id, closed=state.closed is not None)


def start_run(args, info, targets, check_mode):
    """Open the ledger (grant), record the targets' addresses, and create the run's working directory."""
    action = args["action"]
    delegate = args["delegate"]
    started = utc_now()
    run_id = started.strftime("%Y%m%dT%H%M%SZ")
    journal = None
    ledger_info = {"path": None, "campaign": info.get("campaign"), "created": None}
    if action == "grant" or info.get("source") == "ledger":
        path = ledger_path(args, delegate)
        ledger_info["path"] = path
        if action == "grant":
            ledger_info.update(open_campaign(args, path, delegate, targets, run_id, check_mode))
        if not check_mode:
            journal = path
            LedgerWriter(path).append([{"event": "run", "run": run_id, "action": action, "at": timestamp(started),
                                        "targets": len(targets)}])
    reports = report_dir(args)
    private_dir(reports)
    work = os.path.join(reports, ".run-%s-%s-%s" % (_file_part(str(args["tenant"]).lower()), run_id,
                                                    uuid.uuid4().hex[:6]))
    private_dir(work)
    run = {"id": run_id, "action": action, "state": "present" if action == "grant" else "absent",
           "tenant": args["tenant"], "delegate": delegate.get("primary_smtp_address"), "journal": journal or "",
           "delegate_record": dict((key, delegate.get(key)) for key in (
               "primary_smtp_address", "guid", "external_directory_object_id")),
           "delegate_user": delegate.get("guid") or delegate.get("external_directory_object_id")
           or delegate.get("primary_smtp_address"),
           "ledger": ledger_info, "source": info.get("source"), "check_mode": bool(check_mode),
           "started": timestamp(started), "started_epoch": time.time(), "work": work, "report_dir": reports,
           "chunk_count": -(-len(targets) // int(args.get("chunk_size") or 1000)) if targets else 0,
           "targets": len(targets)}
    write_json(os.path.join(work, "plan.json"), {"run": run, "scope": info, "access_rights": args["access_rights"]})
    return run


def open_campaign(args, path, delegate, targets, run_id, check_mode):
    """The grant's ledger: the existing campaign (checked), or a new one (a closed one is set aside first)."""
    state = read_ledger(path, tenant=args["tenant"], delegate=delegate)
    if state is not None and state.closed is None:
        known = dict((m.id, m.address) for m in state.mailboxes.values())
        header = state.header
    else:
        known = {}
        header = None
    opened = {}
    if header is None:
        created = utc_now()
        campaign = "%s-%s" % (created.strftime("%Y%m%dT%H%M%SZ"), uuid.uuid4().hex[:8])
        header = campaign_header(args["tenant"], delegate, args["access_rights"], campaign, timestamp(created))
        opened["new"] = True
        if state is not None and not check_mode:
            opened["set_aside"] = LedgerWriter(path).set_aside(state.closed.get("at", run_id).replace(":", ""))
        if not check_mode:
            private_dir(os.path.dirname(path))
            LedgerWriter(path).create(header)
    if not check_mode:
        at = timestamp()
        LedgerWriter(path).append([{"event": "mailbox", "id": ident, "address": address, "at": at}
                                   for ident, address in targets.items() if known.get(ident) != address])
    opened.update(campaign=header["id"], created=header["created"])
    return opened


def intro_line(args, info, count, check_mode):
    what = ("would grant" if check_mode else "granting") if args["action"] == "grant" else (
        "would revoke" if check_mode else "revoking")
    source = {"scope": "the scope", "ledger": "the ledger's open grants", "published": "the published campaign",
              "all": "every selected mailbox (revoke_all)"}.get(info.get("source"), info.get("source"))
    line = "%s: %s %s's FullAccess on %d mailboxes (from %s); %d excluded" % (
        args["tenant"], what, args["delegate"].get("primary_smtp_address"), count, source, len(info["excluded"]))
    if info.get("pre_existing"):
        line += "; %d with access from before the campaign are kept" % info["pre_existing"]
    if info.get("kept_excluded"):
        line += "; %d excluded mailboxes keep the campaign's access: %s" % (
            len(info["kept_excluded"]), ", ".join(info["kept_excluded"][:LISTED]))
    return line + "."


def preflight_lines(args, info, targets):
    lines = ["%s: %d mailboxes selected for %s, %d excluded, %d to grant on." % (
        args["tenant"], info["selected"], args["delegate"].get("primary_smtp_address"), len(info["excluded"]),
        len(targets))]
    if info.get("acl_full"):
        lines.append("%s at the limit of %d access control entries: %s" % (
            mailboxes(len(info["acl_full"])), ACL_LIMIT, ", ".join(info["acl_full"][:LISTED])))
    ledger = info.get("ledger") or {}
    if ledger.get("exists"):
        lines.append("Ledger %s: campaign %s, %s; %d pre-existing, %d granted, %d still open." % (
            ledger["path"], ledger["campaign"], "closed" if ledger["closed"] else "open", ledger["pre_existing"],
            ledger["granted"], ledger["open"]))
    elif ledger:
        lines.append("No ledger yet at %s: a grant starts a new campaign there." % ledger["path"])
    return lines


# ---- one chunk -----------------------------------------------------------------------------------------------


def record_chunk(run, index, identities, result):
    """Keep one module call's per-mailbox results for the report; refuse a result that is not per mailbox.

    A call that failed as a whole (bad input, authentication, a refusal before any change such as acl_limit=stop,
    the controller gone) has no outcome per mailbox: the run stops here, loudly. Mailboxes that failed one by one
    are outcomes; the run goes on and fails at its end.
    """
    label = "chunk %d of %d (%d mailboxes)" % (index + 1, run["chunk_count"], len(identities))
    results = result.get("results")
    if result.get("refused") or not isinstance(results, list) or "summary" not in result or \
            (result.get("failed") and not (result.get("summary") or {}).get("failed")):
        raise CampaignError("%s %s was refused as a whole, so nothing was written in it: %s%s. Earlier chunks are "
                            "done%s; fix the cause and run again." % (
                                run["action"], label, _named(run, identities, result.get("msg") or "no result"),
                                _role_hint(result), " and recorded in the ledger" if run["journal"] else ""))
    covered = set()
    for entry in results:
        covered.add(str(entry.get("identity", "")).lower())
        covered.update(str(alias).lower() for alias in entry.get("aliases") or [])
    missing = [i for i in identities if str(i).lower() not in covered]
    if missing:
        raise CampaignError("%s %s: mailbox_permission returned no result for %d of its mailboxes (%s); is "
                            "list_unchanged forced off? Nothing is assumed about them: run again." % (
                                run["action"], label, len(missing), ", ".join(missing[:LISTED])))
    at = timestamp()
    summary = dict((action, 0) for action in OUTCOMES)
    rows = []
    for entry in results:
        action = entry.get("action")
        summary[action] = summary.get(action, 0) + 1
        rows.append({"id": str(entry.get("identity", "")).lower(), "address": entry.get("primary_smtp_address"),
                     "action": action, "before": entry.get("before") or [], "after": entry.get("after") or [],
                     "error": entry.get("error")})
    write_json(os.path.join(run["work"], "chunk-%05d.json" % (index + 1)), {"index": index, "at": at, "rows": rows})
    line = {"index": index, "at": at, "count": len(identities), "summary": summary}
    with open(os.path.join(run["work"], "chunks.jsonl"), "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, sort_keys=True) + "\n")
    done = sum(chunk["count"] for chunk in read_chunks(run["work"]))
    counts = ", ".join("%d %s" % (count, action) for action, count in summary.items() if count) or "nothing"
    verb = "would be " if run["check_mode"] else ""
    progress = "%s %s: %s %s - %s%s; %d of %d mailboxes done." % (
        run["tenant"], run["action"], label.split(" (")[0], "(check mode)" if run["check_mode"] else "",
        verb if verb and counts != "nothing" else "", counts, done, run["targets"])
    return {"summary": summary, "progress": " ".join(progress.split()), "changed": bool(
        summary["added"] or summary["removed"]) and not run["check_mode"]}


def _named(run, identities, message):
    """The module names mailboxes by the IDs it was given: add the address the plan knows to each."""
    mentioned = [i for i in identities if str(i) in message]
    if not mentioned:
        return message
    try:
        addresses = read_json(os.path.join(run["work"], "plan.json"))["scope"].get("addresses") or {}
    except (OSError, ValueError, KeyError):
        return message
    for ident in mentioned:
        if addresses.get(ident):
            message = message.replace(str(ident), "%s (%s)" % (addresses[ident], ident))
    return message


def _role_hint(result):
    message = str(result.get("msg") or "")
    if "acl_limit" in message:
        return (" (the role's archive_access_acl_limit_action=skip leaves such mailboxes out and reports them; "
                "archive_access_scope.exclude leaves them out of the campaign)")
    return ""


def read_chunks(work):
    path = os.path.join(work, "chunks.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# ---- the end of a run ----------------------------------------------------------------------------------------


def finish(work, templates, propagation_minutes=60, stopped=None, publish=True):
    """Sum up the run, close the campaign when nothing it granted is left, write the reports, and say what to
    publish. Returns the role's public result (archive_access_result)."""
    saved = read_json(os.path.join(work, "plan.json"))
    run, scope = saved["run"], saved["scope"]
    chunks = [dict(chunk, part=os.path.join(work, "chunk-%05d.json" % (chunk["index"] + 1)))
              for chunk in read_chunks(work)]
    state = None
    closed_now = False
    ledger_path_ = run["ledger"].get("path")
    if run["journal"]:
        state = read_ledger(ledger_path_, tenant=run["tenant"], delegate=run["delegate_record"])
        if run["action"] == "revoke" and not stopped and state.closed is None and not state.open():
            state.closed = {"event": "closed", "at": timestamp(), "run": run["id"], "counts": state.counts()}
            LedgerWriter(ledger_path_).append([state.closed])
            closed_now = True
    finished = utc_now()
    report = report_data(run, scope, chunks, state, finished, stopped=stopped,
                         propagation_minutes=propagation_minutes, closed_now=closed_now,
                         access_rights=saved.get("access_rights"))
    report["reports"] = write_reports(report, run, templates)
    result = public_result(report)
    result["published"] = None
    if publish and not run["check_mode"]:
        # a grant publishes its campaign; a revoke publishes it closed, so that later jobs of the workflow see it so
        if run["action"] == "grant" or closed_now:
            result["published"] = published_campaign(run, saved["access_rights"], state, closed_now)
        elif scope.get("published") and report["status"] == "COMPLETE" and not scope.get("kept_excluded"):
            result["published"] = dict(scope["published"], closed=report["run"]["finished"])
    shutil.rmtree(work, ignore_errors=True)
    return result


# ---- the report's data ---------------------------------------------------------------------------------------
#
# What the status means (README "Reports"):
#   PLAN        check mode: nothing was changed; the report says what the run would do.
#   COMPLETE    nothing is left for a rerun to do: every mailbox of the run has the outcome it should (grant: the
#               delegate holds the access, added now or held already; revoke: the campaign's access is removed, was
#               not there, or the mailbox is gone), and every mailbox that does not is left out by the run's own
#               settings (archive_access_scope.exclude, the ACL limit with archive_access_acl_limit_action=skip) or
#               is no longer a mailbox in the tenant. These are listed with their reason; a revoke's campaign stays
#               open while excluded mailboxes keep its access, and the report says so.
#   INCOMPLETE  a rerun has work to do: a mailbox failed, was not attempted (the run or the module stopped early),
#               or was skipped for another reason; or a revoke left access of the campaign open on mailboxes it did
#               not exclude. `next_step` says what to do.

# Why a mailbox was skipped, and what that means for the status.
CHOICE = "choice"  # left out by the run's own settings: listed, the run can still be COMPLETE
VANISHED = "vanished"  # no longer a mailbox in the tenant: nothing a rerun could do; listed, still COMPLETE
NOT_ATTEMPTED = "not_attempted"  # the module stopped before it: INCOMPLETE
PROBLEM = "problem"  # anything else: INCOMPLETE
ACCEPTED = (CHOICE, VANISHED)
HTML_LISTED = 500  # rows of a long table the HTML shows; the CSV and the JSON have every one
NAMES_LISTED = 50  # names of a group the HTML shows
# How the delegate gets its access, when the run does not say (``run["method"]`` / ``run["method_details"]``, a
# string and a list of {label, value}: the reports render whatever a method puts there).
DEFAULT_METHOD = "FullAccess"
DEFAULT_METHOD_DETAILS = (
    {"label": "Permission", "value": "FullAccess mailbox permission on each mailbox (Add-MailboxPermission)"},
    {"label": "AutoMapping", "value": "off: the mailboxes do not appear in the delegate's Outlook by themselves"},
)


def report_data(run, scope, chunks, state=None, finished=None, stopped=None, propagation_minutes=60,
                closed_now=False, access_rights=None):
    """Everything the reports say about one run, from the run's plan, its chunks' results and the ledger.

    The one place that assembles report data: the JSON, CSV and HTML templates only present what this returns
    (``report`` in the templates). ``rows`` has one entry per mailbox the run covered, in order; it is read from the
    chunks' files each time it is iterated, so that 100,000 rows are never held at once. `scope` is the plan's
    (with ``addresses``, the run's targets by ID); `state` the ledger after the run (None in check mode and without
    a ledger).
    """
    finished = finished or utc_now()
    check_mode = run["check_mode"]
    action = run["action"]
    summary = dict((outcome, 0) for outcome in OUTCOMES)
    addresses = scope.get("addresses") or {}
    rows = ReportRows(chunks, addresses, state)
    progress, done = [], 0
    for chunk in chunks:
        for outcome, count in chunk["summary"].items():
            summary[outcome] = summary.get(outcome, 0) + count
        done += chunk["count"]
        at = _epoch(chunk["at"])
        progress.append({"chunk": chunk["index"] + 1, "at": chunk["at"], "at_local": _local(at),
                         "elapsed_seconds": max(0, int(round(at - run["started_epoch"]))), "count": chunk["count"],
                         "done": done, "summary": chunk["summary"]})
    missed = max(0, run["targets"] - done)  # in chunks that never ran: the run stopped before them
    failures, groups, noted, covered = [], {}, {}, set()
    if summary["failed"] or summary["skipped"] or summary["gone"] or missed:
        for record in rows:
            if missed:
                covered.add(record["mailbox_id"])
            if record["action"] == "failed":
                failures.append(record)
            elif record["action"] == "skipped":
                _add_to_group(groups, record, action)
            if record["action"] in ("failed", "skipped", "gone"):
                noted[record["mailbox_id"]] = record
    skipped = sorted(groups.values(), key=lambda group: (group["kind"] in ACCEPTED, -group["count"], group["reason"]))
    in_chunk = sum(group["count"] for group in skipped if group["kind"] == NOT_ATTEMPTED)
    not_attempted = None
    if missed:
        not_attempted = {"count": missed, "why": "the run stopped before their chunk: %s" % (stopped or "unknown"),
                         "mailboxes": [addresses.get(ident) or ident for ident in addresses if ident not in covered]}
    counts = state.counts() if state is not None else None
    changes = summary["added"] + summary["removed"]
    campaign = {"id": run["ledger"].get("campaign"), "ledger": run["ledger"].get("path") if run["journal"] else None,
                "source": run["source"], "closed": bool(state is not None and state.closed is not None),
                "closed_now": closed_now, "counts": counts,
                "open": [m.name for m in state.open()] if state is not None else []}
    acl_full = scope.get("acl_full", [])
    pre_existing = counts["pre_existing"] if counts is not None else scope.get("pre_existing")
    return build_report(
        run, finished, delegate=run["delegate"], summary=summary, access_rights=access_rights,
        method=run.get("method"), method_details=run.get("method_details"),
        scope={"selected": scope.get("selected", 0), "targets": run["targets"],
               "excluded": scope.get("excluded", []), "acl_full": acl_full,
               "acl_limit": len(acl_full) + sum(g["count"] for g in skipped if g["kind"] == CHOICE),
               "kept_excluded": scope.get("kept_excluded", []),
               "pre_existing": pre_existing if action == "revoke" or counts is not None else None,
               "changed": changes,
               # every mailbox of the run the run did not try: in chunks that never ran, or after the module
               # stopped in its chunk (those are also in summary["skipped"]; scope["skipped"] leaves them out)
               "not_attempted": missed + in_chunk,
               "skipped": summary["skipped"] - in_chunk,
               "vanished": sum(g["count"] for g in skipped if g["kind"] == VANISHED)},
        campaign=campaign,
        effective_by=effective_time(finished, propagation_minutes) if changes and not check_mode else None,
        stopped=stopped, failures=failures, skipped=skipped, not_attempted=not_attempted, progress=progress,
        recorded=_recorded(action, run["source"], state, summary, noted, scope, not_attempted), rows=rows)


# The report's contract: every key the templates (and public_result, csv_facts, summary_lines) read, with what a
# method that has nothing to say about it puts there. build_report() fills them in; both methods build their
# reports through it.
REPORT_SCOPE = {"selected": 0, "targets": 0, "excluded": [], "acl_full": [], "acl_limit": 0, "kept_excluded": [],
                "pre_existing": None, "changed": 0, "not_attempted": 0, "skipped": 0, "vanished": 0,
                # application_rbac: what Test-ServicePrincipalAuthorization found (None: no proof in this run)
                "proven_in": None, "proven_out": None}
REPORT_CAMPAIGN = {"id": None, "ledger": None, "source": None, "closed": False, "closed_now": False, "counts": None,
                   "open": []}


def build_report(run, finished, delegate, summary, scope, campaign, access_rights=None, method=None,
                 method_details=None, effective_by=None, stopped=None, failures=(), skipped=(), not_attempted=None,
                 recorded=None, progress=(), rows=(), problem=None, describe=None, principal="Delegate",
                 proof=None):
    """The one shape of a report, whatever the method: the templates render exactly this (``report``).

    `run` has the run's id, action, tenant, check_mode, started and started_epoch; `summary` counts per outcome
    (OUTCOMES); `scope` and `campaign` what the method knows (REPORT_SCOPE, REPORT_CAMPAIGN fill in the rest).
    The status: PLAN in check mode; INCOMPLETE with `problem` as what to do when the method names one; else
    status_of(). The headline: `describe(report)` when the method words its own, else headline().
    """
    summary = dict(dict((outcome, 0) for outcome in OUTCOMES), **summary)
    scope = dict(REPORT_SCOPE, **scope)
    report = {
        "action": run["action"], "check_mode": bool(run["check_mode"]), "tenant": run["tenant"],
        "delegate": delegate, "principal": principal, "access_rights": list(access_rights or ["FullAccess"]),
        "method": method or DEFAULT_METHOD,
        "method_details": [{"label": str(item["label"]), "value": str(item["value"])}
                           for item in (method_details if method else DEFAULT_METHOD_DETAILS) or []],
        "run": {"id": run["id"], "started": run["started"], "started_local": _local(run["started_epoch"]),
                "finished": timestamp(finished), "finished_local": _local(finished.timestamp()),
                "duration_seconds": int(round(finished.timestamp() - run["started_epoch"]))},
        "summary": summary, "scope": scope, "campaign": dict(REPORT_CAMPAIGN, **campaign),
        "effective_by": effective_by, "stopped": stopped or None, "failures": list(failures),
        "skipped": list(skipped), "not_attempted": not_attempted, "progress": list(progress),
        "recorded": recorded, "proof": proof, "rows": rows, "listed": HTML_LISTED, "names_listed": NAMES_LISTED,
    }
    if problem and not report["check_mode"]:
        report["status"], report["next_step"] = "INCOMPLETE", problem
    else:
        report["status"], report["next_step"] = status_of(report)
    report["headline"] = (describe or headline)(report)
    return report


def effective_time(finished, minutes):
    """When the changes of a run that ended at `finished` are applied: its end plus `minutes`, in UTC and local."""
    moment = finished.timestamp() + 60 * int(minutes)
    return {"utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(moment)), "local": _local(moment),
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment)), "minutes": int(minutes)}


def _epoch(stamp):
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def _local(epoch):
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(epoch))


def _add_to_group(groups, record, action):
    reason, kind, advice = skip_reason(record["error"], action)
    group = groups.get(reason)
    if group is None:
        what_to_do = advice if kind in ACCEPTED else "%s Then run the %s again: it only does what is left." % (
            advice, action)
        group = groups[reason] = {"reason": reason, "kind": kind, "advice": advice, "what_to_do": what_to_do,
                                  "count": 0, "mailboxes": []}
    group["count"] += 1
    group["mailboxes"].append(record["mailbox"])


def _recorded(action, source, state, summary, noted, scope, not_attempted):
    """A revoke's account of the access its campaign recorded: removed, gone (and why), still open (and why).

    From the ledger after the run when there is one; else (published campaign, check mode) from the run's rows."""
    if action != "revoke" or source not in ("ledger", "published"):
        return None
    kept = set(scope.get("kept_excluded") or [])
    missed = set((not_attempted or {}).get("mailboxes") or [])

    def why_open(ident, name):
        if name in kept:
            return "excluded from the revoke (archive_access_scope.exclude): keeps the access"
        record = noted.get(ident)
        if record is not None and record["action"] == "failed":
            return "failed: %s" % record["error"]
        if record is not None and record["action"] == "skipped":
            return "skipped: %s" % skip_reason(record["error"], action)[0]
        if name in missed:
            return "not attempted: the run stopped before its chunk"
        return "not revoked by this run"

    def gone(ident, name):
        record = noted.get(ident)
        why = gone_reason(record["error"]) if record is not None else "found gone by an earlier revoke"
        return {"mailbox": name, "mailbox_id": ident, "why": why}

    if state is not None:
        granted = state.granted()
        return {"granted": len(granted), "removed": sum(1 for m in granted if m.revoke in ("removed", "nothing")),
                "removed_now": summary["removed"],
                "gone": [gone(m.id, m.name) for m in granted if m.revoke == "gone"],
                "open": [{"mailbox": m.name, "mailbox_id": m.id, "why": why_open(m.id, m.name),
                          "excluded": m.name in kept} for m in granted if not m.settled]}
    # no ledger here (a published campaign, or check mode): this run's rows are all there is
    addresses = scope.get("addresses") or {}
    open_ = [{"mailbox": name, "mailbox_id": None, "why": why_open(None, name), "excluded": True}
             for name in sorted(kept)]
    open_ += [{"mailbox": record["mailbox"], "mailbox_id": ident, "why": why_open(ident, record["mailbox"]),
               "excluded": False} for ident, record in noted.items() if record["action"] != "gone"]
    open_ += [{"mailbox": name, "mailbox_id": None, "why": why_open(None, name), "excluded": False}
              for name in sorted(missed)]
    gone_ = [gone(ident, record["mailbox"]) for ident, record in noted.items() if record["action"] == "gone"]
    removed = summary["removed"] + summary["unchanged"]
    return {"granted": removed + len(gone_) + len(open_) if addresses or kept else 0, "removed": removed,
            "removed_now": summary["removed"], "gone": gone_, "open": open_}


class ReportRows:
    """The report's rows (mailbox, mailbox_id, action, before, after, time, error), read from the chunks' files."""

    def __init__(self, chunks, addresses, state=None):
        self.chunks = chunks
        self.addresses = addresses  # what the plan selected; the ledger knows the others (a revoke's)
        self.mailboxes = state.mailboxes if state is not None else {}

    def address(self, ident):
        entry = self.mailboxes.get(ident)
        return self.addresses.get(ident) or (entry.address if entry is not None else None) or ident

    def __iter__(self):
        for chunk in self.chunks:
            for row in read_json(chunk["part"])["rows"]:
                yield {"mailbox": row.get("address") or self.address(row["id"]),
                       "mailbox_id": row["id"], "action": row["action"], "before": row["before"],
                       "after": row["after"], "time": chunk["at"], "error": row.get("error")}


STOP_CAUSE = re.compile(r"^not attempted: (?:the run stopped after an earlier failure: |the run stopped: )?")
HTTP_STATUS = re.compile(r"\(HTTP \d{3}\)")


def skip_reason(error, action="grant"):
    """(reason, kind, advice) of a skipped mailbox: the reason groups skipped mailboxes in the reports, the kind
    (CHOICE, VANISHED, NOT_ATTEMPTED, PROBLEM) decides whether it makes the run INCOMPLETE; the advice says what to
    do (before a rerun, for the kinds that leave work)."""
    text = str(error or "").strip()
    if "access control entries" in text:
        return ("at the limit of %d access control entries (archive_access_acl_limit_action=skip)" % ACL_LIMIT, CHOICE,
                "Left out by the run's setting. To include them, remove stale entries (for example orphaned "
                "S-1-5-21-... trustees) and run the %s again." % action)
    if text.startswith("not attempted") or "the run stopped" in text:
        cause = STOP_CAUSE.sub("", text)
        # the mailbox the stop was about is named in the failures: "Add-MailboxPermission 'x': ..." -> the cmdlet
        cause = re.sub(r"^([A-Za-z]+-[A-Za-z]+) '[^']*'", r"\1", cause)
        match = HTTP_STATUS.search(cause)
        advice = ""
        if match:
            cause, advice = cause[:match.end()], cause[match.end():].lstrip(" :.")
        return ("not attempted: the module stopped after %s" % cause.rstrip(". "), NOT_ATTEMPTED,
                (advice.rstrip() + " Fix that.") if advice else "Fix the cause.")
    if "was not found" in text:
        return ("no longer found: deleted since the scope was selected", VANISHED,
                "Nothing to do: there is no mailbox left to %s." % ("grant on" if action == "grant" else "change"))
    if "not a mailbox" in text:
        return ("no longer a mailbox (for example converted to a mail user)", VANISHED,
                "Nothing to do: there is no mailbox left to %s." % ("grant on" if action == "grant" else "change"))
    if "matches several" in text:
        return ("the name matches several mailboxes", PROBLEM,
                "Name the mailbox by its primary SMTP address or GUID.")
    return (text or "skipped without a reason", PROBLEM, "Fix the cause.")


def gone_reason(error):
    """Why a revoke found a mailbox gone."""
    text = str(error or "")
    if "not a mailbox" in text:
        return "no longer a mailbox (converted to a mail user or another recipient): it has no permissions left"
    if "was not found" in text or "couldn't be found" in text or not text:
        return "deleted: no mailbox with its ID is left"
    return text


def status_of(report):
    """(status, what to do): PLAN in check mode, else COMPLETE or INCOMPLETE as defined above report_data()."""
    if report["check_mode"]:
        return "PLAN", "Check mode: nothing was changed. Run without --check to carry out this plan."
    summary = report["summary"]
    action = report["action"]
    parts = []
    if report["stopped"]:
        parts.append("The run stopped: %s" % report["stopped"].rstrip(". "))
    if report["not_attempted"]:
        parts.append("%s not attempted: the run stopped before their chunk" % mailboxes(
            report["not_attempted"]["count"]))
    if summary.get("failed"):
        parts.append("%s failed (see the failures): fix the cause" % mailboxes(summary["failed"]))
    for group in report["skipped"]:
        if group["kind"] == NOT_ATTEMPTED:
            parts.append("%s %s: %s" % (mailboxes(group["count"]), group["reason"], group["advice"].rstrip(". ")))
        elif group["kind"] not in ACCEPTED:
            parts.append("%s skipped, %s: %s" % (mailboxes(group["count"]), group["reason"],
                                                 group["advice"].rstrip(". ")))
    recorded = report.get("recorded")
    if not parts and recorded:
        left = [entry["mailbox"] for entry in recorded["open"] if not entry["excluded"]]
        if left:
            parts.append("%s still hold access the campaign granted (%s): run the revoke again" % (
                mailboxes(len(left)), ", ".join(left[:LISTED])))
    if not parts:
        return "COMPLETE", ""
    return "INCOMPLETE", "%s. Then run the %s again: it only does what is left." % (". ".join(parts), action)


def headline(report):
    """The report's first sentence under its status: what the run achieved, in numbers."""
    summary, scope = report["summary"], report["scope"]
    rights = "/".join(report["access_rights"])
    left_out = []
    if scope["excluded"]:
        left_out.append("%d excluded" % len(scope["excluded"]))
    if scope["acl_limit"]:
        left_out.append("%d at the ACL limit" % scope["acl_limit"])
    if scope["vanished"]:
        left_out.append("%d no longer a mailbox" % scope["vanished"])
    others = "; left out: %s" % ", ".join(left_out) if left_out else ""
    problems = ", ".join("%d %s" % (count, what) for count, what in (
        (summary["failed"], "failed"), (sum(g["count"] for g in report["skipped"] if g["kind"] == PROBLEM), "skipped"),
        (scope["not_attempted"], "not attempted")) if count)
    if report["action"] == "grant":
        holding = summary["added"] + summary["unchanged"]
        if report["check_mode"]:
            return "Check mode, nothing was changed: the grant would add %s on %s (%d hold it already)%s." % (
                rights, mailboxes(summary["added"]), summary["unchanged"], others)
        if report["status"] == "COMPLETE":
            return "The delegate holds %s on all %s of this run (%d added, %d held already)%s." % (
                rights, mailboxes(holding), summary["added"], summary["unchanged"], others)
        return "The delegate holds %s on %d of the %s of this run (%d added, %d held already); %s%s." % (
            rights, holding, mailboxes(scope["targets"]), summary["added"], summary["unchanged"], problems, others)
    settled = "%d removed, %d without it already, %d gone" % (summary["removed"], summary["unchanged"], summary["gone"])
    if report["check_mode"]:
        return "Check mode, nothing was changed: the revoke would remove %s from %s (%d without it already, %d " \
               "gone)." % (rights, mailboxes(summary["removed"]), summary["unchanged"], summary["gone"])
    campaign = report["campaign"]
    recorded = report.get("recorded")
    if report["status"] == "COMPLETE":
        text = "The %s is gone from all %s of this run (%s)" % (
            "campaign's %s" % rights if recorded else "delegate's explicit %s" % rights, mailboxes(scope["targets"]),
            settled)
        if scope["pre_existing"]:
            text += "; kept where the delegate held it before the campaign (%s)" % mailboxes(scope["pre_existing"])
        kept = [entry["mailbox"] for entry in (recorded or {}).get("open", []) if entry["excluded"]]
        if campaign["closed"]:
            text += "; the campaign is closed"
        elif kept:
            text += "; the campaign stays open: %s excluded from the revoke keep%s its access (%s)" % (
                mailboxes(len(kept)), "s" if len(kept) == 1 else "", ", ".join(kept[:LISTED]))
        return text + "."
    return "The %s is gone from %d of the %s of this run (%s); %s." % (
        "campaign's %s" % rights if recorded else "delegate's explicit %s" % rights,
        summary["removed"] + summary["unchanged"] + summary["gone"], mailboxes(scope["targets"]), settled,
        problems or "access of the campaign is still open")


def write_reports(report, run, templates):
    """The JSON, CSV and HTML reports (mode 0600), rendered from the role's templates with `report` only; their paths
    are in ``report["reports"]`` while they are rendered (each names the others)."""
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), trim_blocks=True,
                                     keep_trailing_newline=True,
                                     autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                                                         default_for_string=False, default=False))
    environment.filters.update(to_json=lambda value: json.dumps(value, sort_keys=True), csv_lines=csv_lines,
                               csv_row=csv_row, json_lines=json_lines, basename=os.path.basename,
                               progress_chart=progress_chart, csv_facts=csv_facts)
    base = os.path.join(run["report_dir"], "%s_%s%s_%s" % (
        _file_part(str(run["tenant"]).lower()), run["action"], "-plan" if run["check_mode"] else "", run["id"]))
    suffix = 1
    while any(os.path.exists("%s.%s" % (base if suffix == 1 else "%s-%d" % (base, suffix), ext))
              for ext in REPORT_FORMATS):
        suffix += 1
    if suffix > 1:
        base = "%s-%d" % (base, suffix)
    paths = dict((ext, "%s.%s" % (base, ext)) for ext in REPORT_FORMATS)
    report["reports"] = paths
    for ext in REPORT_FORMATS:
        stream = environment.get_template("report.%s.j2" % ext).stream(report=report)
        fd = os.open(paths[ext], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            stream.dump(handle)
    return paths


def progress_chart(report, width=640, height=180):
    """The geometry of the HTML report's progress chart (inline SVG): mailboxes done over the run's time, one point
    per chunk, chunks with failures or skipped mailboxes marked. Coordinates only; the template draws them."""
    left, right, top, bottom = 56, 16, 12, 34
    inner_w, inner_h = width - left - right, height - top - bottom
    total = max(report["scope"]["targets"], 1)
    progress = report["progress"]
    span = max([p["elapsed_seconds"] for p in progress] + [report["run"]["duration_seconds"], 1])

    def x(seconds):
        return round(left + inner_w * seconds / span, 1)

    def y(done):
        return round(top + inner_h * (1 - float(done) / total), 1)

    points = [(x(0), y(0))]
    marks = []
    for entry in progress:
        points.append((x(entry["elapsed_seconds"]), y(entry["done"])))
        bad = sum(entry["summary"].get(k, 0) for k in ("failed", "skipped"))
        if bad:
            marks.append({"x": points[-1][0], "y": points[-1][1], "chunk": entry["chunk"], "count": bad})
    return {"width": width, "height": height, "left": left, "right": width - right, "top": top,
            "bottom": height - bottom, "points": " ".join("%s,%s" % point for point in points), "marks": marks,
            "total": report["scope"]["targets"], "done": progress[-1]["done"] if progress else 0,
            "span": span, "target_y": y(total), "chunks": len(progress)}


def csv_facts(report):
    """The CSV report's header block: one [field, value] or [field, value, detail] per fact, the status first; the
    same facts as the JSON report's top-level fields."""
    scope, effective, run = report["scope"], report["effective_by"] or {}, report["run"]
    facts = [["status", report["status"]], ["status line", report["headline"]], ["what to do", report["next_step"]],
             ["action", report["action"] + (" (check mode: nothing was changed)" if report["check_mode"] else "")],
             ["tenant", report["tenant"]], [report["principal"].lower(), report["delegate"]],
             ["access rights", report["access_rights"]], ["method", report["method"]]]
    facts += [["method: %s" % item["label"], item["value"]] for item in report["method_details"]]
    facts += [["campaign", report["campaign"]["id"]], ["ledger", report["campaign"]["ledger"]], ["run", run["id"]],
              ["started (UTC)", run["started"]], ["started (local)", run["started_local"]],
              ["finished (UTC)", run["finished"]], ["finished (local)", run["finished_local"]],
              ["duration (s)", run["duration_seconds"]],
              ["effective by (UTC)", effective.get("at")], ["effective by (local)", effective.get("local")],
              ["stopped", report["stopped"]],
              ["selected by the scope", scope["selected"]], ["excluded", len(scope["excluded"]), scope["excluded"]],
              ["pre-existing kept", scope["pre_existing"]], ["mailboxes in this run", scope["targets"]],
              ["changed", scope["changed"]]]
    if scope["acl_limit"] is not None:
        facts.insert(-3, ["at the ACL limit", scope["acl_limit"], scope["acl_full"]])
    if scope["proven_in"] is not None:
        facts += [["proof: in the app's reach", scope["proven_in"]],
                  ["proof: excluded and out of its reach", scope["proven_out"]]]
    facts += [[outcome, count] for outcome, count in report["summary"].items()]
    whys = [(report["not_attempted"] or {}).get("why")]
    whys += [group["reason"] for group in report["skipped"] if group["kind"] == NOT_ATTEMPTED]
    facts.append(["not attempted", scope["not_attempted"], [why for why in whys if why]])
    facts += [["skipped: %s" % group["reason"], group["count"], group["what_to_do"]] for group in report["skipped"]]
    recorded = report["recorded"]
    if recorded:
        facts += [["recorded grants", recorded["granted"]], ["recorded grants removed", recorded["removed"]],
                  ["recorded grants gone", len(recorded["gone"])],
                  ["recorded grants still open", len(recorded["open"]), [e["mailbox"] for e in recorded["open"]]]]
    facts.append(["campaign closed", "yes" if report["campaign"]["closed"] else "no"])
    return facts


def csv_row(fields):
    """One RFC 4180 line, every field quoted; a list inside a field is joined with "; "."""
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(
        ["; ".join(str(v) for v in field) if isinstance(field, (list, tuple)) else ("" if field is None else field)
         for field in fields])
    return text.getvalue()


def csv_lines(rows, columns=CSV_COLUMNS):
    """RFC 4180 lines of the report's rows, one at a time: a header, then every field quoted; lists joined with
    spaces."""
    yield ",".join(columns) + "\n"
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for row in rows:
        text.seek(0)
        text.truncate()
        writer.writerow([" ".join(row[c]) if isinstance(row.get(c), list) else ("" if row.get(c) is None else row[c])
                         for c in columns])
        yield text.getvalue()


def json_lines(rows):
    """The report's rows as JSON objects, one per line, separated by commas (the inside of a JSON list)."""
    separator = ""
    for row in rows:
        yield separator + json.dumps(row, sort_keys=True)
        separator = ",\n"


def public_result(report):
    """archive_access_result: what a play (or the demo) reads after the role, without the per-mailbox rows."""
    summary = report["summary"]
    # INCOMPLETE means a rerun has work to do: the role fails the play then (after writing the reports)
    problem = report["next_step"] if report["status"] == "INCOMPLETE" else None
    return {
        "action": report["action"], "status": report["status"], "headline": report["headline"],
        "check_mode": report["check_mode"], "summary": summary, "tenant": report["tenant"], "delegate": report["delegate"],
        "campaign": dict((k, v) for k, v in report["campaign"].items() if k != "open"),
        "open": report["campaign"]["open"][:LISTED], "open_count": len(report["campaign"]["open"]),
        "scope": report["scope"], "run": report["run"], "effective_by": report["effective_by"],
        "reports": report["reports"], "next_step": report["next_step"], "problem": problem,
        "method": report.get("method"), "method_details": report.get("method_details") or [],
        "failures": [{"mailbox": f["mailbox"], "mailbox_id": f["mailbox_id"], "error": f["error"]}
                     for f in report["failures"][:LISTED]],
        "skipped_reasons": dict((group["reason"], group["count"]) for group in report["skipped"]),
        "not_attempted": report["scope"]["not_attempted"],
        "lines": summary_lines(report),
    }


def summary_lines(report):
    summary = report["summary"]
    run = report["run"]
    counts = ", ".join("%d %s" % (summary.get(a, 0), a) for a in OUTCOMES if summary.get(a) or a in ("failed",))
    if report["check_mode"]:
        first = "%s %s for %s, check mode (PLAN, nothing was changed): %s." % (
            report["tenant"], report["action"], report["delegate"], counts.replace("added", "to add").replace(
                "removed", "to remove"))
    else:
        first = "%s %s for %s took %d s: %s. Status: %s." % (
            report["tenant"], report["action"], report["delegate"], run["duration_seconds"], counts, report["status"])
    lines = [first, report["headline"]]
    if report["next_step"]:
        lines.append(report["next_step"])
    lines.append("Reports: %s (.csv, .json)" % report["reports"]["html"])
    if report["effective_by"]:
        lines.append("Exchange may take up to %d minutes to apply the changes: expect them to be effective by %s "
                     "(%s)." % (report["effective_by"]["minutes"], report["effective_by"]["utc"],
                                report["effective_by"]["local"]))
    campaign = report["campaign"]
    if campaign["ledger"] and campaign["counts"]:
        counts = campaign["counts"]
        lines.append("Ledger: %s (campaign %s: %d pre-existing kept, %d granted, %d removed, %d gone, %d still open)%s"
                     % (campaign["ledger"], campaign["id"], counts["pre_existing"], counts["granted"],
                        counts["removed"], counts["gone"], counts["open"],
                        "; the campaign is now closed." if campaign["closed_now"] else "."))
    return lines


def published_campaign(run, access_rights, state, closed_now):
    """What a grant (or a revoke that closed the campaign) publishes with set_stats for the next AWX job."""
    if state is None:
        return None
    granted = state.granted()
    return {"id": state.id, "tenant": run["tenant"], "delegate": state.header.get("delegate"),
            "delegate_id": state.header.get("delegate_id"), "delegate_guid": state.header.get("delegate_guid"),
            "access_rights": access_rights, "created": state.header.get("created"),
            "pre_existing": sorted(m.name for m in state.pre_existing()), "granted_count": len(granted),
            "granted": pack_mailboxes("%s\t%s" % (m.id, m.address or m.id) for m in granted),
            "closed": (state.closed or {}).get("at") if closed_now or state.closed else None}
