# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Argument specs of the options modules share; each is documented once, in the doc fragment of the same name.

| spec                  | doc fragment                      | modules                                   |
| --------------------- | --------------------------------- | ----------------------------------------- |
| CONNECTION (_connection) | m365.exchange.connection       | every module (merged by ExchangeModule)   |
| BULK                  | m365.exchange.bulk                | modules that change many mailboxes at once |
| STATE                 | m365.exchange.bulk                | the same                                   |
"""

import copy

# The mailboxes a bulk module works on. Validated by _validation.identities (never empty, never sent empty).
IDENTITY = dict(type="list", elements="str", required=True, aliases=["mailbox"])

BULK = dict(
    identity=IDENTITY,
    missing=dict(type="str", default="fail", choices=["fail", "warn", "ignore"]),
    unusable=dict(type="str", default="fail", choices=["fail", "skip"]),
    concurrency=dict(type="int", default=64),
    continue_on_error=dict(type="bool", default=True),
    journal=dict(type="path"),
    list_unchanged=dict(type="bool", default=True),
)

STATE = dict(state=dict(type="str", default="present", choices=["present", "absent"]))

CONCURRENCY = dict(concurrency=BULK["concurrency"])
MISSING = dict(missing=BULK["missing"])


def merged(*specs, **options):
    """One argument spec from shared specs and a module's own options (copies: Ansible mutates specs)."""
    spec = {}
    for part in specs:
        spec.update(copy.deepcopy(part))
    spec.update(copy.deepcopy(options))
    return spec
