#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: mailbox_permission
short_description: Grant or revoke Exchange Online mailbox permissions (Add-MailboxPermission) on many mailboxes
version_added: 0.1.0
description:
  - Ensures that a trustee has, or has not, the given access rights on one mailbox or on many thousands of mailboxes
    in a single task, like C(Add-MailboxPermission) and C(Remove-MailboxPermission) but idempotent.
  - The module reads the trustee's explicit (not inherited) access control entries on every mailbox first; with
    O(state=present) it adds only the rights that are missing, with O(state=absent) it removes only explicit rights
    that exist. A second run reports no change and makes no write call.
  - Every identity and the trustee are resolved before anything is changed. Unknown or ambiguous identities, a trustee
    that cannot hold mailbox permissions, and invalid option combinations fail the task with a list of every bad value.
  - Check mode works like C(-WhatIf); the same plan is computed and returned, nothing is written.
  - Mailboxes are processed concurrently in C($batch) requests through one connection and one access token; the
    concurrency adapts to the throttling of the tenant.
  - Permission changes can take up to 60 minutes to become effective for the trustee.
author:
  - m365.exchange developers (@m365-exchange)
extends_documentation_fragment:
  - m365.exchange.connection
  - m365.exchange.connection.action_group
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: all
options:
  identity:
    description:
      - The mailboxes, like C(-Identity) of C(Add-MailboxPermission).
      - Each item is a primary SMTP address, user principal name, alias, GUID or ExternalDirectoryObjectId. Primary SMTP
        addresses and GUIDs are unique; an alias or a name may match several mailboxes, which fails the task.
      - Microsoft 365 group mailboxes are detected and handled with C(-GroupMailbox).
      - Duplicates are processed once. An empty item fails the task; it is never sent, because an empty identity
        makes Exchange return every mailbox.
      - An item that contains V(@) and no space is taken as an address and must be one (V(local-part@domain));
        a malformed one fails the task before anything is sent.
    type: list
    elements: str
    required: true
    aliases: [mailbox]
  user:
    description:
      - The trustee, like C(-User) of C(Add-MailboxPermission).
      - A user with a mailbox, a mail user, or a mail-enabled security group, named by user principal name, primary SMTP
        address or GUID.
      - A security group that is not mail-enabled, a distribution group or a Microsoft 365 group fails the task, because
        Exchange either refuses them or accepts them without the access working.
      - An empty value, or a malformed address, fails the task before anything is sent.
    type: str
    required: true
    aliases: [trustee]
  access_rights:
    description:
      - The rights, like C(-AccessRights).
      - With O(state=present) these rights are added where missing; rights the trustee holds beyond them are kept.
      - With O(state=absent) these rights are removed where the trustee holds them explicitly.
    type: list
    elements: str
    choices: [ChangeOwner, ChangePermission, DeleteItem, ExternalAccount, FullAccess, ReadPermission]
    default: [FullAccess]
  inheritance_type:
    description:
      - Like C(-InheritanceType) of C(Add-MailboxPermission). Used when rights are added.
    type: str
    choices: [All, Children, Descendents, None, SelfAndChildren]
    default: All
  automapping:
    description:
      - Like C(-AutoMapping). Whether Outlook opens the mailbox automatically for the trustee.
      - Sent only when set and only when FullAccess is added. Exchange defaults to V(true), which makes the Outlook of an
        archive or migration account try to open every mailbox; set V(false) for such accounts.
      - Exchange cannot report AutoMapping back, so an existing grant is not changed when this option differs from how
        it was granted; revoke and grant again to change it.
      - Only valid with O(access_rights=[FullAccess]) and O(state=present).
    type: bool
  deny:
    description:
      - Like C(-Deny). Manage deny entries instead of allow entries.
    type: bool
    default: false
  state:
    description:
      - V(present) adds the missing rights, V(absent) removes existing explicit rights.
      - Inherited rights cannot be removed from a mailbox; they are reported as a warning.
    type: str
    choices: [present, absent]
    default: present
  missing:
    description:
      - What to do with identities that do not exist.
      - V(fail) fails the task before anything is changed; V(warn) skips them with a warning; V(ignore) skips them.
      - Ambiguous identities and identities that are not mailboxes always fail the task.
    type: str
    choices: [fail, warn, ignore]
    default: fail
  concurrency:
    description:
      - The most cmdlets the module keeps in flight at once. The module starts below this value and adapts to the
        throttling it meets. Exchange Online allows a limited number of concurrent requests per tenant.
    type: int
    default: 64
  continue_on_error:
    description:
      - Whether a mailbox that fails (for example one at the limit of 500 access control entries) lets the others
        proceed. The task still fails at the end and lists the failures.
      - With V(false) the module stops sending changes at the first failure; mailboxes not processed are reported as
        V(skipped).
    type: bool
    default: true
  journal:
    description:
      - A JSON Lines file, on the host running the module, to which the module appends what it found and what it did.
      - Before any change is written, one line per mailbox records the trustee's rights as read (C(event=read)); after
        the writes, one line per changed mailbox records the outcome (C(event=write)). Each batch of lines is flushed to
        disk before the module goes on, and the file is created with mode 0600.
      - This lets a caller tell access that existed before from access a task added, even when the task was killed
        half-way; the archive-access roles of this collection keep their campaign ledger this way.
      - The directory must exist; the task fails before anything is sent when it does not.
      - Not written in check mode.
    type: path
  list_unchanged:
    description:
      - Whether RV(results) lists the mailboxes that need no change.
      - With V(false) they are counted in RV(summary) only, and RV(results) lists the mailboxes that were (or in check
        mode would be) changed, failed or were skipped. A rerun over thousands of mailboxes then returns a short
        result instead of about 150 characters per mailbox, which Ansible handles faster. AWX keeps nothing of a task
        result longer than its C(MAX_EVENT_RES_DATA) setting (700,000 characters by default, a few thousand mailboxes)
        in the job's events.
    type: bool
    default: true
notes:
  - Rerunning the task after a failure or an interruption is safe; it reads the current state and finishes the job.
seealso:
  - module: m365.exchange.mailbox_info
  - name: Add-MailboxPermission
    description: The cmdlet whose parameters this module follows.
    link: https://learn.microsoft.com/powershell/module/exchange/add-mailboxpermission
"""

EXAMPLES = r"""
- name: Give the archive account FullAccess to one mailbox, without automapping
  m365.exchange.mailbox_permission:
    identity: ceo@contoso.com
    user: archive.admin@contoso.com
    access_rights: [FullAccess]
    automapping: false

- name: Find every user and shared mailbox
  m365.exchange.mailbox_info:
    recipient_type_details: [UserMailbox, SharedMailbox]
  register: scope

- name: Grant FullAccess on all of them in one task
  m365.exchange.mailbox_permission:
    identity: "{{ scope.mailboxes | map(attribute='primary_smtp_address') | list }}"
    user: archive.admin@contoso.com
    automapping: false
  register: grant

- name: The same grant as a rerun that is safe at any time, listing only the mailboxes it changes
  m365.exchange.mailbox_permission:
    identity: "{{ scope.mailboxes | map(attribute='primary_smtp_address') | list }}"
    user: archive.admin@contoso.com
    automapping: false
    list_unchanged: false
  register: regrant

- name: Give a mail-enabled security group read access to the shared mailboxes
  m365.exchange.mailbox_permission:
    identity:
      - info@contoso.com
      - support@contoso.com
    user: helpdesk-team@contoso.com
    access_rights: [FullAccess, ReadPermission]

- name: Preview a revoke (like -WhatIf) and show what would change
  m365.exchange.mailbox_permission:
    identity: "{{ scope.mailboxes | map(attribute='primary_smtp_address') | list }}"
    user: archive.admin@contoso.com
    state: absent
  check_mode: true
  diff: true
  register: preview

- name: Revoke, skipping mailboxes deleted in the meantime
  m365.exchange.mailbox_permission:
    identity: "{{ scope.mailboxes | map(attribute='primary_smtp_address') | list }}"
    user: archive.admin@contoso.com
    state: absent
    missing: warn

- name: Connection settings once for every module of the collection
  module_defaults:
    group/m365.exchange.exchange:
      tenant: contoso.onmicrosoft.com
      client_id: "{{ exo_client_id }}"
      certificate_path: /etc/ansible/exo-automation.pfx
      certificate_password: "{{ exo_certificate_password }}"
  block:
    - name: Grant through the shared connection settings
      m365.exchange.mailbox_permission:
        identity: legal@contoso.com
        user: archive.admin@contoso.com
        automapping: false
"""

RETURN = r"""
summary:
  description: How many mailboxes got each outcome.
  returned: always
  type: dict
  sample: {"added": 4980, "removed": 0, "unchanged": 17, "failed": 1, "skipped": 2}
results:
  description:
    - One entry per identity, in the order given (duplicates removed).
    - With O(list_unchanged=false), only the entries whose RV(results[].action) is not V(unchanged).
  returned: always
  type: list
  elements: dict
  contains:
    identity:
      description: The identity as given.
      type: str
      sample: ceo@contoso.com
    primary_smtp_address:
      description:
        - The mailbox's primary SMTP address when the module had to look the mailbox up (group mailboxes, failures);
          otherwise V(null), as the module addresses the mailbox by the identity given.
      type: str
      sample: null
    action:
      description: V(added), V(removed), V(unchanged), V(failed) or V(skipped). In check mode, what would happen.
      type: str
      sample: added
    before:
      description: The trustee's explicit rights of the managed kind (allow or deny) before the task.
      type: list
      elements: str
      sample: []
    after:
      description: The trustee's explicit rights after the task (in check mode, as they would be).
      type: list
      elements: str
      sample: [FullAccess]
    error:
      description: Why the mailbox failed or was skipped.
      type: str
      returned: when RV(results[].action) is V(failed) or V(skipped)
      sample: "Add-MailboxPermission 'full.acl@contoso.com': ... maximum allowed access control entries of 500 ..."
trustee:
  description: The trustee as resolved in Exchange.
  returned: success
  type: dict
  sample: {"given": "archive.admin@contoso.com", "name": "archive.admin@contoso.com",
           "guid": "5b1c7c1e-0c7e-4bbf-9b1c-3a0b9f1c2d3e", "recipient_type_details": "UserMailbox"}
api_stats:
  description: What the module sent to Exchange Online, for troubleshooting and capacity planning.
  returned: always
  type: dict
  sample: {"http_requests": 1002, "batch_requests": 1000, "cmdlets": 9998, "throttled": 12, "retries": 12,
           "token_renewals": 0}
"""

import os

from ansible_collections.m365.exchange.plugins.module_utils._errors import (
    ExchangeError,
    InvalidInputError,
    NotAttemptedError,
    name_the_app,
)
from ansible_collections.m365.exchange.plugins.module_utils._journal import Journal, utc_now
from ansible_collections.m365.exchange.plugins.module_utils._mailboxes import IDENTITY_FORMS, identity_problem
from ansible_collections.m365.exchange.plugins.module_utils._module import ExchangeModule
from ansible_collections.m365.exchange.plugins.module_utils._permissions import (
    ACCESS_RIGHTS,
    INHERITANCE_TYPES,
    PermissionRequest,
    read_mailboxes,
    resolve_trustee,
    trustee_problem,
)

ACTIONS = ("added", "removed", "unchanged", "failed", "skipped")
# How many unusable identities the failure message lists; results[] lists all of them.
LISTED_PROBLEMS = 20


def main():
    module = ExchangeModule(
        argument_spec=dict(
            identity=dict(type="list", elements="str", required=True, aliases=["mailbox"]),
            user=dict(type="str", required=True, aliases=["trustee"]),
            access_rights=dict(type="list", elements="str", default=["FullAccess"], choices=list(ACCESS_RIGHTS)),
            inheritance_type=dict(type="str", default="All", choices=list(INHERITANCE_TYPES)),
            automapping=dict(type="bool"),
            deny=dict(type="bool", default=False),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            missing=dict(type="str", default="fail", choices=["fail", "warn", "ignore"]),
            concurrency=dict(type="int", default=64),
            continue_on_error=dict(type="bool", default=True),
            journal=dict(type="path"),
            list_unchanged=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    try:
        run(module)
    except ExchangeError as exc:
        module.fail_on(name_the_app(exc, module.params["client_id"], module.params["tenant"]), changed=False)


def run(module):
    params = module.params
    identities = validated_input(params)
    trustee = resolve_trustee(module.client, params["user"])
    request = PermissionRequest(trustee, params["access_rights"], params["inheritance_type"], params["automapping"],
                                params["deny"], params["state"])
    states = read_mailboxes(module.pipeline(), trustee, identities)
    report = Report(module, request)
    report.refuse_unusable(states)
    unreadable = [state for state in states if state.error]
    if unreadable and not params["continue_on_error"]:
        report.fail("Nothing was changed: reading %d mailboxes failed and continue_on_error is false." % len(unreadable),
                    unreadable)
    changes = [request.plan(state) for state in states if state.aces is not None]
    if not module.check_mode:
        journal = Journal(params["journal"]) if params["journal"] else None
        record(journal, "read", request, changes)
        written = [change for change in changes if change.action != "unchanged"]
        apply(module, request, written, report)
        record(journal, "write", request, written, report.failed_writes)
    report.finish(states, changes)


def validated_input(params):
    """The identities to process; every problem with the task's input at once, before any request."""
    problems = []
    identities = []
    seen = set()
    for position, identity in enumerate(params["identity"] or []):
        problem = identity_problem(identity, "identity[%d]" % position)
        if problem:
            problems.append(problem)
            continue
        identity = identity.strip()
        if identity.lower() not in seen:
            seen.add(identity.lower())
            identities.append(identity)
    if problems:
        problems.append("each identity must be %s; an empty identity is never sent, because Exchange would take it "
                        "as every mailbox" % IDENTITY_FORMS)
    if not params["identity"]:
        problems.append("identity is an empty list (did the selection that produced it match nothing?): name at "
                        "least one mailbox")
    problem = trustee_problem(params["user"])
    if problem:
        problems.append(problem)
    if params["automapping"] is not None:
        if params["access_rights"] != ["FullAccess"]:
            problems.append("automapping applies to FullAccess only, but access_rights is %s: use access_rights "
                            "[FullAccess] or leave automapping out" % params["access_rights"])
        if params["state"] == "absent":
            problems.append("automapping cannot be used with state=absent: leave automapping out (or use "
                            "state=present)")
        if params["deny"]:
            problems.append("automapping cannot be used with deny=true: leave automapping out")
    if not 1 <= params["concurrency"] <= 64:
        problems.append("concurrency %d is out of range: use 1 to 64" % params["concurrency"])
    journal = params["journal"]
    if journal:
        directory = os.path.dirname(os.path.abspath(journal))
        if os.path.isdir(journal):
            problems.append("journal '%s' is a directory: give the path of a file (it is created if missing)" % journal)
        elif not os.path.isdir(directory):
            problems.append("journal '%s': the directory %s does not exist; create it or give the path of a file in "
                            "an existing directory" % (journal, directory))
    if problems:
        raise InvalidInputError("Invalid input, nothing was changed: " + "; ".join(problems))
    return identities


def record(journal, event, request, changes, failures=None):
    """Journal lines: the rights read on each mailbox, or the outcome of each write."""
    if journal is None:
        return
    at = utc_now()
    lines = []
    for change in changes:
        failure = (failures or {}).get(id(change))
        line = {"event": event, "at": at, "state": request.state, "mailbox": change.state.identity,
                "trustee": request.trustee.name, "rights": change.before if event == "read" or failure else change.after}
        if event == "write":
            line["action"] = "failed" if failure else change.action
        lines.append(line)
    journal.append(lines)


def apply(module, request, changes, report):
    commands, owners = [], []
    for change in changes:
        for command in request.write_commands(change):
            commands.append(command)
            owners.append(change)
    pipeline = module.pipeline(stop_on_error=not module.params["continue_on_error"])
    for change, result in zip(owners, pipeline.run(commands)):
        if isinstance(result, ExchangeError):
            report.failed_writes[id(change)] = result
        else:
            module.collect_warnings(result.warnings)


def first_errors(failed, limit=5):
    """The first distinct errors of failed entries, each with how many mailboxes it failed."""
    counts = {}
    for entry in failed:
        counts[entry["error"]] = counts.get(entry["error"], 0) + 1
    shown = ["%s%s" % (error, " (%d mailboxes)" % count if count > 1 else "") for error, count in counts.items()]
    return "; ".join(shown[:limit])


class Report:
    """Turns mailbox states and changes into the module's result."""

    def __init__(self, module, request):
        self.module = module
        self.request = request
        self.failed_writes = {}

    def refuse_unusable(self, states):
        missing_policy = self.module.params["missing"]
        refused = [s for s in states if s.problem and (not s.missing or missing_policy == "fail")]
        if refused:
            listed = "; ".join(s.problem for s in refused[:LISTED_PROBLEMS])
            if len(refused) > LISTED_PROBLEMS:
                listed += "; and %d more (see results)" % (len(refused) - LISTED_PROBLEMS)
            hint = "Name each mailbox by %s" % IDENTITY_FORMS
            if any(s.missing for s in refused):
                hint += "; missing=warn or missing=ignore skips identities that do not exist"
            self.fail("Nothing was changed: %d of %d identities cannot be used: %s. %s." % (
                len(refused), len(states), listed, hint), refused)
        skipped = [s for s in states if s.missing]
        if skipped and missing_policy == "warn":
            self.module.warn("Skipped %d identities that do not exist: %s" % (
                len(skipped), ", ".join(s.identity for s in skipped)))

    def fail(self, message, states):
        """Fail before any change; the results list the mailboxes that caused it."""
        entries = self.entries(states, ())
        self.module.fail_json(msg=message, changed=False, summary=self.summary(entries), results=entries,
                              api_stats=self.module.api_stats())

    def entries(self, states, changes):
        by_state = dict((id(change.state), change) for change in changes)
        return [self.entry(state, by_state.get(id(state))) for state in states]

    def entry(self, state, change):
        entry = {"identity": state.identity, "primary_smtp_address": state.primary_smtp_address}
        if change is None:
            error = state.error or state.problem
            entry.update(action="skipped" if state.missing else "failed", before=[], after=[], error=str(error))
            return entry
        failure = self.failed_writes.get(id(change))
        if failure is not None:
            action = "skipped" if isinstance(failure, NotAttemptedError) else "failed"
            entry.update(action=action, before=change.before, after=change.before, error=str(failure))
        else:
            entry.update(action=change.action, before=change.before, after=change.after)
        return entry

    def listed(self, entries):
        """Every entry, or with list_unchanged=false those whose action is not unchanged."""
        if self.module.params["list_unchanged"]:
            return entries
        return [entry for entry in entries if entry["action"] != "unchanged"]

    @staticmethod
    def summary(entries):
        counts = dict((action, 0) for action in ACTIONS)
        for entry in entries:
            counts[entry["action"]] += 1
        return counts

    def finish(self, states, changes):
        for change in changes:
            if change.inherited:
                self.module.warn("%s holds %s on mailbox '%s' by inheritance; inherited rights cannot be removed on "
                                 "the mailbox" % (self.request.trustee.name, ", ".join(change.inherited),
                                                  change.state.identity))
        entries = self.entries(states, changes)
        summary = self.summary(entries)
        result = dict(
            changed=bool(summary["added"] or summary["removed"]),
            summary=summary,
            results=self.listed(entries),
            trustee=self.request.trustee.to_dict(),
        )
        if self.module._diff:
            result["diff"] = self.diff(changes)
        failed = [entry for entry in entries if entry["action"] == "failed"]
        if failed:
            self.module.flush_warnings()
            self.module.fail_json(
                msg="%d of %d mailboxes failed; rerun the task after fixing the cause. First failures: %s" % (
                    len(failed), len(entries), first_errors(failed)),
                api_stats=self.module.api_stats(), **result)
        self.module.finish(**result)

    def diff(self, changes):
        before, after = {}, {}
        for change in changes:
            if change.action != "unchanged" and id(change) not in self.failed_writes:
                before[change.state.identity] = change.before
                after[change.state.identity] = change.after
        trustee = self.request.trustee.name
        return {"before": {trustee: before}, "after": {trustee: after}}


if __name__ == "__main__":
    main()
