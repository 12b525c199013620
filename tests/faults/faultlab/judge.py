# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judging a trial: the tenant against its expected state, a module result and a journal against the tenant.

Two kinds of finding:

* a *problem*: the trial did not converge (a mailbox lacks the access it should have, a run hung or
  crashed, a failure was unclear);
* a *loss*: something true was lost or misreported: a pre-existing entry removed or changed, a result
  or journal line that contradicts the tenant, a partial list returned as complete.
"""

import collections
import json

FULL_ACCESS = "FullAccess"


class Trial:
    """One run of a scenario: what it found."""

    def __init__(self, scenario, index, long_mode=False):
        self.scenario = scenario
        self.index = index
        self.long = long_mode
        self.problems = []
        self.losses = []
        self.notes = []

    @property
    def converged(self):
        return not self.problems and not self.losses

    @property
    def data_lost(self):
        return bool(self.losses)

    def size(self, fast, long_size):
        return long_size if self.long else fast

    def problem(self, text):
        self.problems.append(text)

    def lose(self, text):
        self.losses.append(text)

    def note(self, text):
        self.notes.append(text)

    def expect(self, condition, text):
        if not condition:
            self.problem(text)
        return bool(condition)

    def findings(self, limit=6):
        items = ["LOST: " + text for text in self.losses] + self.problems
        shown = items[:limit]
        if len(items) > limit:
            shown.append("... and %d more" % (len(items) - limit))
        return shown


def _few(items, limit=5):
    items = sorted(items)
    text = ", ".join(items[:limit])
    return text + (" and %d more" % (len(items) - limit) if len(items) > limit else "")


def _lost_entries(old, new):
    """Entries of old that new does not have (by value)."""
    remaining = collections.Counter(new.aces)
    lost = []
    for ace in old.aces:
        if remaining[ace]:
            remaining[ace] -= 1
        else:
            lost.append(ace)
    return lost


def check_outside_scope(trial, before, after, scope_keys):
    changed, lost = [], []
    for key, old in before.items():
        if key in scope_keys:
            continue
        new = after.get(key)
        if new is None:
            lost.append(key)
        elif _lost_entries(old, new) or set(old.automapping) - set(new.automapping):
            lost.append(key)
        elif old.aces != new.aces or old.automapping != new.automapping:
            changed.append(key)
    if lost:
        trial.lose("entries lost on %d mailboxes outside the scope: %s" % (len(lost), _few(lost)))
    if changed:
        trial.problem("%d mailboxes outside the scope changed: %s" % (len(changed), _few(changed)))


def _other_automapping(state, sid):
    return dict((key, value) for key, value in state.automapping.items() if key != sid)


def check_granted(trial, before, after, scope, sid):
    """Every scope mailbox: the delegate holds FullAccess explicitly (plus what it held), nothing else changed."""
    scope_keys = set(address.lower() for address in scope)
    missing, extra, duplicated, mapped, others, pre_lost = [], [], [], [], [], []
    for key in scope_keys:
        old, new = before.get(key), after.get(key)
        if old is None or new is None:
            trial.problem("mailbox %s is not in the tenant" % key)
            continue
        held, now = old.delegate_rights(sid), new.delegate_rights(sid)
        if old.others(sid) != new.others(sid) or _other_automapping(old, sid) != _other_automapping(new, sid):
            others.append(key)
        if not held <= now:
            pre_lost.append(key)
        if FULL_ACCESS not in now:
            missing.append(key)
        elif now != held | {FULL_ACCESS}:
            extra.append(key)
        if new.explicit_allow_count(sid) > max(1, old.explicit_allow_count(sid)):
            duplicated.append(key)
        if FULL_ACCESS not in held and new.automapping.get(sid) is True:
            mapped.append(key)
        if FULL_ACCESS in held and new.automapping.get(sid) != old.automapping.get(sid):
            others.append(key)
    if missing:
        trial.problem("%d of %d scope mailboxes lack the delegate's FullAccess: %s" % (
            len(missing), len(scope_keys), _few(missing)))
    if extra:
        trial.problem("%d mailboxes got more rights than FullAccess: %s" % (len(extra), _few(extra)))
    if duplicated:
        trial.problem("%d mailboxes hold duplicate entries for the delegate: %s" % (len(duplicated), _few(duplicated)))
    if mapped:
        trial.problem("%d newly granted mailboxes have AutoMapping on: %s" % (len(mapped), _few(mapped)))
    if others:
        trial.lose("entries of other trustees (or pre-existing AutoMapping) changed on %d mailboxes: %s" % (
            len(others), _few(others)))
    if pre_lost:
        trial.lose("the delegate's pre-existing rights were reduced on %d mailboxes: %s" % (len(pre_lost), _few(pre_lost)))
    check_outside_scope(trial, before, after, scope_keys)


def check_revoked(trial, before, after, scope, sid):
    """Every scope mailbox: the delegate holds no explicit FullAccess; its other rights and everything else kept."""
    scope_keys = set(address.lower() for address in scope)
    still, others, reduced = [], [], []
    for key in scope_keys:
        old, new = before[key], after[key]
        held, now = old.delegate_rights(sid), new.delegate_rights(sid)
        if FULL_ACCESS in now:
            still.append(key)
        if now != held - {FULL_ACCESS} and FULL_ACCESS not in now:
            reduced.append(key)
        if old.others(sid) != new.others(sid):
            others.append(key)
    if still:
        trial.problem("%d of %d scope mailboxes still grant the delegate FullAccess: %s" % (
            len(still), len(scope_keys), _few(still)))
    if reduced:
        trial.lose("the delegate lost rights other than FullAccess on %d mailboxes: %s" % (len(reduced), _few(reduced)))
    if others:
        trial.lose("entries of other trustees changed on %d mailboxes: %s" % (len(others), _few(others)))
    check_outside_scope(trial, before, after, scope_keys)


def check_result(trial, run, scope, before, after, sid, state="present", label="run"):
    """The module's result must tell the truth about this run: per mailbox, in the summary, in `changed`."""
    result = run.result
    if result is None:
        trial.problem("%s: no module result (%s)" % (label, run.describe()))
        return None
    if "MODULE FAILURE" in (result.get("msg") or "") or "Traceback" in (result.get("module_stderr") or ""):
        trial.problem("%s: the module crashed: %s" % (label, (result.get("msg") or "")[:300]))
        return None
    entries = result.get("results")
    scope_keys = [address.lower() for address in scope]
    if entries is None:
        # failed before the mailboxes were read: nothing may have been written by this run
        written = [key for key in scope_keys if before[key].aces != after[key].aces]
        if written:
            trial.lose("%s failed without per-mailbox results but %d mailboxes changed: %s" % (
                label, len(written), _few(written)))
        return result
    identities = [str(entry.get("identity", "")).lower() for entry in entries]
    if sorted(identities) != sorted(set(scope_keys)):
        trial.lose("%s: results list %d identities for a scope of %d" % (label, len(identities), len(set(scope_keys))))
    counts = collections.Counter(entry.get("action") for entry in entries)
    summary = result.get("summary") or {}
    if any(summary.get(action, 0) != counts.get(action, 0) for action in set(summary) | set(counts)):
        trial.lose("%s: summary %s does not match the results %s" % (label, summary, dict(counts)))
    if sum(summary.values()) != len(entries):
        trial.lose("%s: summary counts %d outcomes for %d mailboxes" % (label, sum(summary.values()), len(entries)))
    lies = []
    for entry in entries:
        key = str(entry.get("identity", "")).lower()
        if key not in before or key not in after:
            continue
        lie = _entry_lie(entry, before[key].delegate_rights(sid), after[key].delegate_rights(sid), state)
        if lie:
            lies.append("%s %s" % (key, lie))
    if lies:
        trial.lose("%s: %d results contradict the tenant: %s" % (label, len(lies), _few(lies, 3)))
    changes = counts.get("added", 0) + counts.get("removed", 0)
    if bool(result.get("changed")) != bool(changes):
        trial.lose("%s: changed=%s but %d mailboxes were changed" % (label, result.get("changed"), changes))
    # the playbook has this one task: its exit code says whether the task failed
    task_failed = bool(result.get("failed")) or run.rc not in (0, None)
    if counts.get("failed", 0) and not task_failed:
        trial.lose("%s: succeeded although %d mailboxes failed" % (label, counts["failed"]))
    return result


def _entry_lie(entry, held, now, state):
    """Why one result entry contradicts the tenant (held: rights before the run, now: after), or None."""
    action = entry.get("action")
    if action == "added":
        if FULL_ACCESS in held or FULL_ACCESS not in now:
            return "reported added (held before: %s, now: %s)" % (sorted(held), sorted(now))
    elif action == "removed":
        if FULL_ACCESS not in held or FULL_ACCESS in now:
            return "reported removed (held before: %s, now: %s)" % (sorted(held), sorted(now))
    elif action == "unchanged":
        if (FULL_ACCESS in held) != (state == "present") or held != now:
            return "reported unchanged (held before: %s, now: %s)" % (sorted(held), sorted(now))
    elif action == "skipped":
        if held != now:
            return "reported skipped (not attempted) but was written"
    elif action == "failed":
        if held != now and "may or may not" not in (entry.get("error") or ""):
            return "reported failed (%s) but was written" % (entry.get("error") or "")[:120]
    else:
        return "has an unknown action %r" % action
    if action in ("added", "removed", "unchanged") and sorted(entry.get("after") or []) != sorted(now):
        return "reports after=%s, the tenant holds %s" % (entry.get("after"), sorted(now))
    return None


def read_journal(trial, path):
    """The journal's events. A line that is not a JSON object (torn by a kill inside an append) is skipped and
    noted; what it costs shows in check_journal."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
    except OSError:
        return []
    events = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if isinstance(event, dict):
            events.append(event)
        else:
            where = "the last line" if number >= len(lines) - 1 else "line %d of %d" % (number, len(lines) - 1)
            trial.note("the journal has a torn line (%s): %r" % (where, line[:60]))
    return events


def check_journal(trial, path, scope, pre_existing, state="present", names=None):
    """The first 'read' line of each mailbox must tell pre-existing access from access the runs granted.

    names maps the journal's identities to the scope's addresses, for a journal written with other identities
    (the archive_access role addresses mailboxes by their IDs; its ledger records each one's address)."""
    first = {}
    names = dict((str(k).lower(), str(v).lower()) for k, v in (names or {}).items())
    for event in read_journal(trial, path):
        if event.get("event") == "read" and event.get("state") == state:
            mailbox = str(event.get("mailbox", "")).lower()
            first.setdefault(names.get(mailbox, mailbox), event)
    unread, unrecorded, wrong = [], [], []
    for address in set(a.lower() for a in scope):
        event = first.get(address)
        if event is None:
            (unread if address in pre_existing else unrecorded).append(address)
        elif (FULL_ACCESS in (event.get("rights") or [])) != (address in pre_existing):
            wrong.append("%s (%s, read %s)" % (address, "pre-existing" if address in pre_existing else "granted",
                                               event.get("rights")))
    if unread:
        trial.problem("the journal has no read line for %d scope mailboxes: %s" % (len(unread), _few(unread)))
    if unrecorded:
        trial.lose("%d mailboxes the runs granted have no read line, so a revoke by the journal would leave their "
                   "access in place: %s" % (len(unrecorded), _few(unrecorded)))
    if wrong:
        trial.lose("the journal's first read misclassifies %d mailboxes: %s" % (len(wrong), _few(wrong, 3)))
