#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module runs on the controller only, as the action plugin of the same name (plugins/action/archive_campaign.py).

DOCUMENTATION = r"""
---
module: archive_campaign
short_description: The controller-side steps of the archive_access role (ledger, chunk records, reports)
version_added: 1.0.0
description:
  - Used by the P(m365.exchange.archive_access#role) role; it talks to no service and changes no mailbox. Use the role
    (or its playbooks) rather than this action.
  - V(validate) checks the role's variables beyond what its argument specification can say (ranges, combinations)
    and names each bad value.
  - V(plan) works out a run (the mailbox IDs to process, in chunks); for a grant it opens the campaign ledger (a closed
    one is set aside and a new campaign starts) and records the address of every mailbox beside its ID; for a revoke
    it takes the open grants from the ledger (or from the campaign a grant job published) and says when the campaign
    is closed.
  - V(record) keeps one M(m365.exchange.mailbox_permission) call's per-mailbox results for the report and fails when
    the call was refused as a whole.
  - V(finish) closes the campaign when no mailbox holds access it granted, writes the JSON, CSV and HTML reports and
    returns the run's result.
  - The ledger format is described in C(plugins/plugin_utils/_ledger.py); this action and the journal of
    M(m365.exchange.mailbox_permission) are its only writers.
author:
  - m365.exchange developers (@m365-exchange)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: In check mode nothing is written to the ledger; the reports of the plan are written and say PLAN.
  diff_mode:
    support: none
  platform:
    platforms: all
options:
  step:
    description: The step to run.
    type: str
    required: true
    choices: [validate, plan, record, finish, app_plan, app_finish]
  action:
    description: The role's entry point (V(validate), V(plan), V(app_plan)).
    type: str
    choices: [grant, revoke, preflight, verify]
  tenant:
    description: The tenant's name, as the ledger and the reports name it.
    type: str
  delegate:
    description: The delegate, as given (V(validate)) or as M(m365.exchange.mailbox_info) returned it (V(plan)).
    type: raw
  access_rights:
    description: The rights the campaign grants.
    type: list
    elements: str
    default: [FullAccess]
  scope:
    description: The role's O(m365.exchange.archive_access#role:grant:archive_access_scope) (V(validate)).
    type: raw
  selected:
    description: The mailboxes M(m365.exchange.mailbox_info) selected for the scope (V(plan)).
    type: raw
  selected_from:
    description:
      - The name of the variable that holds the result of M(m365.exchange.mailbox_info) for the scope (V(plan)),
        instead of O(selected); read as it is, without copying 100,000 records into the task's arguments.
    type: str
  excluded:
    description: The excluded mailboxes M(m365.exchange.mailbox_info) found (V(plan)).
    type: raw
  exclude_missing:
    description: Exclusions that match no mailbox (V(plan) warns about them).
    type: list
    elements: str
    default: []
  acl_full:
    description: Mailboxes found at the limit of 500 access control entries by the preflight's count (V(plan)).
    type: raw
  acl_limit_action:
    description: V(stop) or V(skip), as the role's variable of the same name.
    type: str
    choices: [stop, skip]
    default: stop
  ledger:
    description: The ledger's path; empty for the default under O(data_dir).
    type: str
  data_dir:
    description: The data directory; empty for C($XDG_DATA_HOME/m365.exchange/archive_access) (or C(~/.local/share/...)).
    type: str
  report_dir:
    description: Where reports go; empty for the tenant's C(reports) directory under O(data_dir).
    type: str
  chunk_size:
    description: Mailboxes per module call.
    type: raw
  concurrency:
    description: The role's concurrency (checked by V(validate)).
    type: raw
  propagation_minutes:
    description: For the "effective by" time of the reports.
    type: raw
    default: 60
  campaigns:
    description: Campaigns published by grant jobs (C(set_stats)), keyed by tenant (V(plan) of a revoke).
    type: raw
  revoke_all:
    description: Revoke on every selected mailbox, without the ledger (V(plan) of a revoke).
    type: bool
    default: false
  run:
    description: The run that V(plan) returned (V(record), V(finish)).
    type: raw
  index:
    description: The chunk's index, from 0 (V(record)).
    type: int
  identities:
    description: The chunk's mailbox IDs (V(record)).
    type: raw
  result:
    description: The registered result of the chunk's M(m365.exchange.mailbox_permission) call (V(record)).
    type: raw
  identities_from:
    description: The name of the variable that holds the chunk's mailbox IDs (V(record)), instead of O(identities).
    type: str
  result_from:
    description: The name of the variable that holds the chunk's registered result (V(record)), instead of O(result).
    type: str
  templates:
    description: The directory of the report templates (V(finish)).
    type: str
  stopped:
    description: Why the run stopped before its last chunk, if it did (V(finish)).
    type: str
  publish:
    description: Whether V(finish) returns the campaign to publish with C(set_stats).
    type: bool
    default: true
  method:
    description: The role's O(m365.exchange.archive_access#role:grant:archive_access_method) (V(validate)).
    type: str
    default: full_access
  app:
    description: The role's O(m365.exchange.archive_access#role:grant:archive_access_app) (V(validate), V(app_plan)).
    type: raw
  app_roles:
    description: The role's O(m365.exchange.archive_access#role:grant:archive_access_app_roles).
    type: raw
  app_object_id:
    description: The role's O(m365.exchange.archive_access#role:grant:archive_access_app_object_id) (V(validate)).
    type: raw
  app_scope_by:
    description: The role's O(m365.exchange.archive_access#role:grant:archive_access_app_scope_by).
    type: raw
  mark_attribute:
    description: The role's O(m365.exchange.archive_access#role:grant:archive_access_mark_attribute).
    type: raw
  app_record:
    description: The app's service principal, as M(m365.exchange.app_access_info) or M(m365.exchange.service_principal)
      returned it (V(app_plan)).
    type: raw
  register_app:
    description: Whether the campaign registers the app's service principal (V(app_plan) records it as the campaign's).
    type: bool
    default: false
  ews:
    description: The organization's EWS settings, as M(m365.exchange.app_access_info) returned them (V(app_plan)).
    type: raw
  results:
    description:
      - The registered results of the run's module calls (V(app_finish)), by key V(service_principal), V(scope),
        V(assignments), V(mark), V(unmark), V(proof_in), V(proof_out), V(ews).
    type: raw
seealso:
  - name: The archive_access role
    description: The role whose steps these are.
    link: https://github.com/m365-exchange/m365.exchange/tree/main/roles/archive_access
"""

EXAMPLES = r"""
- name: Check the campaign's variables (as the archive_access role does)
  m365.exchange.archive_campaign:
    step: validate
    tenant: contoso.onmicrosoft.com
    delegate: archive.admin@contoso.com
    scope: {exclude: [ceo@contoso.com]}
    chunk_size: 1000
"""

RETURN = r"""
scope:
  description: The scope merged over its defaults (V(validate)); the counts of the run (V(plan)).
  returned: validate, plan
  type: dict
chunks:
  description: The mailbox IDs of the run, in chunks.
  returned: plan
  type: list
  elements: list
run:
  description: What V(record) and V(finish) need of the run (its ID, ledger, working directory).
  returned: plan, when there is a run
  type: dict
closed:
  description: Whether the campaign is closed (a revoke then changes nothing).
  returned: plan
  type: bool
lines:
  description: What to tell the operator.
  returned: plan, finish
  type: list
  elements: str
progress:
  description: One line on the chunk and the run so far.
  returned: record
  type: str
summary:
  description: Outcomes per action (added, removed, unchanged, skipped, gone, failed), of the chunk or of the run.
  returned: record, finish
  type: dict
status:
  description:
    - C(COMPLETE) (a rerun would have nothing to do), C(INCOMPLETE) (it would; RV(next_step) says what to do) or
      C(PLAN) (check mode).
  returned: finish
  type: str
headline:
  description: The sentence under the status in the reports, what the run achieved in numbers.
  returned: finish
  type: str
next_step:
  description: What to do when the status is C(INCOMPLETE), else empty.
  returned: finish
  type: str
reports:
  description: Paths of the run's C(json), C(csv) and C(html) reports.
  returned: finish
  type: dict
published:
  description: The campaign for C(set_stats) (see the role's README), or null.
  returned: finish, unless check mode or publish is false
  type: dict
problem:
  description: Why the role fails after reporting (RV(next_step) when the status is C(INCOMPLETE)), or null.
  returned: finish
  type: str
"""
