# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module-level rows of the fault matrix: m365.exchange.mailbox_permission and mailbox_info under faults.

Every grant trial starts from the initial tenant plus seeded pre-existing access of the delegate
(FullAccess with AutoMapping on some mailboxes, ReadPermission alone on others), runs the grant
playbook under the fault, reruns it when the first run could not finish, and then checks the tenant
(every scope mailbox has exactly the delegate's FullAccess added, nothing else changed), the truth of
each module result, and, where a journal is kept, its first read line per mailbox.
"""

import email.utils
import json
import os
import random
import signal
import subprocess
import time

from exo_emulator.cmdlets import CMDLETS, Invocation
from exo_emulator.params import bind

from faultlab.judge import FULL_ACCESS, check_granted, check_journal, check_result, check_revoked
from faultlab.lab import kill_group, signal_group
from faultlab.registry import scenario

GRANT = "grant.yml"
SELECT = "select.yml"


# ---- helpers -------------------------------------------------------------------------------------


def prepare(lab, trial, size, **faults):
    """A fresh tenant with seeded pre-existing access; returns (scope, snapshot)."""
    lab.reset(**faults)
    scope = lab.scope(size, seed=trial.index + 1)
    rng = random.Random(1000 + trial.index)
    picked = rng.sample(scope, max(2, len(scope) // 12))
    half = len(picked) // 2
    lab.pre_grant(picked[:half], [FULL_ACCESS], automapping=True)
    lab.pre_grant(picked[half:], ["ReadPermission"])
    return scope, lab.snapshot()


def grant_vars(lab, scope, journal=None, state="present"):
    variables = {"fault_scope": scope, "fault_delegate": lab.delegate, "fault_state": state}
    if journal:
        variables["fault_journal"] = journal
    return variables


def pre_existing(snapshot, scope, sid):
    return set(a.lower() for a in scope if FULL_ACCESS in snapshot[a.lower()].delegate_rights(sid))


def grant_run(lab, trial, scope, before, label, connection=None, journal=None, expect_success=True):
    """One grant run, judged against the tenant before and after it; returns (run, snapshot after)."""
    run = lab.run(GRANT, grant_vars(lab, scope, journal), connection=connection)
    after = lab.snapshot()
    check_result(trial, run, scope, before, after, lab.delegate_sid, label=label)
    if expect_success and run.rc != 0:
        trial.problem("%s did not succeed: %s" % (label, run.describe()))
    return run, after


def rerun_until_done(lab, trial, scope, before, connection=None, journal=None, attempts=2):
    """Rerun the grant (no faults) until it succeeds; returns the final snapshot."""
    after = before
    for attempt in range(attempts):
        run, after = grant_run(lab, trial, scope, before, "rerun %d" % (attempt + 1), connection, journal,
                               expect_success=False)
        before = after
        if run.rc == 0:
            return after
    trial.problem("the grant did not succeed after %d reruns" % attempts)
    return after


def executed(lab, cmdlet):
    return lab.counters()["cmdlets"].get(cmdlet, 0)


def mailbox_truth(lab, **parameters):
    """The primary SMTP addresses Get-Mailbox returns, asked of the emulator directly (no HTTP, no faults)."""
    spec = CMDLETS["get-mailbox"]
    params = bind(spec.params, dict(parameters, ResultSize="Unlimited"))
    tenant = lab.tenant
    with tenant.lock:
        items = spec.handler(Invocation(tenant, spec.name, params, lab.server.app.faults.get("row_shapes"))).items
        return sorted(item.primary_smtp.lower() for item in items)


def selected(run):
    return sorted(m.get("primary_smtp_address", "").lower() for m in (run.result or {}).get("mailboxes") or [])


# ---- throttling ------------------------------------------------------------------------------------


@scenario("throttle-storm", "429 storm, fractional Retry-After (30% of cmdlets)", fast=1, long_runs=3)
def throttle_storm(lab, trial):
    """A third of all cmdlets are throttled with Retry-After: 0.25; the run completes, nothing counted twice."""
    scope, start = prepare(lab, trial, trial.size(80, 600), throttle_rate=0.3, throttle_retry_after="0.25",
                           seed=trial.index + 1)
    run, after = grant_run(lab, trial, scope, start, "run")
    counters = lab.counters()
    trial.expect(counters["throttled"] > 0, "the emulator throttled nothing")
    summary = (run.result or {}).get("summary") or {}
    trial.expect(executed(lab, "Add-MailboxPermission") == summary.get("added"),
                 "executed Add-MailboxPermission %s times for %s added" % (
                     executed(lab, "Add-MailboxPermission"), summary.get("added")))
    trial.note("%d throttled responses" % counters["throttled"])
    check_granted(trial, start, after, scope, lab.delegate_sid)


@scenario("concurrency-cap", "429 'maximum number of concurrent requests' (cap 2)", fast=1, long_runs=3)
def concurrency_cap(lab, trial):
    """The tenant runs 2 cmdlets at once and refuses more at once with Retry-After: 0.05."""
    scope, start = prepare(lab, trial, trial.size(80, 600), concurrency_limit=2, concurrency_retry_after="0.05",
                           latency_ms=5)
    run, after = grant_run(lab, trial, scope, start, "run")
    counters = lab.counters()
    trial.expect(counters["max_concurrency_seen"] <= 2, "the cap was exceeded")
    trial.expect(counters["throttled"] > 0, "the cap never refused a cmdlet")
    summary = (run.result or {}).get("summary") or {}
    trial.expect(executed(lab, "Add-MailboxPermission") == summary.get("added"), "writes were double-counted")
    trial.note("%d refusals at the cap" % counters["throttled"])
    check_granted(trial, start, after, scope, lab.delegate_sid)


@scenario("retry-after-large", "429 with a large Retry-After (3 s; 8 s long) is honoured", fast=1, long_runs=2)
def retry_after_large(lab, trial):
    """One write is throttled with a large Retry-After; the run waits for it and completes."""
    wait = 8 if trial.long else 3
    scope, start = prepare(lab, trial, trial.size(40, 300))
    lab.server.add_fault_rule(match={"cmdlet": "Add-MailboxPermission"}, fault="throttle", retry_after=str(wait))
    run, after = grant_run(lab, trial, scope, start, "run")
    trial.expect(run.duration >= wait, "the run took %.1f s: it did not wait the %d s Retry-After" % (run.duration, wait))
    check_granted(trial, start, after, scope, lab.delegate_sid)


@scenario("retry-after-date", "429 with Retry-After as an HTTP date", fast=1, long_runs=1, ci=False)
def retry_after_date(lab, trial):
    """Retry-After given as an HTTP date (RFC 7231) two seconds ahead."""
    scope, start = prepare(lab, trial, trial.size(40, 300))
    lab.server.add_fault_rule(match={"cmdlet": "Add-MailboxPermission"}, fault="throttle",
                              retry_after=email.utils.formatdate(time.time() + 3, usegmt=True))
    run, after = grant_run(lab, trial, scope, start, "run")
    trial.expect(run.result is not None and (run.result.get("api_stats") or {}).get("throttled", 0) >= 1,
                 "the module saw no 429")
    check_granted(trial, start, after, scope, lab.delegate_sid)


@scenario("retry-after-beyond-budget", "429 with Retry-After 3600 s (beyond the retry budget)", fast=1, long_runs=2)
def retry_after_beyond_budget(lab, trial):
    """One mailbox's write is throttled for an hour: the run does not hang, reports exactly that mailbox as
    failed (and it is not granted), and a rerun finishes the job."""
    scope, start = prepare(lab, trial, trial.size(40, 300))
    sid = lab.delegate_sid
    target = [a for a in scope if FULL_ACCESS not in start[a.lower()].delegate_rights(sid)][3]
    lab.server.add_fault_rule(match={"cmdlet": "Add-MailboxPermission", "identity": target}, fault="throttle",
                              retry_after="3600")
    run, after = grant_run(lab, trial, scope, start, "run 1", expect_success=False)
    trial.expect(run.rc != 0 and run.duration < 120, "run 1 should fail fast: %s" % run.describe())
    failed = [e["identity"] for e in (run.result or {}).get("results") or [] if e.get("action") == "failed"]
    trial.expect(failed == [target], "run 1 should report exactly %s as failed, reported %s" % (target, failed))
    trial.expect("429" in (run.result or {}).get("msg", ""), "run 1's message does not say it was throttled")
    final = rerun_until_done(lab, trial, scope, after)
    check_granted(trial, start, final, scope, sid)


# ---- server errors and connection resets --------------------------------------------------------------


@scenario("server-errors", "5xx on reads and writes (10% + whole $batch 503s)", fast=1, long_runs=3)
def server_errors(lab, trial):
    """Random 500/502/503/504 on 10% of cmdlets, plus two whole $batch requests answered 503."""
    scope, start = prepare(lab, trial, trial.size(60, 500), error_rate=0.1, seed=trial.index + 7)
    lab.server.add_fault_rules([{"match": {"endpoint": "batch"}, "fault": "error", "status": 503, "times": 2},
                                {"match": {"cmdlet": "Get-Recipient"}, "fault": "error", "status": 502}])
    run, after = grant_run(lab, trial, scope, start, "run")
    trial.note("%d server errors injected" % lab.counters()["errors_injected"])
    trial.expect(lab.counters()["errors_injected"] > 0, "no error was injected")
    trial.expect(run.rc == 0 or run.result is not None, "no result")
    check_granted(trial, start, after, scope, lab.delegate_sid)


@scenario("reset-reads", "connection reset on reads", fast=1, long_runs=3)
def reset_on_reads(lab, trial):
    """Connections dropped before reads ran (Get-Recipient, Get-MailboxPermission, whole $batch requests)."""
    scope, start = prepare(lab, trial, trial.size(60, 500))
    lab.server.add_fault_rules([{"match": {"cmdlet": "Get-MailboxPermission"}, "fault": "reset", "times": 3},
                                {"match": {"cmdlet": "Get-Recipient"}, "fault": "reset", "times": 1},
                                {"match": {"endpoint": "batch"}, "fault": "reset", "times": 1}])
    after = grant_run(lab, trial, scope, start, "run")[1]
    trial.expect(lab.counters()["resets"] >= 5, "fewer resets than scripted: %d" % lab.counters()["resets"])
    check_granted(trial, start, after, scope, lab.delegate_sid)


@scenario("reset-writes", "connection reset on writes (before the write ran)", fast=1, long_runs=3)
def reset_on_writes(lab, trial):
    """Connections dropped before Add-MailboxPermission ran."""
    scope, start = prepare(lab, trial, trial.size(60, 500))
    lab.server.add_fault_rule(match={"cmdlet": "Add-MailboxPermission"}, fault="reset", times=3)
    run, after = grant_run(lab, trial, scope, start, "run")
    summary = (run.result or {}).get("summary") or {}
    trial.expect(executed(lab, "Add-MailboxPermission") == summary.get("added"), "writes were double-counted")
    check_granted(trial, start, after, scope, lab.delegate_sid)


@scenario("reset-after-write", "connection reset after the server applied a write", fast=1, long_runs=3)
def reset_after_write(lab, trial):
    """The write is applied, then the connection drops before the answer: the resent write finds the entry
    present; the result still says 'added' (this run did grant it), and no entry is duplicated."""
    faults = {"reset_after_write_rate": 0.05, "seed": trial.index + 3} if trial.long else {}
    scope, start = prepare(lab, trial, trial.size(60, 500), **faults)
    lab.server.add_fault_rule(match={"cmdlet": "Add-MailboxPermission"}, fault="reset_after_write", times=3)
    run, after = grant_run(lab, trial, scope, start, "run")
    summary = (run.result or {}).get("summary") or {}
    resent = executed(lab, "Add-MailboxPermission") - (summary.get("added") or 0)
    trial.expect(resent > 0, "no write was resent after a reset")
    trial.note("%d writes applied twice by the server (already present the second time)" % resent)
    check_granted(trial, start, after, scope, lab.delegate_sid)


# ---- tokens and credentials ----------------------------------------------------------------------------


@scenario("token-expiry", "token expiry mid-run (2 s tokens)", fast=1, long_runs=2)
def token_expiry(lab, trial):
    """Tokens live 2 s and the run lasts longer: the module renews (or is refused once and renews)."""
    scope, start = prepare(lab, trial, trial.size(100, 500), token_lifetime=2, latency_ms=20, concurrency_limit=4,
                           concurrency_retry_after="0.05")
    run, after = grant_run(lab, trial, scope, start, "run")
    issued = lab.counters()["tokens_issued"]
    if run.duration > 6:
        trial.expect(issued >= 2, "a %.1f s run with 2 s tokens used %d token" % (run.duration, issued))
    trial.note("%d tokens in a %.0f s run" % (issued, run.duration))
    check_granted(trial, start, after, scope, lab.delegate_sid)


@scenario("token-rejected", "401 mid-run (the service rejects the token once)", fast=1, long_runs=2)
def token_rejected(lab, trial):
    """After the 5th write the next $batch is answered 401: the module gets a new token and goes on."""
    scope, start = prepare(lab, trial, trial.size(60, 500))
    lab.hook.after("Add-MailboxPermission", 5, lambda: lab.server.add_fault_rule(
        match={"endpoint": "batch"}, fault="error", status=401))
    run, after = grant_run(lab, trial, scope, start, "run")
    trial.expect(lab.counters()["tokens_issued"] == 2, "expected 2 tokens, got %d" % lab.counters()["tokens_issued"])
    trial.expect(((run.result or {}).get("api_stats") or {}).get("token_renewals") == 1, "no token renewal reported")
    check_granted(trial, start, after, scope, lab.delegate_sid)


@scenario("secret-revoked", "client secret revoked mid-run, then rotated", fast=1, long_runs=2)
def secret_revoked(lab, trial):
    """After a third of the writes the app's secret is revoked and the token rejected: the run stops with a
    clear message, its result and journal tell the truth; a rerun with a new secret finishes the job."""
    scope, start = prepare(lab, trial, trial.size(90, 600))
    sid = lab.delegate_sid
    journal = lab.workdir + "/journal-secret-%d.jsonl" % trial.index
    to_grant = sum(1 for a in scope if FULL_ACCESS not in start[a.lower()].delegate_rights(sid))
    client_id = lab.connection["client_id"]

    def revoke():
        lab.server.update_app(client_id, revoke_secret=True)
        lab.server.add_fault_rule(match={"endpoint": "batch"}, fault="error", status=401)

    lab.hook.after("Add-MailboxPermission", max(1, to_grant // 3), revoke)
    run, after = grant_run(lab, trial, scope, start, "run 1", journal=journal, expect_success=False)
    message = (run.result or {}).get("msg", "")
    trial.expect(run.rc != 0, "run 1 succeeded although the secret was revoked")
    trial.expect("AADSTS7000222" in message and "revoked" in message,
                 "run 1's message does not name the revoked secret: %s" % message[:300])
    rotated = "emu8Q~rotated-%d-%d" % (trial.index, int(time.time()))
    lab.server.update_app(client_id, add_secret=rotated)
    final = rerun_until_done(lab, trial, scope, after, connection={"EXO_CLIENT_SECRET": rotated}, journal=journal)
    check_granted(trial, start, final, scope, sid)
    check_journal(trial, journal, scope, pre_existing(start, scope, sid))


@scenario("token-endpoint-error", "Entra ID token endpoint 503 / reset", fast=1, long_runs=2)
def token_endpoint_error(lab, trial):
    """The token request fails once (503, or a dropped connection): the run either copes or fails clearly
    without writing; a rerun finishes the job."""
    scope, start = prepare(lab, trial, trial.size(30, 200))
    fault = "reset" if trial.index % 2 else "error"
    lab.server.add_fault_rule(match={"endpoint": "token"}, fault=fault, status=503)
    run, after = grant_run(lab, trial, scope, start, "run 1", expect_success=False)
    if run.rc != 0:
        message = (run.result or {}).get("msg", "")
        trial.expect("Entra ID" in message, "run 1 failed without naming Entra ID: %s" % message[:300])
        trial.note("a failed token request is not retried: the run fails clearly and is rerun")
        after = rerun_until_done(lab, trial, scope, after)
    check_granted(trial, start, after, scope, lab.delegate_sid)


# ---- paging --------------------------------------------------------------------------------------------


@scenario("page-expiry", "page link expires during a long Get-Mailbox", fast=1, long_runs=3)
def page_expiry(lab, trial):
    """The second page's link has expired: mailbox_info reads again and returns the complete list."""
    lab.reset()
    truth = mailbox_truth(lab)
    lab.server.add_fault_rule(fault="expire_page", times=1)
    run = lab.run(SELECT, {})
    trial.expect(len(truth) > 1000, "the tenant is too small to page (%d mailboxes)" % len(truth))
    trial.expect(run.rc == 0, "mailbox_info failed: %s" % run.describe())
    got = selected(run)
    if run.rc == 0 and got != truth:
        trial.lose("mailbox_info returned %d of %d mailboxes as complete" % (len(got), len(truth)))
    trial.expect(lab.counters()["pages_served"] >= 2, "the read was not paged")
    trial.expect(not lab.server.faults()["rules"], "the page link never expired")


@scenario("page-links-refused", "page links always refused (never a partial list)", fast=1, long_runs=2)
def page_links_refused(lab, trial):
    """Every nextLink is refused: mailbox_info fails clearly (no partial list); where the service can answer
    unpaged it returns everything; without the fault the read is complete again."""
    lab.reset(nextlink_broken=True)
    truth = mailbox_truth(lab)
    run = lab.run(SELECT, {})
    message = (run.result or {}).get("msg", "")
    if run.rc == 0:
        trial.lose("mailbox_info succeeded with %d of %d mailboxes although every page link was refused" % (
            len(selected(run)), len(truth)))
    else:
        trial.expect("run the task again" in message, "the failure does not say what to do: %s" % message[:300])
        trial.expect(selected(run) == [], "a failed read returned mailboxes")
    lab.server.set_faults(default_page_size=0)
    unpaged = lab.run(SELECT, {})
    trial.expect(unpaged.rc == 0 and selected(unpaged) == truth, "the unpaged fallback did not return everything: %s" %
                 unpaged.describe())
    lab.reset()
    clean = lab.run(SELECT, {})
    trial.expect(clean.rc == 0 and selected(clean) == truth, "the read without faults is incomplete")


# ---- SIGKILL -----------------------------------------------------------------------------------------


def kill_point(trial, rng, to_read, to_write):
    """Where to kill this trial's first run: right after the n-th read or write the emulator executes, or at a
    time from the start of ansible-playbook (which covers its start-up, the reads and the writes)."""
    kinds = ["time", "read", "write", "write"]
    kind = kinds[trial.index % len(kinds)] if trial.index < len(kinds) else rng.choice(kinds)
    if kind == "read":
        return kind, rng.randint(1, max(1, to_read))
    if kind == "write":
        return kind, rng.randint(1, max(1, to_write))
    return kind, round(rng.uniform(0.3, 1.5 + (to_read + to_write) / 400.0), 2)


def killed_run(lab, trial, variables, point, playbook=GRANT, write_cmdlet=None):
    """Start the playbook and SIGKILL its process group at the kill point; returns a description."""
    process, _result_dir, started = lab.start(playbook, variables)
    kind, value = point
    if kind in ("read", "write"):
        cmdlet = "Get-MailboxPermission" if kind == "read" else write_cmdlet or (
            "Add-MailboxPermission" if variables["fault_state"] == "present" else "Remove-MailboxPermission")
        lab.hook.after(cmdlet, value, lambda: signal_group(process))
        timeout = 300.0
    else:
        timeout = value
    try:
        process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    gone = kill_group(process)
    process.communicate()
    trial.expect(gone, "processes of the killed run survived SIGKILL")
    lab.hook.clear()
    # requests the run sent before it died are still served: judge the tenant only after the last one
    trial.expect(lab.traffic.wait_until_quiet(), "the emulator kept serving the killed run's requests")
    elapsed = time.monotonic() - started
    if process.returncode != -9:
        return "%s %s: finished before the kill point (rc %s, %.1f s)" % (kind, value, process.returncode, elapsed)
    return "killed at %s %s (%.1f s)" % (kind, value, elapsed)


@scenario("sigkill-grant", "SIGKILL at random points during a grant (journal), then rerun", fast=3, long_runs=20)
def sigkill_grant(lab, trial):
    """Kill the ansible-playbook process group at a random point of a 500-2,000-mailbox grant (fast: 300),
    rerun, and check the tenant, the rerun's result and the journal's first read line per mailbox."""
    rng = random.Random(4242 + trial.index)
    size = rng.randint(500, 2000) if trial.long else 300
    scope, start = prepare(lab, trial, size)
    sid = lab.delegate_sid
    journal = lab.workdir + "/journal-kill-%d.jsonl" % trial.index
    to_grant = sum(1 for a in scope if FULL_ACCESS not in start[a.lower()].delegate_rights(sid))
    point = kill_point(trial, rng, len(scope), to_grant)
    trial.note(killed_run(lab, trial, grant_vars(lab, scope, journal), point))
    final = rerun_until_done(lab, trial, scope, lab.snapshot(), journal=journal)
    check_granted(trial, start, final, scope, sid)
    check_journal(trial, journal, scope, pre_existing(start, scope, sid))


@scenario("sigkill-revoke", "SIGKILL at random points during a revoke, then rerun", fast=1, long_runs=20)
def sigkill_revoke(lab, trial):
    """Grant, then kill a revoke of the same scope at a random point, rerun it, and check that the delegate's
    FullAccess is gone everywhere in the scope while every other entry is kept."""
    rng = random.Random(777 + trial.index)
    size = rng.randint(500, 2000) if trial.long else 200
    scope = prepare(lab, trial, size)[0]
    sid = lab.delegate_sid
    lab.pre_grant(scope, [FULL_ACCESS], automapping=False)
    granted = lab.snapshot()
    journal = lab.workdir + "/journal-revoke-%d.jsonl" % trial.index
    point = kill_point(trial, rng, len(scope), len(scope))
    trial.note(killed_run(lab, trial, grant_vars(lab, scope, journal, state="absent"), point))
    before = lab.snapshot()
    run = lab.run(GRANT, grant_vars(lab, scope, journal, state="absent"))
    final = lab.snapshot()
    check_result(trial, run, scope, before, final, sid, state="absent", label="rerun")
    trial.expect(run.rc == 0, "the revoke rerun failed: %s" % run.describe())
    check_revoked(trial, granted, final, scope, sid)
    check_journal(trial, journal, scope, set(a.lower() for a in scope), state="absent")


@scenario("controller-sigkill", "SIGKILL of ansible-playbook alone: the module stops writing within seconds, rerun",
          fast=1, long_runs=5)
def controller_sigkill(lab, trial):
    """Kill only the ansible-playbook process (its worker and the module live on, as after a crash of the
    controller) once the grant has written a few mailboxes. The module must notice and stop dispatching within a
    few seconds, instead of writing for minutes that nobody can stop; the rerun finishes the job."""
    size = trial.size(800, 3000)
    scope, start = prepare(lab, trial, size, latency_ms=50, concurrency_limit=4)
    sid = lab.delegate_sid
    journal = lab.workdir + "/journal-controller-%d.jsonl" % trial.index
    process, _result_dir, _started = lab.start(GRANT, grant_vars(lab, scope, journal))
    killed = []
    lab.hook.after("Add-MailboxPermission", 20 + trial.index * 7,
                   lambda: killed.append((os.kill(process.pid, signal.SIGKILL), time.monotonic(),
                                          executed(lab, "Add-MailboxPermission"))))
    process.communicate(timeout=300)
    lab.hook.clear()
    trial.expect(bool(killed), "the grant finished before the kill point")
    quiet = lab.traffic.wait_until_quiet()
    stopped_at = time.monotonic()
    writes_after = executed(lab, "Add-MailboxPermission") - (killed[0][2] if killed else 0)
    trial.expect(quiet, "the module kept sending after its controller was killed")
    # what Ansible leaves after its controller's SIGKILL: the worker, blocked on the result pipe for ever
    kill_group(process)
    trial.note("killed after %s writes; %d more writes, quiet %.1f s after the kill" % (
        killed[0][2] if killed else "?", writes_after, stopped_at - killed[0][1] if killed else 0))
    trial.expect(writes_after < size // 4, "the module went on writing after its controller was killed: %d writes"
                 % writes_after)
    final = rerun_until_done(lab, trial, scope, lab.snapshot(), journal=journal)
    check_granted(trial, start, final, scope, sid)
    check_journal(trial, journal, scope, pre_existing(start, scope, sid))


@scenario("journal-torn-line", "SIGKILL inside the journal append (torn last line), then rerun", fast=1, long_runs=3)
def journal_torn_line(lab, trial):
    """A run killed while appending its read lines leaves a torn last line and writes nothing. The rerun appends
    to that file: its lines must still tell pre-existing from granted for every mailbox. Built deterministically:
    the torn batch is written the way Journal.append writes it, cut in the middle of a line."""
    scope, start = prepare(lab, trial, trial.size(40, 300))
    sid = lab.delegate_sid
    journal = lab.workdir + "/journal-torn-%d.jsonl" % trial.index
    granted = [a for a in scope if FULL_ACCESS not in start[a.lower()].delegate_rights(sid)]
    # the rerun's first read line lands on the torn one; make the mailbox of that line one the rerun grants
    order = [granted[trial.index % len(granted)]] + [a for a in scope if a != granted[trial.index % len(granted)]]
    complete = trial.index % 3  # how many lines of the killed batch were complete
    lines = [json.dumps({"at": "2026-01-01T00:00:00.000000Z", "event": "read", "mailbox": address,
                         "rights": sorted(start[address.lower()].delegate_rights(sid)), "state": "present",
                         "trustee": lab.delegate}, sort_keys=True, separators=(",", ":")) + "\n"
             for address in order[1:complete + 2]]
    with open(journal, "w", encoding="utf-8") as handle:
        handle.write("".join(lines[:complete]) + lines[complete][:len(lines[complete]) // 2])
    os.chmod(journal, 0o600)
    final = rerun_until_done(lab, trial, order, lab.snapshot(), journal=journal)
    check_granted(trial, start, final, scope, sid)
    check_journal(trial, journal, scope, pre_existing(start, scope, sid))
