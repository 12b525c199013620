# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # Options of the modules that change one delegation on many mailboxes in one task (the bulk engine,
    # plugins/module_utils/_bulk.py; argument spec _argspec.BULK).
    DOCUMENTATION = r"""
options:
  identity:
    description:
      - The mailboxes, like C(-Identity) of the cmdlet.
      - Each item is a primary SMTP address, user principal name, alias, GUID or ExternalDirectoryObjectId. Primary SMTP
        addresses and GUIDs are unique; an alias or a name may match several mailboxes (see O(unusable)).
      - Microsoft 365 group mailboxes are detected and handled with C(-GroupMailbox) where the cmdlet needs it.
      - Repeats are processed once, also when they are different names of one mailbox (the mailbox's own name, as
        Exchange reports it, tells); RV(results[].aliases) lists the other names.
      - An empty item fails the task; it is never sent, because an empty identity makes Exchange return every
        mailbox. An item that contains V(@) and no space is taken as an address and must be one
        (V(local-part@domain)); a malformed one fails the task before anything is sent.
    type: list
    elements: str
    required: true
    aliases: [mailbox]
  missing:
    description:
      - What to do with identities that have no mailbox behind them (nothing of that name exists or, with
        O(state=absent), the recipient no longer has a mailbox, for example a mailbox converted to a mail user).
      - V(fail) fails the task before anything is changed, naming them.
      - V(warn) and V(ignore) go on without them (V(warn) with a warning that names them). With O(state=present) they
        are reported as V(skipped); with O(state=absent) as V(gone), because a mailbox that no longer exists holds no
        access.
    type: str
    choices: [fail, warn, ignore]
    default: fail
  unusable:
    description:
      - What to do with identities that exist but cannot be used, each named with the reason; ambiguous names, a
        recipient without a mailbox (with O(state=present)), a mailbox the cmdlet cannot read.
      - V(fail) fails the task before anything is changed. V(skip) reports each as V(skipped) with the reason, and the
        other mailboxes are processed.
    type: str
    choices: [fail, skip]
    default: fail
  concurrency:
    description:
      - The most cmdlets the module keeps in flight at once, 1 to 64. The module starts below this value and adapts to
        the throttling it meets; Exchange Online allows a limited number of concurrent requests per tenant.
    type: int
    default: 64
  continue_on_error:
    description:
      - Whether a mailbox that fails lets the others proceed. The task still fails at the end and lists the failures.
      - With V(false) the module stops sending changes at the first failure; mailboxes not processed are reported as
        V(skipped).
    type: bool
    default: true
  journal:
    description:
      - A JSON Lines file, on the host running the module, to which the module appends what it found and what it did.
      - Before any change is written, one line per mailbox records the state read (C(event=read)); after the writes,
        one line per changed or gone mailbox records the outcome (C(event=write)). Each batch of lines is flushed to
        disk before the module goes on, and the file is created with mode 0600.
      - This lets a caller tell access that existed before from access a task added, even when the task was killed
        half-way; the archive-access role of this collection keeps its campaign ledger this way.
      - The directory must exist; the task fails before anything is sent when it does not. Not written in check mode.
    type: path
  list_unchanged:
    description:
      - Whether RV(results) lists the mailboxes that need no change.
      - With V(false) they are counted in RV(summary) only, and RV(results) lists the mailboxes that were (or in check
        mode would be) changed, failed, skipped or gone. A rerun over thousands of mailboxes then returns a short
        result, which Ansible handles faster. AWX keeps nothing of a task result longer than its
        C(MAX_EVENT_RES_DATA) setting (700,000 characters by default, a few thousand mailboxes) in the job's events.
    type: bool
    default: true
notes:
  - Rerunning the task after a failure or an interruption is safe; it reads the current state and finishes the job.
  - When the C(ansible-playbook) process that started the module is gone (stopped, killed, even with C(SIGKILL)),
    the module stops sending changes within a few seconds; what it changed is in RV(results) and the O(journal), and
    a rerun finishes the job.
  - Every write whose answer does not prove it took effect (a warning that nothing was there or that it was there
    already, a connection lost after sending) is followed by a read of that mailbox; the result reports what the read
    confirms.
"""
