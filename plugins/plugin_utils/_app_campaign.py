# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An archive-access campaign by RBAC for Applications (archive_access_method=application_rbac) on the controller:
its ledger, the plan of a grant, revoke or verify, and the proof and reports at its end.

The campaign gives an app one Application role per entry of archive_access_app_roles on a management scope that
it creates, named after the campaign. The scope Exchange enforces must be the selected set of mailboxes:

* by filter, when the scope definition can be written as a RecipientRestrictionFilter (types, an OPATH filter,
  up to MAX_FILTER_EXCLUSIONS exclusions by ExternalDirectoryObjectId; no identities, no group): writes are the
  service principal when the campaign registers it, 1 scope and 1 assignment per role, none per mailbox;
* by mark, otherwise: every selected mailbox gets the campaign's value in archive_access_mark_attribute
  (mailbox_custom_attribute, 1 write per mailbox, refused where the attribute holds another value), and the scope
  selects that value.

The ledger (JSON Lines, like the FullAccess campaign's, one per app and tenant, named after the app's app ID)
records what the campaign owns before it is written (``owns`` lines: the service principal, the scope, each assignment), the mark journal of
mailbox_custom_attribute (its ``read``/``write`` lines), what a revoke removed (``removed``), each proof
(``verified``) and the end (``closed``). A revoke removes exactly what the campaign owns: an object that existed
before the campaign is never in an ``owns`` line (the scope's and the assignments' names carry the campaign's ID;
the service principal is owned only when the preflight found none and the campaign registered it).
"""

import glob
import os
import shutil
import tempfile
import time
import uuid

from ansible_collections.m365.exchange.plugins.module_utils._custom_attribute import canonical_attribute, same_value
from ansible_collections.m365.exchange.plugins.module_utils._rbac import canonical_role, is_guid, recipient_filter
from ansible_collections.m365.exchange.plugins.plugin_utils._campaign import (
    LISTED,
    METHOD_NAMES,
    CampaignError,
    _file_part,
    build_report,
    effective_time,
    mailboxes,
    private_dir,
    public_result,
    read_json,
    report_dir,
    summary_lines,
    tenant_dir,
    write_json,
    write_reports,
)
from ansible_collections.m365.exchange.plugins.plugin_utils._ledger import (
    LEDGER_VERSION,
    LedgerError,
    LedgerWriter,
    _events,
    mailbox_id,
    pack_mailboxes,
    read_header,
    timestamp,
    unpack_mailboxes,
    utc_now,
)

METHOD = "application_rbac"
MAX_FILTER_EXCLUSIONS = 50  # one clause each; beyond this the campaign marks instead (OPATH filters are bounded)
CONSENT_CAVEAT = ("A tenant-wide admin consent of the same Microsoft Graph application permission for this app in "
                  "Entra ID (API permissions of the app registration) bypasses this scope and reaches every "
                  "mailbox; Exchange cannot see it. Make sure the app has no such consent.")
PROOF_TASK_LIMIT = LISTED
# Exchange's permission cache: an app's own sign-ins see a new or removed assignment within 30 minutes to 2 hours
APP_PROPAGATION_MINUTES = 120


# ---- the ledger --------------------------------------------------------------------------------------------------


class AppLedger:
    """What an application_rbac ledger says."""

    def __init__(self, header, path):
        self.header = header
        self.path = path
        self.owned = []  # [{kind, name, role?, scope?}] in the order recorded
        self.removed = set()  # (kind, name, role)
        self.marks = {}  # mailbox id -> "marked" (the campaign may have set its value) or "cleared"
        self.closed = None
        self.verified = None

    @property
    def id(self):
        return self.header.get("id")

    @property
    def scope_name(self):
        return self.header.get("scope_name")

    @property
    def mark(self):
        return self.header.get("mark")

    def owns(self, kind, name, role=None):
        return any(o["kind"] == kind and o["name"].lower() == name.lower() and (o.get("role") or "") == (role or "")
                   for o in self.owned)

    def open_objects(self):
        return [o for o in self.owned if (o["kind"], o["name"].lower(), o.get("role") or "") not in self.removed]

    def marked(self):
        return sorted(ident for ident, state in self.marks.items() if state == "marked")

    def counts(self):
        return {"owned": len(self.owned), "open_objects": len(self.open_objects()),
                "marked": len(self.marked()), "pre_existing": 0,
                "granted": len(self.owned), "removed": len(self.owned) - len(self.open_objects()),
                "gone": 0, "open": len(self.open_objects()) + len(self.marked())}


def _object_key(event):
    return (event.get("kind"), str(event.get("name") or "").lower(), event.get("role") or "")


def read_app_ledger(path, tenant=None, app=None):
    """The ledger at path (None when there is none); LedgerError when it is not this tenant's and app's."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError("cannot read the ledger %s: %s" % (path, exc))
    events = _events(lines, path)
    header = read_header(events, path, tenant, method=METHOD,
                         what="the ledger of an archive-access campaign by RBAC for Applications")
    if app and str(header.get("app_object_id", "")).lower() != str(app.get("object_id") or "").lower():
        raise LedgerError("%s belongs to the app %s (object ID %s), not %s: refusing to use another campaign's "
                          "ledger" % (path, header.get("app"), header.get("app_object_id"), app.get("object_id")))
    state = AppLedger(header, path)
    for _number, event in events:
        kind = event.get("event")
        if kind == "owns":
            if not state.owns(event.get("kind"), event.get("name") or "", event.get("role")):
                state.owned.append(dict((k, event.get(k)) for k in ("kind", "name", "role") if event.get(k)))
            state.removed.discard(_object_key(event))
        elif kind == "removed":
            state.removed.add(_object_key(event))
        elif kind in ("read", "write") and event.get("kind") == "custom_attribute":
            _apply_mark(state, event)
        elif kind == "verified":
            state.verified = event
        elif kind == "closed":
            state.closed = event
    return state


def _apply_mark(state, event):
    """A journal line of mailbox_custom_attribute: present reads and writes may have put the mark; absent writes that
    removed it, or absent reads that found it gone, settle it."""
    ident = str(event.get("mailbox") or "").strip().lower()
    mark = (state.mark or {}).get("value")
    holds = any(same_value(value, mark) for value in event.get("rights") or [])
    if event.get("state") == "present":
        # a read before a write: the write may follow (a kill before it is settled by the revoke's own read)
        state.marks[ident] = "marked"
    elif event.get("state") == "absent":
        if event.get("event") == "read" and not holds:
            state.marks[ident] = "cleared"
        elif event.get("event") == "write" and event.get("action") in ("removed", "changed", "unchanged", "gone"):
            state.marks[ident] = "cleared"


def app_ledger_path(args, app_id):
    """archive_access_ledger, or <data dir>/<tenant>/app-<app ID>.ledger.jsonl: named after the app's app ID (lower
    case), whichever way archive_access_app names the app (app ID, object ID or display name, in any letter case):
    a campaign's identity never depends on how a name is typed."""
    if args.get("ledger"):
        return os.path.abspath(os.path.expanduser(args["ledger"]))
    return os.path.join(tenant_dir(args), "app-%s.ledger.jsonl" % _file_part(str(app_id or "").strip().lower()))


def revoke_ledger_path(args):
    """The ledger a revoke reads, and the IDs (app ID, object ID) the app is known by. Exchange resolves
    archive_access_app to the app (``app_lookup``: the preflight's app_access_info result); when it has no service
    principal for it any more (the campaign may have removed the one it registered), archive_access_app must be a GUID:
    the app ID, or the object ID of the service principal that a ledger of this tenant (or a published campaign)
    names. A display name that resolves to nothing cannot find a campaign."""
    lookup = args.get("app_lookup") or {}
    app = lookup.get("app") or {}
    if app.get("app_id"):
        ids = set(str(app.get(k) or "").lower() for k in ("app_id", "object_id")) - {""}
        return app_ledger_path(args, app["app_id"]), ids
    if args.get("ledger"):
        return app_ledger_path(args, None), set()
    given = str(args.get("app") or "").strip()
    message = str(lookup.get("msg") or "")
    if message and "has no service principal" not in message:
        raise CampaignError("archive_access_app '%s': the app could not be looked up in Exchange Online: %s. Nothing "
                            "was changed." % (given, message))
    if not is_guid(given):
        raise CampaignError(
            "archive_access_app '%s' names no service principal in Exchange Online (the campaign may have removed the "
            "one it registered), so the campaign cannot be found by that name: give the app's app ID (a GUID) as "
            "archive_access_app, or point archive_access_ledger at the campaign's ledger. Nothing was changed." % given)
    given = given.lower()
    for path in sorted(glob.glob(os.path.join(tenant_dir(args), "app-*.ledger.jsonl"))):
        try:
            state = read_app_ledger(path, tenant=args["tenant"])
        except LedgerError:
            continue
        if state is not None and given == str(state.header.get("app_object_id") or "").lower():
            return path, {given, str(state.header.get("app_id") or "").lower()}
    published = _published(args, {given})
    if published is not None:
        return app_ledger_path(args, published["app_id"]), {given, str(published["app_id"]).lower()}
    return app_ledger_path(args, given), {given}


# ---- what an AWX job publishes (set_stats) -------------------------------------------------------------------------
#
# No file survives between the jobs of an AWX workflow: a grant publishes its campaign in archive_access_campaigns,
# under "<tenant>/app-<app ID>" (a FullAccess campaign is under "<tenant>"), and the revoke job that receives it
# writes the ledger from it when it has none.


def published_key(tenant, app_id):
    return "%s/app-%s" % (str(tenant).lower(), str(app_id).lower())


def published_app_campaign(state):
    """What an application_rbac grant (or the revoke that closed the campaign) publishes for the next AWX job."""
    header = state.header
    return {"method": METHOD, "id": state.id, "tenant": header.get("tenant"), "app": header.get("app"),
            "app_id": header.get("app_id"), "app_object_id": header.get("app_object_id"), "how": header.get("how"),
            "scope_name": state.scope_name, "mark": state.mark, "created": header.get("created"),
            "owned": [dict(o) for o in state.open_objects()], "marked": pack_mailboxes(state.marked()),
            "closed": (state.closed or {}).get("at")}


def _published(args, ids):
    for value in (args.get("campaigns") or {}).values():
        if isinstance(value, dict) and value.get("method") == METHOD and \
                str(value.get("tenant") or "").lower() == str(args["tenant"]).lower() and \
                ids & set(str(value.get(k) or "").lower() for k in ("app_id", "app_object_id")):
            return value
    return None


def _ledger_from_published(path, published):
    """The ledger of a published campaign, written where this job's revoke reads and records it."""
    private_dir(os.path.dirname(path))
    writer = LedgerWriter(path)
    writer.create({"event": "campaign", "version": LEDGER_VERSION, "method": METHOD, "id": published["id"],
                   "tenant": str(published["tenant"]).lower(), "app": published.get("app"),
                   "app_id": published.get("app_id"), "app_object_id": published.get("app_object_id"),
                   "how": published.get("how"), "scope_name": published.get("scope_name"),
                   "mark": published.get("mark"), "created": published.get("created"), "source": "published"})
    at = timestamp()
    events = [dict(o, event="owns", at=at) for o in published.get("owned") or []]
    # each marked mailbox as the mark journal's read of it: the revoke reads it again before it takes the mark off
    events += [{"event": "read", "kind": "custom_attribute", "state": "present", "mailbox": ident, "rights": [],
                "at": at} for ident in unpack_mailboxes(published.get("marked"))]
    if published.get("closed"):
        events.append({"event": "closed", "at": published["closed"], "source": "published"})
    writer.append(events)


# ---- the plan ----------------------------------------------------------------------------------------------------


def describe(app):
    return "%s (app ID %s)" % (app.get("display_name") or "the app", app.get("app_id"))


def expressible(scope, excluded_ids):
    """Why the scope definition cannot be a RecipientRestrictionFilter, or None when it can."""
    if scope.get("identities"):
        return "archive_access_scope.identities names mailboxes one by one"
    if scope.get("member_of_group"):
        return ("archive_access_scope.member_of_group selects a group's members, nested groups included, which a "
                "filter cannot follow")
    if len(excluded_ids) > MAX_FILTER_EXCLUSIONS:
        return "%d exclusions (a filter takes at most %d, one clause each)" % (len(excluded_ids),
                                                                               MAX_FILTER_EXCLUSIONS)
    return None


def app_plan(args, check_mode=False):
    """The plan of a grant, revoke or verify by RBAC for Applications, and its ledger opened (not in check mode)."""
    action = args["action"]
    if action == "revoke":
        path, ids = revoke_ledger_path(args)
        published = _published(args, ids) if not os.path.exists(path) else None
        if published is not None and not check_mode:
            _ledger_from_published(path, published)
        state = read_app_ledger(path, tenant=args["tenant"])
        if state is None and published is not None:  # check mode: the published campaign, not written here
            with tempfile.TemporaryDirectory() as scratch:
                _ledger_from_published(os.path.join(scratch, "published.ledger.jsonl"), published)
                state = read_app_ledger(os.path.join(scratch, "published.ledger.jsonl"))
            state.path = path
        app = {"app_id": state.header.get("app_id"), "object_id": state.header.get("app_object_id"),
               "display_name": state.header.get("app")} if state is not None else {"app_id": args.get("app")}
        return _revoke_plan(args, app, path, state, check_mode)
    app = args.get("app_record") or {}
    if not app.get("object_id"):
        raise CampaignError("archive_access_app '%s': the preflight found no service principal. Nothing was "
                            "changed." % args.get("app"))
    path = app_ledger_path(args, app.get("app_id"))
    state = read_app_ledger(path, tenant=args["tenant"], app=app)
    roles = [canonical_role(r, set()) for r in args.get("app_roles") or []]
    roles = [r for i, r in enumerate(roles) if r and r not in roles[:i]]
    closed = state if state is not None and state.closed is not None else None
    if closed is not None:
        if action == "verify":
            raise CampaignError("The campaign %s of %s in %s is closed: there is no scope to verify. Nothing was "
                                "changed." % (state.id, describe(app), path))
        state = None  # a grant after a closed campaign starts a new one
    if action == "verify" and state is None:
        raise CampaignError("There is no open campaign of %s in %s: there is no scope to verify." % (
            describe(app), path))
    scope = args["scope"]
    excluded = dict((mailbox_id(r), r.get("primary_smtp_address") or mailbox_id(r))
                    for r in args.get("excluded") or [] if mailbox_id(r))
    targets = {}
    for record in args.get("selected") or []:
        ident = mailbox_id(record)
        if ident and ident not in excluded and ident not in targets:
            targets[ident] = record.get("primary_smtp_address") or ident
    if not targets:
        raise CampaignError("%s: the scope selects no mailbox after the exclusions; a management scope for no mailbox "
                            "is not created. Check archive_access_scope. Nothing was changed." % args["tenant"])
    why_not = expressible(scope, excluded)
    scope_by = args.get("app_scope_by") or "auto"
    how = "mark" if scope_by == "mark" or (scope_by == "auto" and why_not) else "filter"
    if how == "filter" and why_not:
        raise CampaignError("archive_access_app_scope_by=filter: the scope cannot be written as a filter: %s. Use "
                            "auto or mark. Nothing was changed." % why_not)
    attribute = canonical_attribute(args.get("mark_attribute"))
    new = state is None
    campaign = state.id if state else "%s-%s" % (utc_now().strftime("%Y%m%dT%H%M%SZ"), uuid.uuid4().hex[:8])
    if state is not None and (state.header.get("how") != how or (how == "mark" and (
            (state.mark or {}).get("attribute") != attribute))):
        raise CampaignError(
            "The open campaign %s of %s scopes by %s%s; this run would scope by %s%s. Revoke the campaign first, or "
            "keep archive_access_scope, archive_access_app_scope_by and archive_access_mark_attribute as they were. "
            "Nothing was changed." % (state.id, describe(app), state.header.get("how"),
                                      " in %s" % state.mark["attribute"] if state.mark else "", how,
                                      " in %s" % attribute if how == "mark" else ""))
    scope_name = state.scope_name if state else "Archive campaign %s" % campaign
    mark = {"attribute": attribute, "value": "archive-%s" % campaign} if how == "mark" else None
    if how == "filter":
        scope_filter = recipient_filter(scope.get("recipient_type_details"), scope.get("filter"), sorted(excluded))
    else:
        scope_filter = recipient_filter(None, None, None, (mark["attribute"], mark["value"]))
        _refuse_foreign_marks(args, mark, targets)
    register = bool(args.get("register_app")) and action == "grant"
    plan = {"campaign": campaign, "new": new, "ledger": path, "how": how, "why_mark": why_not if how == "mark" else
            None, "scope_name": scope_name, "filter": scope_filter, "mark": mark, "roles": roles,
            "register_app": register, "targets": list(targets), "excluded": sorted(excluded),
            # outside the set: the exclusions, and mailboxes an earlier run marked that the scope no longer selects
            "outside": sorted(set(excluded) | (set(state.marked() if state else []) - set(targets))),
            "app": app, "action": action}
    if action == "grant" and not check_mode:
        writer = LedgerWriter(path)
        if new:
            if closed is not None:
                writer.set_aside(str(closed.closed.get("at") or campaign).replace(":", ""))
            private_dir(os.path.dirname(path))
            writer.create({"event": "campaign", "version": LEDGER_VERSION, "method": METHOD, "id": campaign,
                           "tenant": str(args["tenant"]).lower(), "app": app.get("display_name"),
                           "app_id": app.get("app_id"), "app_object_id": app.get("object_id"), "how": how,
                           "scope_name": scope_name, "mark": mark, "created": timestamp()})
            state = read_app_ledger(path)
        owns = []
        if register and not state.owns("service_principal", app["object_id"]):
            owns.append({"kind": "service_principal", "name": app["object_id"], "app_id": app.get("app_id")})
        if not state.owns("scope", scope_name) or ("scope", scope_name.lower(), "") in state.removed:
            owns.append({"kind": "scope", "name": scope_name, "filter": scope_filter})
        for role in roles:
            if not state.owns("assignment", scope_name, role) or \
                    ("assignment", scope_name.lower(), role) in state.removed:
                owns.append({"kind": "assignment", "name": scope_name, "role": role})
        at = timestamp()
        writer.append([dict(o, event="owns", at=at) for o in owns] +
                      [{"event": "run", "action": action, "at": at, "targets": len(targets)}])
    return _with_run(args, plan, targets, excluded, check_mode)


def _refuse_foreign_marks(args, mark, targets):
    """The mark attribute must be empty or hold this campaign's value on every mailbox to mark."""
    key = mark["attribute"].lower()
    foreign = []
    for record in args.get("selected") or []:
        ident = mailbox_id(record)
        if ident not in targets:
            continue
        value = next((v for k, v in record.items() if k.replace("_", "") == key), None)
        if value and not same_value(value, mark["value"]):
            foreign.append("%s ('%s')" % (record.get("primary_smtp_address") or ident, value))
    if foreign:
        raise CampaignError(
            "%s of the scope hold another value in %s, which the campaign would have to overwrite to mark them: %s. "
            "Choose an attribute nothing else uses (archive_access_mark_attribute), or clear those values. Nothing "
            "was changed." % (mailboxes(len(foreign)), mark["attribute"], ", ".join(foreign[:LISTED])))


def _revoke_plan(args, app, path, state, check_mode):
    if state is None:
        raise CampaignError("There is no ledger of a campaign of %s at %s, so it is unknown which scope, assignments "
                            "and marks the campaign created. Point archive_access_ledger at the grant's ledger. "
                            "Nothing was changed." % (describe(app), path))
    plan = {"campaign": state.id, "ledger": path, "how": state.header.get("how"), "scope_name": state.scope_name,
            "mark": state.mark, "app": app, "action": "revoke", "closed": state.closed is not None,
            "register_app": False, "targets": [], "excluded": [], "outside": [], "filter": None, "roles": [],
            "why_mark": None}
    if state.closed is not None:
        plan["msg"] = ("%s: campaign %s of %s is closed since %s: nothing it created is left. Nothing was changed." % (
            args["tenant"], state.id, describe(app), state.closed.get("at")))
        plan["lines"] = [plan["msg"]]
        return plan
    objects = state.open_objects()
    plan["assignments"] = [o["role"] for o in objects if o["kind"] == "assignment"]
    plan["remove_scope"] = any(o["kind"] == "scope" for o in objects)
    plan["remove_app"] = any(o["kind"] == "service_principal" for o in objects)
    plan["unmark"] = state.marked()
    if not check_mode:
        LedgerWriter(path).append([{"event": "run", "action": "revoke", "at": timestamp(),
                                    "targets": len(plan["unmark"])}])
    return _with_run(args, plan, dict((i, i) for i in plan["unmark"]), {}, check_mode)


def _with_run(args, plan, targets, excluded, check_mode):
    started = utc_now()
    reports = report_dir(args)
    private_dir(reports)
    work = os.path.join(reports, ".run-%s-%s-%s" % (_file_part(str(args["tenant"]).lower()),
                                                    started.strftime("%Y%m%dT%H%M%SZ"), uuid.uuid4().hex[:6]))
    private_dir(work)
    run = {"id": started.strftime("%Y%m%dT%H%M%SZ"), "action": plan["action"], "tenant": args["tenant"],
           "check_mode": bool(check_mode), "started": timestamp(started), "started_epoch": time.time(),
           "work": work, "report_dir": reports, "ledger": plan["ledger"], "campaign": plan["campaign"]}
    write_json(os.path.join(work, "plan.json"), {"plan": dict(plan, run=run), "addresses": dict(targets),
                                                 "excluded": dict(excluded), "ews": args.get("ews") or {},
                                                 "selected": len(args.get("selected") or [])})
    plan = dict(plan, run=run, closed=plan.get("closed", False))
    plan.setdefault("lines", plan_lines(args, plan))
    if plan["action"] == "preflight":
        shutil.rmtree(work, ignore_errors=True)
    return plan


def plan_lines(args, plan):
    app = describe(plan["app"])
    if plan["action"] == "revoke":
        return ["%s: revoking campaign %s of %s: %d role assignments, %s, %s, %s." % (
            args["tenant"], plan["campaign"], app, len(plan["assignments"]),
            "the scope %s" % plan["scope_name"] if plan["remove_scope"] else "no scope (removed already)",
            "the marks on %s" % mailboxes(len(plan["unmark"])) if plan["unmark"] else "no marks",
            "the service principal the campaign registered" if plan["remove_app"] else
            "the service principal is kept (it existed before)")]
    verb = {"grant": "granting", "verify": "verifying", "preflight": "would grant"}[plan["action"]]
    lines = ["%s: %s %s to %s on %s by RBAC for Applications, scope '%s' (%s); %d excluded." % (
        args["tenant"], verb, ", ".join(plan["roles"]), app, mailboxes(len(plan["targets"])), plan["scope_name"],
        "filter %s" % plan["filter"] if plan["how"] == "filter" else "mark %s = '%s', because %s" % (
            plan["mark"]["attribute"], plan["mark"]["value"], plan["why_mark"] or "archive_access_app_scope_by=mark"),
        len(plan["excluded"]))]
    lines.append(CONSENT_CAVEAT)
    lines.append(ews_line(args.get("ews") or {}))
    return lines


def ews_line(ews):
    if not ews:
        return "EWS: not read."
    enabled = ews.get("ews_enabled")
    policy = ews.get("ews_application_access_policy")
    text = "EWS: EwsEnabled %s" % ("not set (EWS on)" if enabled is None else enabled)
    if policy:
        text += ", EwsApplicationAccessPolicy %s, allow list [%s], block list [%s]" % (
            policy, ", ".join(ews.get("ews_allow_list") or []), ", ".join(ews.get("ews_block_list") or []))
    else:
        text += ", no application allow/block policy"
    return text + (". Microsoft switches EWS off in Exchange Online from October 2026 (fully April 2027): an export "
                   "tool that still uses EWS needs Application EWS.AccessAsApp and EWS left on until then.")


# ---- the end of a run --------------------------------------------------------------------------------------------


def app_finish(run, templates, results, stopped=None, publish=True):
    """Record what the run did in the ledger, check the proof, write the reports. Returns archive_access_result."""
    saved = read_json(os.path.join(run["work"], "plan.json"))
    plan, addresses, excluded = saved["plan"], saved["addresses"], saved["excluded"]
    action = plan["action"]
    results = results or {}
    check_mode = run["check_mode"]
    writes = _writes(results)
    missing_in, wrong_out, rows = [], [], []
    proof = None
    if action in ("grant", "verify") and not check_mode and not stopped:
        proof_in = _by_identity(results.get("proof_in"))
        proof_out = _by_identity(results.get("proof_out"))
        for ident in plan["targets"]:
            entry = proof_in.get(ident)
            ok = bool(entry and entry.get("in_scope"))
            if not ok:
                missing_in.append(addresses.get(ident) or ident)
            rows.append(_row(addresses.get(ident) or ident, ident, "in scope" if ok else "NOT in scope", entry,
                             None if ok else "selected by the campaign, but the app does not reach it"))
        for ident in plan["outside"]:
            entry = proof_out.get(ident)
            wrong = bool(entry and entry.get("in_scope"))
            if wrong:
                wrong_out.append(excluded.get(ident) or ident)
            rows.append(_row(excluded.get(ident) or ident, ident, "excluded, in scope" if wrong else "excluded",
                             entry, "excluded, but the app reaches it" if wrong else None))
        proof = {"in_scope": len(plan["targets"]) - len(missing_in), "expected": len(plan["targets"]),
                 "excluded_not_in_scope": len(plan["outside"]) - len(wrong_out),
                 "excluded": len(plan["outside"]), "not_in_scope": missing_in, "excluded_in_scope": wrong_out}
    if action == "revoke":
        for ident in plan.get("unmark") or []:
            rows.append(_row(addresses.get(ident) or ident, ident, "mark removed", None, None))
    closed_now = False
    if not check_mode and not stopped:
        writer = LedgerWriter(plan["ledger"])
        events = []
        at = timestamp()
        if action == "revoke" and not plan.get("closed"):
            if _ok(results.get("assignments")):
                events += [{"event": "removed", "kind": "assignment", "name": plan["scope_name"], "role": role,
                            "at": at} for role in plan["assignments"]]
            if plan["remove_scope"] and _ok(results.get("scope")):
                events.append({"event": "removed", "kind": "scope", "name": plan["scope_name"], "at": at})
            if plan["remove_app"] and _ok(results.get("service_principal")):
                events.append({"event": "removed", "kind": "service_principal", "name": plan["app"]["object_id"],
                               "at": at})
        if proof is not None:
            events.append({"event": "verified", "at": at, "run": run["id"], "ok": not (missing_in or wrong_out),
                           "in_scope": proof["in_scope"], "expected": proof["expected"],
                           "not_in_scope": missing_in[:LISTED], "excluded_in_scope": wrong_out[:LISTED]})
        writer.append(events)
        if action == "revoke" and not plan.get("closed"):
            state = read_app_ledger(plan["ledger"])
            if not state.open_objects() and not state.marked():
                writer.append([{"event": "closed", "at": timestamp(), "run": run["id"]}])
                closed_now = True
    state = read_app_ledger(plan["ledger"]) if os.path.exists(plan["ledger"]) else None
    problem = None
    if stopped:
        problem = "The run stopped: %s Fix the cause and run it again; it continues where it stopped." % stopped
    elif missing_in or wrong_out:
        parts = []
        if missing_in:
            parts.append("%s selected by the campaign that the app does not reach: %s" % (
                mailboxes(len(missing_in)), ", ".join(missing_in[:LISTED])))
        if wrong_out:
            parts.append("%s excluded that the app reaches: %s" % (mailboxes(len(wrong_out)),
                                                                   ", ".join(wrong_out[:LISTED])))
        problem = ("The scope Exchange enforces is not the campaign's set (Test-ServicePrincipalAuthorization): %s. "
                   "Do not start the export. Check the scope '%s' (its filter), the marks, and other role assignments "
                   "of the app (one for the whole organization reaches every mailbox)." % (
                       "; ".join(parts), plan["scope_name"]))
    elif action == "revoke" and not plan.get("closed") and not closed_now:
        left = state.open_objects() if state else []
        problem = "The revoke left objects of the campaign in place (%s); run it again." % ", ".join(
            "%s %s%s" % (o["kind"], o["name"], " (%s)" % o["role"] if o.get("role") else "") for o in left) or (
                "marks on %s" % mailboxes(len(state.marked())) if state else "")
    finished = utc_now()
    summary = dict(writes["summary"], failed=len(missing_in) + len(wrong_out))
    details = method_details(plan, results.get("ews") or saved.get("ews") or {})
    if proof is not None:
        details.append({"label": "Proof", "value": proof_text(proof)})
    counts = state.counts() if state is not None else None
    report = build_report(
        dict(run, action=action), finished, delegate=describe(plan["app"]), principal="App", summary=summary,
        access_rights=plan.get("roles") or plan.get("assignments") or [], method=METHOD_NAMES[METHOD],
        method_details=details, problem=problem, describe=headline, proof=proof, stopped=stopped, rows=rows,
        scope={"selected": saved.get("selected", 0) if action != "revoke" else 0,
               "targets": len(plan["targets"]) if action != "revoke" else len(plan.get("unmark") or []),
               "excluded": sorted(excluded.values()), "acl_limit": None, "changed": writes["count"],
               "proven_in": proof["in_scope"] if proof else None,
               "proven_out": proof["excluded_not_in_scope"] if proof else None},
        campaign={"id": plan["campaign"], "ledger": None if check_mode and plan.get("new") else plan["ledger"],
                  "source": "ledger", "closed": bool(state is not None and state.closed is not None),
                  "closed_now": closed_now, "counts": counts},
        effective_by=effective_time(finished, APP_PROPAGATION_MINUTES) if writes["count"] and not check_mode
        else None,
        failures=[{"mailbox": r["mailbox"], "mailbox_id": r["mailbox_id"], "error": r["error"]}
                  for r in rows if r["error"]])
    report["writes"] = writes["objects"]
    report["reports"] = write_reports(report, run_for_reports(run, action), templates)
    result = public_result(report)
    published = None
    if publish and not check_mode and state is not None and (action == "grant" or closed_now):
        published = {published_key(run["tenant"], state.header.get("app_id")): published_app_campaign(state)}
    result.update(published=published, changed=bool(writes["count"]), proof=proof, writes=writes["objects"],
                  lines=summary_lines(report)[:2] + ["%s: %s" % (d["label"], d["value"]) for d in details]
                  + summary_lines(report)[2:])
    shutil.rmtree(run["work"], ignore_errors=True)
    return result


def run_for_reports(run, action):
    return {"report_dir": run["report_dir"], "tenant": run["tenant"], "action": action,
            "check_mode": run["check_mode"], "id": run["id"]}


def headline(report):
    """The first sentence of an application_rbac report: what the app reaches now, as the proof found it."""
    app, roles, scope = report["delegate"], ", ".join(report["access_rights"]), report["scope"]
    proof = report["proof"]
    name = next((d["value"] for d in report["method_details"] if d["label"] == "Management scope"), "")
    if report["action"] == "revoke":
        if report["check_mode"]:
            return "Check mode, nothing was changed: the revoke would remove what campaign %s created for %s." % (
                report["campaign"]["id"], app)
        if report["status"] == "COMPLETE":
            return "Everything campaign %s created for %s is removed (%s); the campaign is closed." % (
                report["campaign"]["id"], app, "%d writes" % scope["changed"] if scope["changed"] else
                "nothing was left")
        return "The revoke of campaign %s left objects or marks of the campaign in place." % report["campaign"]["id"]
    if report["check_mode"]:
        return "Check mode, nothing was changed: the grant would give %s %s on the management scope '%s' over %s " \
               "(%d excluded)." % (app, roles, name, mailboxes(scope["targets"]), len(scope["excluded"]))
    if proof is None:
        return "%s: the run stopped before the proof; nothing is proven about the app's reach." % app
    if report["status"] == "COMPLETE":
        return "%s holds %s on exactly the %s of the campaign, proven by Test-ServicePrincipalAuthorization; the %d " \
               "excluded mailboxes are out of its reach." % (app, roles, mailboxes(proof["expected"]),
                                                             proof["excluded"])
    text = "The scope Exchange enforces is not the campaign's set: %s holds %s on %d of the %s of the campaign, " \
           "and reaches %d excluded mailboxes."
    return text % (app, roles, proof["in_scope"], mailboxes(proof["expected"]), len(proof["excluded_in_scope"]))


def proof_text(proof):
    return ("Test-ServicePrincipalAuthorization: %d of %d mailboxes of the campaign in scope, %d of %d excluded "
            "mailboxes not in scope" % (proof["in_scope"], proof["expected"], proof["excluded_not_in_scope"],
                                        proof["excluded"]))


def method_details(plan, ews):
    details = [{"label": "App", "value": describe(plan["app"])},
               {"label": "Application roles", "value": ", ".join(plan.get("roles") or plan.get("assignments") or [])},
               {"label": "Management scope", "value": plan["scope_name"]}]
    if plan.get("how") == "filter":
        details.append({"label": "Scope filter", "value": plan.get("filter")})
    elif plan.get("mark"):
        details.append({"label": "Campaign mark", "value": "%s = '%s'%s" % (
            plan["mark"]["attribute"], plan["mark"]["value"],
            " (the scope cannot be a filter: %s)" % plan["why_mark"] if plan.get("why_mark") else "")})
    if plan["action"] != "revoke":
        details.append({"label": "EWS", "value": ews_line(ews)})
        details.append({"label": "Tenant-wide consent", "value": CONSENT_CAVEAT})
    return details


def _by_identity(result):
    return dict((str(m.get("identity") or "").lower(), m) for m in (result or {}).get("mailboxes") or [])


def _row(address, ident, action, entry, error):
    roles = [r.get("role") for r in (entry or {}).get("roles") or [] if r.get("in_scope")]
    return {"mailbox": address, "mailbox_id": ident, "action": action, "before": [], "after": roles,
            "time": timestamp(), "error": error}


def _ok(result):
    if isinstance(result, list):
        return all(_ok(r) for r in result)
    return isinstance(result, dict) and not result.get("failed") and not result.get("skipped")


def _writes(results):
    """How many Exchange objects and marks the run's module calls changed."""
    objects = []
    summary = {"added": 0, "removed": 0, "unchanged": 0}
    for key in ("service_principal", "scope", "assignments", "mark", "unmark"):
        value = results.get(key)
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict) or item.get("skipped"):
                continue
            if key in ("mark", "unmark"):
                counts = item.get("summary") or {}
                added, removed = counts.get("added", 0) + counts.get("changed", 0), counts.get("removed", 0)
                summary["added"] += added
                summary["removed"] += removed
                summary["unchanged"] += counts.get("unchanged", 0)
                if added or removed:
                    objects.append({"object": "marks", "count": added + removed})
            elif item.get("changed"):
                gone = item.get(_RESULT_KEY[key]) is None or bool(item.get("removed"))
                summary["removed" if gone else "added"] += 1
                objects.append({"object": key, "count": 1})
    return {"summary": summary, "objects": objects, "count": sum(o["count"] for o in objects)}


_RESULT_KEY = {"service_principal": "service_principal", "scope": "scope", "assignments": "assignment"}
