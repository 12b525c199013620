# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bulk engine: one delegation on many mailboxes, with reads, plan, writes, confirmation and a report.

A module that changes a delegation on many mailboxes (FullAccess, SendAs, SendOnBehalf, folder permissions)
describes what it does on ONE mailbox in a Delegation; BulkRun does the rest, the same way for all of them:

1. read every mailbox's current state, one cmdlet per mailbox, through the paced pipeline;
2. classify the identities the read did not find (a Microsoft 365 group mailbox, a recipient without a
   mailbox, an ambiguous name, nothing), merge different names of one mailbox, and refuse the task before any
   change when an identity cannot be used and the task says so (`missing`, `unusable`);
3. plan each mailbox's change; in check mode, report the plan;
4. journal the state read, write, and confirm by reading again every write whose answer does not prove it
   (a warning that nothing was there or that it was already there, a connection lost after sending): an
   outcome is what the tenant's state confirms, never what a status code suggests;
5. journal the outcomes and report them per mailbox: added, removed, changed, unchanged, skipped, gone, failed.

A stop of the controller (even SIGKILL of ansible-playbook) stops the dispatching within seconds
(_watchdog); what was written is journaled and a rerun finishes the job.
"""

from ansible_collections.m365.exchange.plugins.module_utils._errors import (
    AmbiguousIdentityError,
    ExchangeError,
    NotAttemptedError,
    NotFoundError,
    TransientError,
)
from ansible_collections.m365.exchange.plugins.module_utils._journal import Journal, utc_now
from ansible_collections.m365.exchange.plugins.module_utils._mailboxes import (
    GROUP_MAILBOX,
    IDENTITY_FORMS,
    MAILBOX_TYPES,
    classify_missing,
)
from ansible_collections.m365.exchange.plugins.module_utils._report import BulkReport

# How many unusable identities a failure message lists; results[] lists all of them.
LISTED_PROBLEMS = 20

# Why an identity has no state to change (Target.kind).
MISSING = "missing"  # nothing of that name exists
NO_MAILBOX = "no_mailbox"  # a recipient without a mailbox (mail user, contact, group, ...)
AMBIGUOUS = "ambiguous"  # several objects have that name
UNREADABLE = "unreadable"  # a mailbox the read cmdlet cannot read
READ_FAILED = "read_failed"  # the read failed after its retries


class Target:
    """One mailbox of the task: the names it was given by, what the read found, and what became of it."""

    __slots__ = ("identity", "position", "aliases", "primary_smtp_address", "recipient_type_details", "group_mailbox",
                 "read", "kind", "problem")

    def __init__(self, identity, position=0):
        self.identity = identity
        self.position = position  # where the identity was in the task's list: results keep that order
        self.aliases = []  # other names given for the same mailbox
        self.primary_smtp_address = None
        self.recipient_type_details = None
        self.group_mailbox = False
        self.read = None  # what Delegation.keep made of the read
        self.kind = None  # why there is no read (MISSING, NO_MAILBOX, ...)
        self.problem = None  # the same in words

    def unusable(self, kind, problem):
        self.kind = kind
        self.problem = problem


class Change:
    """What to do on one mailbox, and then what happened."""

    __slots__ = ("target", "before", "after", "action", "commands", "error", "warnings", "confirm", "data")

    def __init__(self, target, before, after, action, commands=None, error=None, data=None):
        self.target = target
        self.before = before
        self.after = after
        self.action = action  # added, removed, changed, unchanged; skipped or failed when decided before writing
        self.commands = commands or []
        self.error = error
        self.warnings = []  # the service's warnings for this mailbox's writes
        self.confirm = False  # a read must tell whether the writes took effect
        self.data = data  # the delegation's own notes (what the writes are based on)

    @property
    def writes(self):
        return bool(self.commands) and self.action not in ("skipped", "failed", "unchanged")


class Delegation:
    """What one kind of delegation reads, plans and writes on one mailbox. Subclasses fill in the methods."""

    supports_group_mailbox = True
    state = "present"

    def read_command(self, target):
        raise NotImplementedError

    def keep(self, result):
        """Reduce a read's CommandResult to what the plan needs (runs in the pipeline's worker threads)."""
        raise NotImplementedError

    def mailbox_key(self, read):
        """A key that is equal for two reads of the same mailbox (None when the read cannot tell)."""
        return None

    def read_error(self, target, error):
        """A read's error as the delegation sees it: a read (what `keep` would have made of an answer, e.g. "no
        entry" when the service answers a filtered read of an absent entry with an error), or the error."""
        return error

    def locate_command(self, target):
        """For a mailbox whose read found nothing: a command that finds what to read instead (e.g. the calendar under
        its localized name), or None. Its NotFoundError means that the mailbox is missing."""
        return None

    def located(self, target, result):
        """Take the answer of locate_command; True when the mailbox is to be read again, else a problem (str)."""
        return "nothing to read"

    def not_readable(self, target, kind):
        """Why a mailbox of this kind (RecipientTypeDetails) that exists cannot be read."""
        return "mailbox '%s' (%s) cannot be read: %s does not find it" % (
            target.identity, kind, self.read_command(target).cmdlet)

    def plan(self, target):
        """The Change for a mailbox that was read."""
        raise NotImplementedError

    def refuse(self, changes):
        """A message when the plan must not be carried out at all (nothing is written then), or None."""
        return None

    def suspicious(self, warnings):
        """Whether a write's warnings say it may not have done what was planned."""
        return False

    def holds(self, change, read):
        """Whether a read after the writes shows what the change wanted."""
        raise NotImplementedError

    def retry_commands(self, change, read):
        """More writes when a read after the writes shows they missed (e.g. another InheritanceType)."""
        return []

    def still_missing(self, change, read):
        """Why a change failed although its writes were answered without error (the service's words, what to do)."""
        return "the write was answered without error, but reading the mailbox afterwards does not show the change%s" % (
            ": the service said: %s" % " ".join(change.warnings) if change.warnings else "")

    def confirmed(self, change, read, retried):  # pylint: disable=unused-argument
        """The change's action once a read confirmed it.

        The tenant went from the state read before the writes to the state wanted during this task. An answer
        such as "already present" does not make it someone else's change: most often it is this task's own
        write, retried after its first answer was lost (the service had applied it).
        """
        return change.action

    def after_write_error(self, change, error):
        """The action for a write error: failed, or skipped for an error the task tolerates."""
        return "failed"

    def settled_by_read(self, change, error):
        """Whether a write error may leave the tenant as wanted all the same (an entry that exists already, a
        retry after an answer was lost): a read then decides, as for a write whose answer proves nothing."""
        return False

    def unproven(self, change):
        """Whether a write answered without error or warning still needs a read to confirm it (a write the live
        service is known to answer with success without applying it)."""
        return False

    def rights(self, read):
        """What the journal records of a read."""
        raise NotImplementedError

    def warnings(self, change):
        """Warnings about a planned change (e.g. a Deny that overrides it)."""
        return []

    def journal_fields(self):
        """What every journal line of the task says about the delegation."""
        return {}

    def result_fields(self):
        """What the module result says about the delegation (e.g. the trustee)."""
        return {}

    def diff_key(self):
        return "access"


class TrusteeDelegation(Delegation):
    """A delegation to one trustee (``self.trustee``, a ``_trustees.Trustee``), named by it in the journal, the result
    and the diff. ``journal_kind`` tells the journal's kinds apart; FullAccess, the first kind, has none."""

    journal_kind = None

    def journal_fields(self):
        fields = {"kind": self.journal_kind} if self.journal_kind else {}
        fields["trustee"] = self.trustee.name
        if self.trustee.guid:
            fields["trustee_guid"] = self.trustee.guid
        return fields

    def result_fields(self):
        return {"trustee": self.trustee.to_dict()}

    def diff_key(self):
        return self.trustee.name


class BulkRun:
    """Carries out a Delegation on many mailboxes for an ExchangeModule."""

    def __init__(self, module, delegation):
        self.module = module
        self.delegation = delegation
        self.params = module.params
        self.report = BulkReport(module, delegation)
        self.watch = module.controller_watch()
        self._pipeline = None
        self.watch.on_gone(self._controller_gone)

    # ---- the steps ------------------------------------------------------------------------------

    def run(self, identities):
        targets = self.read(identities)
        self.refuse_unusable(targets)
        changes, outcomes = self.plan(targets)
        refusal = self.delegation.refuse(changes)
        if refusal:
            self.report.fail("Nothing was changed: %s" % refusal, changes, outcomes)
        if not self.module.check_mode:
            journal = Journal(self.params["journal"]) if self.params.get("journal") else None
            self.record(journal, "read", changes)
            self.write(changes)
            self.confirm(changes)
            self.record(journal, "write", [c for c in changes if c.commands] + outcomes)
        if self.watch.gone:
            self.report.stopped(self.watch.gone, changes, outcomes)
        self.report.finish(changes, outcomes)

    def read(self, identities):
        """Read every identity; classify those not found; merge the names of one mailbox."""
        targets = [Target(identity, position) for position, identity in enumerate(identities)]
        self._read_into(targets)
        not_found = self._locate([t for t in targets if isinstance(t.read, NotFoundError)])
        for target in not_found:
            target.read = None
        if not_found:
            group_mailboxes = self._classify(not_found)
            self._read_into(group_mailboxes)
            self._locate([t for t in group_mailboxes if isinstance(t.read, NotFoundError)])
            for target in group_mailboxes:
                if isinstance(target.read, NotFoundError):
                    target.read = None
                    target.unusable(UNREADABLE, self.delegation.not_readable(target, GROUP_MAILBOX))
        return self._merged(targets)

    def _locate(self, targets):
        """Targets the read did not find that the delegation can find another way are read again; returns those
        still not found (one more command each, only for the targets that need it)."""
        pending = [(t, self.delegation.locate_command(t)) for t in targets]
        pending = [(t, command) for t, command in pending if command is not None]
        if not pending:
            return targets
        again = []
        for (target, _command), result in zip(pending, self._run([command for _t, command in pending])):
            if isinstance(result, NotFoundError):
                continue
            target.read = None
            if isinstance(result, ExchangeError):
                target.unusable(READ_FAILED, str(result))
                continue
            located = self.delegation.located(target, result)
            if located is True:
                again.append(target)
            else:
                target.unusable(UNREADABLE, located)
        self._read_into(again)
        return [t for t in targets if isinstance(t.read, NotFoundError)]

    def _read_into(self, targets):
        """Set each target's read (or its problem); NotFoundError is left in .read for the caller."""
        if not targets:
            return
        self._check_stopped()
        results = self._reads(targets)
        for target, result in zip(targets, results):
            if isinstance(result, NotFoundError):
                target.read = result
            elif isinstance(result, AmbiguousIdentityError):
                target.unusable(AMBIGUOUS, "'%s' matches several mailboxes; use its primary SMTP address or GUID"
                                % target.identity)
            elif isinstance(result, ExchangeError):
                target.unusable(READ_FAILED, str(result))
            else:
                target.read = result

    def _classify(self, targets):
        """Tell group mailboxes, other recipients and unknown names apart; return the group mailboxes to read."""
        found = classify_missing(self._pipeline_for_reads(), [t.identity for t in targets])
        group_mailboxes = []
        for target in targets:
            info = found[target.identity]
            if isinstance(info, NotFoundError):
                target.unusable(MISSING, "mailbox '%s' was not found" % target.identity)
                continue
            if isinstance(info, AmbiguousIdentityError):
                target.unusable(AMBIGUOUS, "'%s' matches several recipients; use its primary SMTP address or GUID"
                                % target.identity)
                continue
            if isinstance(info, ExchangeError):
                target.unusable(READ_FAILED, str(info))
                continue
            kind = info.get("RecipientTypeDetails")
            target.primary_smtp_address = info.get("PrimarySmtpAddress")
            target.recipient_type_details = kind
            if kind == GROUP_MAILBOX and self.delegation.supports_group_mailbox:
                target.group_mailbox = True
                group_mailboxes.append(target)
            elif kind in MAILBOX_TYPES or kind == GROUP_MAILBOX:
                target.unusable(UNREADABLE, self.delegation.not_readable(target, kind))
            else:
                target.unusable(NO_MAILBOX, "'%s' is a %s, not a mailbox" % (
                    target.identity, kind or "recipient without mailbox"))
        return group_mailboxes

    def _merged(self, targets):
        """One target per mailbox: later names of a mailbox read earlier become its aliases."""
        first = {}
        merged = []
        for target in targets:
            key = self.delegation.mailbox_key(target.read) if target.read is not None else None
            if key is None:
                merged.append(target)
            elif key in first:
                first[key].aliases.append(target.identity)
            else:
                first[key] = target
                merged.append(target)
        return merged

    def refuse_unusable(self, targets):
        """Fail before any change for identities the task's options do not let pass; warn about skipped ones."""
        missing_policy = self.params.get("missing", "fail")
        unusable_policy = self.params.get("unusable", "fail")
        absent = self.delegation.state == "absent"
        refused = []
        for target in targets:
            if target.kind in (MISSING,) or (target.kind == NO_MAILBOX and absent):
                if missing_policy == "fail":
                    refused.append(target)
            elif target.kind in (NO_MAILBOX, AMBIGUOUS, UNREADABLE):
                if unusable_policy == "fail":
                    refused.append(target)
        if refused:
            listed = "; ".join(t.problem for t in refused[:LISTED_PROBLEMS])
            if len(refused) > LISTED_PROBLEMS:
                listed += "; and %d more (see results)" % (len(refused) - LISTED_PROBLEMS)
            hint = "Name each mailbox by %s" % IDENTITY_FORMS
            if any(t.kind == MISSING or (t.kind == NO_MAILBOX and absent) for t in refused):
                hint += "; missing=warn or missing=ignore %s identities that have no mailbox" % (
                    "counts as gone (nothing left to remove)" if absent else "skips")
            if any(t.kind in (AMBIGUOUS, UNREADABLE) or (t.kind == NO_MAILBOX and not absent) for t in refused):
                hint += "; unusable=skip reports the other unusable identities as skipped and goes on"
            self.report.fail("Nothing was changed: %d of %d identities cannot be used: %s. %s." % (
                len(refused), len(targets), listed, hint), [], [self.outcome(t) for t in refused])
        failed_reads = [t for t in targets if t.kind == READ_FAILED]
        if failed_reads and not self.params.get("continue_on_error", True):
            self.report.fail("Nothing was changed: reading %d mailboxes failed and continue_on_error is false."
                             % len(failed_reads), [], [self.outcome(t) for t in failed_reads])
        if missing_policy == "warn":
            skipped = [t for t in targets if t.kind == MISSING or (t.kind == NO_MAILBOX and absent)]
            if skipped:
                self.module.warn("%s %d identities that have no mailbox: %s" % (
                    "Nothing to remove on" if absent else "Skipped", len(skipped),
                    ", ".join(t.identity for t in skipped)))

    def outcome(self, target):
        """The Change-like record of a target that has no read: gone, skipped or failed."""
        absent = self.delegation.state == "absent"
        if target.kind in (MISSING, NO_MAILBOX) and absent:
            action = "gone"
        elif target.kind == READ_FAILED:
            action = "failed"
        else:
            action = "skipped"
        return Change(target, [], [], action, error=target.problem)

    def plan(self, targets):
        changes, outcomes = [], []
        for target in targets:
            if target.read is None:
                outcomes.append(self.outcome(target))
                continue
            change = self.delegation.plan(target)
            for warning in self.delegation.warnings(change):
                self.module.warn(warning)
            changes.append(change)
        return changes, outcomes

    def write(self, changes):
        """Send every planned write; note which changes need a read to confirm them."""
        commands, owners = [], []
        for change in changes:
            if change.writes:
                for command in change.commands:
                    commands.append(command)
                    owners.append(change)
        if not commands:
            return
        self._check_stopped()
        results = self._run(commands, stop_on_error=not self.params.get("continue_on_error", True))
        errors = {}
        for change, result in zip(owners, results):
            if isinstance(result, ExchangeError):
                errors.setdefault(id(change), (change, result))
            else:
                change.warnings.extend(result.warnings)
                self.module.collect_warnings(result.warnings)
        for change in set(owners):
            if id(change) in errors:
                continue
            if self.delegation.suspicious(change.warnings) or self.delegation.unproven(change):
                change.confirm = True
        for change, error in errors.values():
            if isinstance(error, NotAttemptedError):
                change.action, change.error = "skipped", str(error)
            elif isinstance(error, TransientError) or self.delegation.settled_by_read(change, error):
                change.confirm = True  # sent; the service may have run it: a read tells
                change.error = str(error)
            else:
                change.action, change.error = self.delegation.after_write_error(change, error), str(error)

    def confirm(self, changes):
        """Read again the mailboxes whose writes proved nothing; retry what missed; fail what still misses."""
        pending = [c for c in changes if c.confirm]
        retried = set()
        while pending and not self.watch.gone:
            reads = self._reads([c.target for c in pending])
            retry, retry_owners = [], []
            for change, read in zip(pending, reads):
                if isinstance(read, ExchangeError):
                    change.action = "failed"
                    change.error = "%s; reading the mailbox afterwards to confirm it failed too: %s" % (
                        change.error or "the write's answer did not prove it took effect", read)
                    continue
                if self.delegation.holds(change, read):
                    change.action, change.error = self.delegation.confirmed(change, read, id(change) in retried), None
                    continue
                more = [] if id(change) in retried else self.delegation.retry_commands(change, read)
                if more:
                    retried.add(id(change))
                    retry.extend(more)
                    retry_owners.extend([change] * len(more))
                    continue
                change.action = "failed"
                if change.error:  # the write's own error (a connection lost after sending): the read settles it
                    change.error = "%s; reading the mailbox afterwards does not show the change" % change.error
                else:
                    change.error = self.delegation.still_missing(change, read)
            pending = []
            if retry:
                results = self._run(retry)
                for change, result in zip(retry_owners, results):
                    if not isinstance(result, ExchangeError):
                        change.warnings.extend(result.warnings)
                pending = list(dict((id(c), c) for c in retry_owners).values())

    def record(self, journal, event, changes):
        """Journal lines: the state read on each mailbox, or the outcome of each write."""
        if journal is None or not changes:
            return
        at = utc_now()
        fields = self.delegation.journal_fields()
        lines = []
        for change in changes:
            line = dict(fields, event=event, at=at, state=self.delegation.state, mailbox=change.target.identity)
            if change.target.aliases:
                line["aliases"] = list(change.target.aliases)
            if event == "read":
                line["rights"] = change.before
            else:
                line["action"] = change.action
                line["rights"] = change.after if change.action not in ("failed", "skipped") else change.before
            lines.append(line)
        journal.append(lines)

    # ---- the pipeline and the controller ------------------------------------------------------

    def _reads(self, targets):
        """One read per target (what `keep` makes of it), errors as the delegation sees them (read_error)."""
        results = self._run([self.delegation.read_command(t) for t in targets], keep=self.delegation.keep)
        return [self.delegation.read_error(target, result) if isinstance(result, ExchangeError) else result
                for target, result in zip(targets, results)]

    def _pipeline_for_reads(self):
        self._pipeline = self.module.pipeline()
        if self.watch.gone:
            self._pipeline.stop(self.watch.gone)
        return self._pipeline

    def _run(self, commands, keep=None, stop_on_error=False):
        self._pipeline = self.module.pipeline(stop_on_error=stop_on_error)
        if self.watch.gone:
            self._pipeline.stop(self.watch.gone)
        return self._pipeline.run(commands, keep=keep)

    def _controller_gone(self, reason):
        pipeline = self._pipeline
        if pipeline is not None:
            pipeline.stop("the run stopped: %s" % reason)

    def _check_stopped(self):
        """Before a new step: nothing more is started once the controller is gone."""
        if self.watch.gone:
            raise StoppedError("Stopped before any change: %s. Rerun the task to do the work." % self.watch.gone)


class StoppedError(ExchangeError):
    """The controller that started the module is gone: nothing more is started."""
