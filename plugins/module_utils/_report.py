# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The result of a bulk module: `summary`, one `results` entry per mailbox, `diff`, and the failure message."""

ACTIONS = ("added", "removed", "changed", "unchanged", "failed", "skipped", "gone")
CHANGED = ("added", "removed", "changed")


def first_errors(entries, limit=5):
    """The first distinct errors of entries, each with how many mailboxes it concerns."""
    counts = {}
    for entry in entries:
        counts[entry["error"]] = counts.get(entry["error"], 0) + 1
    shown = ["%s%s" % (error, " (%d mailboxes)" % count if count > 1 else "") for error, count in counts.items()]
    return "; ".join(shown[:limit])


class BulkReport:
    """Turns the changes and outcomes of a BulkRun into the module's result."""

    def __init__(self, module, delegation):
        self.module = module
        self.delegation = delegation

    @staticmethod
    def entry(change):
        target = change.target
        entry = {"identity": target.identity, "primary_smtp_address": target.primary_smtp_address,
                 "action": change.action, "before": change.before,
                 "after": change.before if change.action in ("failed", "skipped") else change.after}
        if target.aliases:
            entry["aliases"] = list(target.aliases)
        if change.error and change.action in ("failed", "skipped", "gone"):
            entry["error"] = change.error
        return entry

    def entries(self, changes, outcomes):
        """Entries in the order the identities were given."""
        records = list(changes) + list(outcomes)
        return [self.entry(change) for change in sorted(records, key=_order)]

    @staticmethod
    def summary(entries):
        counts = dict((action, 0) for action in ACTIONS)
        for entry in entries:
            counts[entry["action"]] += 1
        return counts

    def listed(self, entries):
        """Every entry, or with list_unchanged=false those whose action is not unchanged."""
        if self.module.params.get("list_unchanged", True):
            return entries
        return [entry for entry in entries if entry["action"] != "unchanged"]

    def result(self, changes, outcomes):
        entries = self.entries(changes, outcomes)
        summary = self.summary(entries)
        result = dict(changed=any(summary[action] for action in CHANGED), summary=summary,
                      results=self.listed(entries))
        result.update(self.delegation.result_fields())
        if self.module._diff:  # pylint: disable=protected-access
            result["diff"] = self.diff(changes)
        return entries, result

    def fail(self, message, changes, outcomes):
        """Fail before any change; the results list the mailboxes concerned (with their planned actions: none was
        carried out, which `refused` says)."""
        entries = self.entries(changes, outcomes)
        self.module.fail_on(message, changed=False, refused=True, summary=self.summary(entries), results=entries)

    def stopped(self, reason, changes, outcomes):
        entries, result = self.result(changes, outcomes)
        done = sum(result["summary"][action] for action in CHANGED)
        self.module.fail_on("Stopped: %s. %d mailboxes were changed before the stop (see results%s); every mailbox "
                            "not reached is reported as skipped. Rerun the task to finish the job." % (
                                reason, done, " and the journal" if self.module.params.get("journal") else ""),
                            **result)

    def finish(self, changes, outcomes):
        entries, result = self.result(changes, outcomes)
        failed = [entry for entry in entries if entry["action"] == "failed"]
        if failed:
            self.module.fail_on("%d of %d mailboxes failed; rerun the task after fixing the cause. First failures: %s"
                                % (len(failed), len(entries), first_errors(failed)), **result)
        self.module.finish(**result)

    def diff(self, changes):
        before, after = {}, {}
        for change in changes:
            if change.action in CHANGED:
                before[change.target.identity] = change.before
                after[change.target.identity] = change.after
        key = self.delegation.diff_key()
        return {"before": {key: before}, "after": {key: after}}


def _order(change):
    return change.target.position
