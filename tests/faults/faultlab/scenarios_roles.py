# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role-level rows of the fault matrix: the archive_access role's grant and revoke playbooks, and their ledger.

The rows run the collection's own playbooks (playbooks/grant_archive_access.yml and revoke_archive_access.yml)
on a scope of explicit identities of every mailbox type, seeded with the delegate's pre-existing access. Besides
the tenant, they judge the campaign ledger twice: its raw first read line per mailbox (faultlab.judge), and what
the role itself reads from it (the collection's parse_ledger), because that is what a revoke acts on.
"""

import json
import os
import random
import re
import shutil
import sys

from faultlab.judge import FULL_ACCESS, _few, check_granted, check_journal, check_outside_scope, check_revoked
from faultlab.lab import COLLECTIONS_ROOT, HARD_CASES, MAILBOX_TYPES, REPO, MailboxState, ensure_collection_link
from faultlab.registry import scenario
from faultlab.scenarios_module import killed_run, pre_existing, prepare

# the judge reads the ledger with the collection's own reader, imported from the build tree
ensure_collection_link()
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)

# pylint: disable=wrong-import-position,wrong-import-order
from ansible_collections.m365.exchange.plugins.plugin_utils._ledger import LedgerError, parse_ledger  # noqa: E402
# pylint: enable=wrong-import-position,wrong-import-order

GRANT_PLAYBOOK = os.path.join(REPO, "playbooks", "grant_archive_access.yml")
REVOKE_PLAYBOOK = os.path.join(REPO, "playbooks", "revoke_archive_access.yml")
ADD = "Add-MailboxPermission"
REMOVE = "Remove-MailboxPermission"
# The longest a grant of a small scope takes here (ansible-playbook's own work dominates); the range of the
# time kills of the grant row. The revoke row uses the duration of its own grant.
GRANT_SECONDS = 10.0
RECAP_LINE = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=\d+\s+unreachable=\d+\s+failed=(\d+)", re.MULTILINE)


# ---- campaigns -------------------------------------------------------------------------------------


def campaign_dir(lab, trial):
    """An empty directory for this trial's ledger and reports."""
    path = os.path.join(lab.workdir, "campaigns", "%s-%d" % (trial.scenario.key, trial.index))
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def role_vars(lab, scope, directory, chunk_size):
    """The role's variables: exactly these mailboxes (of every type), with the ledger and reports in directory."""
    return {
        "archive_access_delegate": lab.delegate,
        "archive_access_scope": {"identities": list(scope), "recipient_type_details": list(MAILBOX_TYPES)},
        "archive_access_ledger": os.path.join(directory, "campaign.ledger.jsonl"),
        "archive_access_report_dir": os.path.join(directory, "reports"),
        "archive_access_chunk_size": chunk_size,
    }


def campaign_size(trial, rng):
    """(mailboxes, chunk size): several chunks, so that kills fall between and inside module calls."""
    if not trial.long:
        return 30, 10
    size = rng.randint(200, 1000)
    return size, rng.choice((50, 100, 250))


def granted_by(start, later, scope, sid):
    """The scope mailboxes where the delegate holds FullAccess in `later` but did not in `start`."""
    return set(a.lower() for a in scope
               if FULL_ACCESS not in start[a.lower()].delegate_rights(sid)
               and FULL_ACCESS in later[a.lower()].delegate_rights(sid))


def check_pre_existing_kept(trial, start, final, found, sid):
    """The delegate's access that existed before the campaign (rights and AutoMapping) is exactly as it was."""
    changed = [key for key in found if final[key].delegate_rights(sid) != start[key].delegate_rights(sid)
               or final[key].automapping.get(sid) != start[key].automapping.get(sid)]
    if changed:
        trial.lose("the campaign changed the delegate's pre-existing access on %d mailboxes: %s" % (
            len(changed), _few(changed)))


def role_kill_point(trial, rng, reads, writes, seconds):
    """Where to kill: right after the n-th Get-MailboxPermission or write the emulator executes, or at a time
    from the start of ansible-playbook (start-up, preflight, ledger, chunks and reports all take their share)."""
    kinds = ("write", "time", "read", "write")
    kind = kinds[trial.index % len(kinds)] if trial.index < len(kinds) else rng.choice(kinds)
    if kind == "read":
        return kind, rng.randint(1, max(1, reads))
    if kind == "write":
        return kind, rng.randint(1, max(1, writes))
    return kind, round(rng.uniform(0.5, seconds), 2)


def run_to_completion(lab, trial, playbook, variables, label):
    """Run the playbook once more; after a kill, that one run must finish the job. Returns the tenant after it."""
    run = lab.run(playbook, variables)
    trial.expect(run.rc == 0, "%s failed: %s" % (label, run.describe()))
    return lab.snapshot()


# ---- the ledger ------------------------------------------------------------------------------------


def read_ledger(trial, path, lab):
    """The ledger as the role reads it (tenant and delegate checked), by address: {granted, pre_existing,
    revoked, open, closed, names}; or None with the reason recorded. The ledger knows mailboxes by their IDs and
    records each one's address beside it (names: ID -> address, for the journal's lines)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        trial.problem("the ledger cannot be read: %s" % exc)
        return None
    try:
        state = parse_ledger(text, path=path, tenant=lab.domain, delegate=lab.delegate)
    except LedgerError as exc:
        trial.problem("the role cannot read its own ledger: %s" % exc)
        return None
    unnamed = [m.id for m in state.mailboxes.values() if not m.address]
    if unnamed:
        trial.problem("the ledger records %d mailboxes without their address: %s" % (len(unnamed), _few(unnamed)))

    def names(entries):
        return sorted(m.name for m in entries)
    granted = state.granted()
    return {"granted": names(granted), "pre_existing": names(state.pre_existing()),
            "revoked": names(m for m in granted if m.revoke in ("removed", "nothing")),
            "open": names(state.open()), "closed": state.closed is not None,
            "names": dict((m.id, m.name) for m in state.mailboxes.values())}


def _lower(mailboxes):
    return set(str(mailbox).lower() for mailbox in mailboxes)


def check_ledger(trial, ledger, granted, found):
    """The ledger must name exactly the mailboxes the campaign granted, and those where it found the access."""
    recorded_granted, recorded_found = _lower(ledger["granted"]), _lower(ledger["pre_existing"])
    unrecorded = granted - recorded_granted
    found_as_granted = found & recorded_granted
    granted_as_found = granted & recorded_found
    if unrecorded:
        trial.lose("the ledger does not record %d mailboxes the campaign granted, so the revoke would leave their "
                   "access in place: %s" % (len(unrecorded), _few(unrecorded)))
    if found_as_granted:
        trial.lose("the ledger records %d mailboxes with pre-existing access as granted, so the revoke would remove "
                   "it: %s" % (len(found_as_granted), _few(found_as_granted)))
    if granted_as_found:
        trial.lose("the ledger records %d mailboxes the campaign granted as pre-existing: %s" % (
            len(granted_as_found), _few(granted_as_found)))
    invented = recorded_granted - granted - found
    missing = found - recorded_found
    if invented:
        trial.problem("the ledger records %d mailboxes as granted that the campaign did not grant: %s" % (
            len(invented), _few(invented)))
    if missing:
        trial.problem("the ledger does not record the pre-existing access on %d mailboxes: %s" % (
            len(missing), _few(missing)))


def check_ledger_closed(trial, ledger, granted):
    """After a finished revoke: the campaign is closed, and only granted mailboxes are recorded as revoked."""
    trial.expect(ledger["closed"], "the finished revoke did not close the campaign in the ledger")
    foreign = _lower(ledger["revoked"]) - granted
    if foreign:
        trial.lose("the ledger records %d mailboxes as revoked that the campaign did not grant: %s" % (
            len(foreign), _few(foreign)))


# ---- SIGKILL ---------------------------------------------------------------------------------------


@scenario("role-grant-sigkill", "SIGKILL during the archive_access grant playbook, rerun; ledger checked",
          level="role", fast=1, long_runs=20)
def role_grant_sigkill(lab, trial):
    """Kill the grant playbook at a random point (fast: after a write, in a grant of 30 mailboxes in chunks of 10),
    rerun it, and check the tenant (exactly FullAccess added, pre-existing access kept) and the ledger (granted and
    pre-existing mailboxes told apart, as the revoke will read them)."""
    rng = random.Random(5150 + trial.index)
    size, chunk_size = campaign_size(trial, rng)
    scope, start = prepare(lab, trial, size)
    sid = lab.delegate_sid
    variables = role_vars(lab, scope, campaign_dir(lab, trial), chunk_size)
    found = pre_existing(start, scope, sid)
    # one read per mailbox in the whole campaign: each chunk's module call (the preflight reads no mailbox)
    point = role_kill_point(trial, rng, reads=len(scope), writes=len(scope) - len(found), seconds=GRANT_SECONDS)
    trial.note(killed_run(lab, trial, variables, point, playbook=GRANT_PLAYBOOK, write_cmdlet=ADD))
    final = run_to_completion(lab, trial, GRANT_PLAYBOOK, variables, "the grant rerun")
    check_granted(trial, start, final, scope, sid)
    ledger = read_ledger(trial, variables["archive_access_ledger"], lab)
    if ledger is not None:
        check_journal(trial, variables["archive_access_ledger"], scope, found, names=ledger["names"])
        check_ledger(trial, ledger, granted_by(start, final, scope, sid), found)
        trial.expect(not ledger["closed"], "a grant closed the campaign")


@scenario("role-revoke-sigkill", "SIGKILL during the archive_access revoke playbook, rerun; ledger checked",
          level="role", fast=1, long_runs=20)
def role_revoke_sigkill(lab, trial):
    """Grant the campaign, kill the revoke playbook at a random point (fast: after a removal), rerun it, and check
    that the delegate's FullAccess went exactly where the campaign granted it, that pre-existing access was never
    removed, and that the ledger still tells the two apart and is closed."""
    rng = random.Random(6160 + trial.index)
    size, chunk_size = campaign_size(trial, rng)
    scope, start = prepare(lab, trial, size)
    sid = lab.delegate_sid
    variables = role_vars(lab, scope, campaign_dir(lab, trial), chunk_size)
    grant = lab.run(GRANT_PLAYBOOK, variables)
    if not trial.expect(grant.rc == 0, "the grant before the revoke failed: %s" % grant.describe()):
        return
    after_grant = lab.snapshot()
    check_granted(trial, start, after_grant, scope, sid)
    granted = granted_by(start, after_grant, scope, sid)
    point = role_kill_point(trial, rng, reads=len(granted), writes=len(granted), seconds=grant.duration)
    lab.hook.clear()
    trial.note(killed_run(lab, trial, variables, point, playbook=REVOKE_PLAYBOOK, write_cmdlet=REMOVE))
    final = run_to_completion(lab, trial, REVOKE_PLAYBOOK, variables, "the revoke rerun")
    found = pre_existing(start, scope, sid)
    # everything but the campaign's mailboxes, pre-existing access included, must be as the grant left it
    check_revoked(trial, after_grant, final, sorted(granted), sid)
    check_pre_existing_kept(trial, start, final, found, sid)
    ledger = read_ledger(trial, variables["archive_access_ledger"], lab)
    if ledger is not None:
        check_ledger(trial, ledger, granted, found)
        check_ledger_closed(trial, ledger, granted)


# ---- doubtful ledgers ------------------------------------------------------------------------------


def _garbage(lines):
    return lines[:2] + ["<<<<<<< conflict left by a merge\n"] + lines[2:]


def _not_an_object(lines):
    return lines[:2] + ['["read", "FullAccess"]\n'] + lines[2:]


def _binary(lines):
    # bytes that are not UTF-8, as a disk error or a binary file copied over the ledger leaves them
    return lines[:2] + [b"\xff\xfe\x9c\x80 \xc3\x28\n".decode("utf-8", "surrogateescape")] + lines[2:]


def _torn_header(lines):
    return [lines[0][:len(lines[0]) // 2]]


def _header_of(**fields):
    def damage(lines):
        header = json.loads(lines[0])
        header.update(fields)
        return [json.dumps(header, sort_keys=True) + "\n"] + lines[1:]
    return damage


# case: (how the campaign's ledger is damaged (None: removed), words the refusal must contain, refused by grant too)
DOUBTFUL_LEDGERS = {
    "garbage": (_garbage, "is corrupt at line 3", True),
    "not-an-object": (_not_an_object, "is corrupt at line 3: not a JSON object", True),
    "binary": (_binary, "is corrupt at line 3", True),
    "torn-header": (_torn_header, "does not start with a campaign header", True),
    "empty": (lambda lines: [], "does not start with a campaign header", True),
    "missing": (None, "There is no ledger at", False),
    "other-tenant": (_header_of(tenant="fabrikam.onmicrosoft.com"), "belongs to tenant 'fabrikam", True),
    # the delegate is matched by its object: another delegate's ledger has other IDs
    "other-delegate": (_header_of(delegate="helpdesk@contoso.onmicrosoft.com",
                                  delegate_id="0f6b3c2e-5d4a-4e7b-9c1d-2a3b4c5d6e7f",
                                  delegate_guid="1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6"), "belongs to delegate", True),
}


def damaged_ledgers(directory, original):
    """{case: ledger path} with each case's damage applied to a copy of the original ledger."""
    with open(original, encoding="utf-8") as handle:
        lines = handle.read().splitlines(True)
    paths = {}
    for case, (damage, _words, _grant) in DOUBTFUL_LEDGERS.items():
        path = os.path.join(directory, case, "campaign.ledger.jsonl")
        os.makedirs(os.path.dirname(path))
        paths[case] = path
        if damage is not None:
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
                handle.write("".join(damage(lines)))
    return paths


def inventory_of(directory, name, ledgers):
    """An inventory with one host per case (all on the lab's tenant), each with its own ledger and reports."""
    hosts = dict((case, {"archive_access_ledger": path,
                         "archive_access_report_dir": os.path.join(os.path.dirname(path), "reports")})
                 for case, path in ledgers.items())
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"all": {"hosts": hosts}}, handle)
    return path


def file_contents(paths):
    """{case: the file's bytes, or None when it does not exist}."""
    contents = {}
    for case, path in paths.items():
        try:
            with open(path, "rb") as handle:
                contents[case] = handle.read()
        except OSError:
            contents[case] = None
    return contents


def check_refusals(trial, run, action, cases):
    """Every case's host failed, with a message that names the problem."""
    trial.expect(run.rc not in (0, None), "the %s with doubtful ledgers succeeded: %s" % (action, run.describe()))
    failed = failed_hosts(run.stdout)
    for case in cases:
        message = str((_read_json(os.path.join(run.result_dir, case)) or {}).get("msg", ""))
        if case not in failed:
            trial.problem("%s with a %s ledger was not refused (last task: %s)" % (action, case, message[:200]))
        elif DOUBTFUL_LEDGERS[case][1] not in message:
            trial.problem("%s refused a %s ledger without saying so: %s" % (action, case, message[:300]))


def failed_hosts(stdout):
    """The hosts the play recap counts a failed task for."""
    return set(match.group(1) for match in RECAP_LINE.finditer(stdout) if int(match.group(2)))


def _read_json(path):
    """A host's last task result, as the tree callback stored it (without 'failed': the recap tells that)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


@scenario("role-ledger-doubtful", "doubtful ledger (corrupt, torn, missing, another tenant/delegate) is refused",
          level="role", fast=1, long_runs=1, ci=False)
def role_ledger_doubtful(lab, trial):
    """After a finished grant, copies of its ledger are damaged in every way at once, one per host of an inventory
    (garbage, a line that is not an object, bytes that are not text, a torn header, empty, missing, another
    tenant's, another delegate's): the revoke refuses every one, and so does a grant of a larger scope (all but
    the missing one, where a grant rightly starts a new campaign); the tenant and the ledgers stay unchanged."""
    scope, start = prepare(lab, trial, trial.size(20, 40))
    directory = campaign_dir(lab, trial)
    campaign = role_vars(lab, scope, directory, 100)
    grant = lab.run(GRANT_PLAYBOOK, campaign)
    if not trial.expect(grant.rc == 0, "the grant that writes the ledger failed: %s" % grant.describe()):
        return
    check_granted(trial, start, lab.snapshot(), scope, lab.delegate_sid)
    ledgers = damaged_ledgers(directory, campaign["archive_access_ledger"])
    # a larger scope, so that a grant that did not refuse would change the tenant
    wider = scope + [a for a in lab.scope(len(scope) + 10, seed=trial.index + 1) if a not in scope]
    common = dict((key, value) for key, value in role_vars(lab, wider, directory, 100).items()
                  if key not in ("archive_access_ledger", "archive_access_report_dir"))
    common["archive_access_hosts"] = "all"
    contents = file_contents(ledgers)
    for action, playbook in (("revoke", REVOKE_PLAYBOOK), ("grant", GRANT_PLAYBOOK)):
        cases = [case for case in ledgers if action == "revoke" or DOUBTFUL_LEDGERS[case][2]]
        inventory = inventory_of(directory, "%s.inventory.json" % action, dict((c, ledgers[c]) for c in cases))
        before = lab.snapshot()
        run = lab.run(playbook, common, args=["-i", inventory])
        check_refusals(trial, run, action, cases)
        check_outside_scope(trial, before, lab.snapshot(), set())
    changed = [case for case, content in file_contents(ledgers).items() if content != contents[case]]
    if changed:
        trial.lose("refused runs changed the ledgers of: %s" % ", ".join(sorted(changed)))


# ---- churn -----------------------------------------------------------------------------------------


def active_states(lab):
    """{Guid: (primary address, MailboxState)} of the tenant's active mailboxes: a rename changes the address,
    not the Guid, and a re-created mailbox under an old address has a Guid of its own."""
    tenant = lab.tenant
    states = {}
    with tenant.lock:
        for rec in tenant.recipients:
            if rec.is_mailbox and rec.is_active and rec.primary_smtp:
                aces = tuple((a.sid, tuple(sorted(a.to_json()[1])), a.deny, a.inheritance, a.inherited)
                             for a in rec.aces())
                states[rec.guid] = (rec.primary_smtp.lower(), MailboxState(
                    rec.primary_smtp.lower(), rec.guid, aces, dict(rec.automapping or {})))
    return states


def churn(lab, rng, candidates, outside):
    """Change the tenant as administrators do while a campaign runs, on mailboxes the campaign granted; returns
    {what: [address]}."""
    picked = rng.sample(sorted(candidates), 5)
    server = lab.server
    done = {"renamed": picked[:2], "converted": [picked[2]], "deleted": [picked[3]], "recreated": [picked[4]]}
    for number, address in enumerate(done["renamed"]):
        server.rename_mailbox(address, "renamed%d.%s@fabrikam.example" % (number, address.split("@")[0]))
    server.convert_to_mail_user(picked[2])
    server.delete_mailbox(picked[3])
    server.delete_mailbox(picked[4])
    server.recreate_mailbox(picked[4])
    # after the grant, an administrator gives the delegate access by hand on a mailbox outside the campaign
    server.grant_permission("full_access", outside, lab.delegate, automapping=False)
    return done


@scenario("role-revoke-churn", "tenant churn between grant and revoke, SIGKILL during the revoke, rerun",
          level="role", fast=1, long_runs=10)
def role_revoke_churn(lab, trial):
    """Grant the campaign; rename two of its mailboxes (old address removed), turn one into a mail user, delete
    one, delete another and re-create a new mailbox under its address, and grant the delegate access by hand
    outside the campaign; then kill the revoke at a random point (fast: after a removal) and rerun it. No active
    mailbox may keep access the campaign granted, access the delegate had before (or was given by hand) must stay,
    the re-created mailbox is never touched, and the ledger closes."""
    rng = random.Random(7170 + trial.index)
    size, chunk_size = campaign_size(trial, rng)
    scope, start = prepare(lab, trial, size)
    sid = lab.delegate_sid
    variables = role_vars(lab, scope, campaign_dir(lab, trial), chunk_size)
    found = pre_existing(start, scope, sid)
    grant = lab.run(GRANT_PLAYBOOK, variables)
    if not trial.expect(grant.rc == 0, "the grant before the churn failed: %s" % grant.describe()):
        return
    granted = granted_by(start, lab.snapshot(), scope, sid)
    ordinary = set(a.lower() for a in scope if a.split("@")[0] not in HARD_CASES) & granted
    outside = sorted(a for a in lab.scope(len(scope) + 20, seed=trial.index + 50) if a not in scope)[0]
    done = churn(lab, rng, ordinary, outside)
    trial.note("churn: %s; granted by hand on %s" % (
        ", ".join("%s %d" % (what, len(addresses)) for what, addresses in sorted(done.items())), outside))
    after_churn = active_states(lab)
    point = role_kill_point(trial, rng, reads=len(granted), writes=max(1, len(granted) - 4), seconds=grant.duration)
    lab.hook.clear()
    trial.note(killed_run(lab, trial, variables, point, playbook=REVOKE_PLAYBOOK, write_cmdlet=REMOVE))
    rerun = lab.run(REVOKE_PLAYBOOK, variables)
    trial.expect(rerun.rc == 0, "the revoke rerun failed: %s" % rerun.describe())
    final = active_states(lab)
    start_by_guid = dict((state.guid, state) for state in start.values())
    left, lost, others = [], [], []
    for guid, (address, state) in final.items():
        now = state.delegate_rights(sid)
        origin = start_by_guid.get(guid)
        held = origin.delegate_rights(sid) if origin is not None else set()
        if FULL_ACCESS in now and FULL_ACCESS not in held and address != outside.lower():
            left.append(address)
        if not held <= now:
            lost.append(address)
        if guid in after_churn and after_churn[guid][1].others(sid) != state.others(sid):
            others.append(address)
    if left:
        trial.problem("%d active mailboxes keep access the campaign granted: %s" % (len(left), _few(left)))
    if lost:
        trial.lose("access the delegate had before the campaign was removed on %d mailboxes: %s" % (
            len(lost), _few(lost)))
    if others:
        trial.lose("entries of other trustees changed on %d mailboxes: %s" % (len(others), _few(others)))
    hand = [state for address, state in final.values() if address == outside.lower()]
    if not hand or FULL_ACCESS not in hand[0].delegate_rights(sid):
        trial.lose("the revoke removed the FullAccess granted by hand on %s after the grant" % outside)
    recreated = [state for address, state in final.values() if address == done["recreated"][0].lower()]
    if recreated and recreated[0].delegate_rights(sid):
        trial.lose("the revoke touched the mailbox re-created under %s" % done["recreated"][0])
    ledger = read_ledger(trial, variables["archive_access_ledger"], lab)
    if ledger is not None:
        trial.expect(ledger["closed"] and not ledger["open"], "the revoke did not close the campaign (open: %s)" % (
            _few(ledger["open"])))
        unrecorded = set(found) - set(a.lower() for a in ledger["pre_existing"])
        if unrecorded:
            trial.lose("the ledger lost the pre-existing access of %s" % _few(unrecorded))
