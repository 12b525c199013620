# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The mailbox_permission module: its options, their checks, and the bulk run of the MailboxPermission delegation."""

from ansible_collections.m365.exchange.plugins.module_utils._argspec import BULK, STATE, merged
from ansible_collections.m365.exchange.plugins.module_utils._bulk import BulkRun
from ansible_collections.m365.exchange.plugins.module_utils._permissions import (
    ACCESS_RIGHTS,
    DEFAULT_INHERITANCE,
    INHERITANCE_TYPES,
    MailboxPermission,
)
from ansible_collections.m365.exchange.plugins.module_utils._trustees import is_sid, resolve_trustee, trustee_problem
from ansible_collections.m365.exchange.plugins.module_utils._validation import Problems, bulk_options, choice_list

ARGUMENT_SPEC = merged(
    BULK, STATE,
    user=dict(type="str", required=True, aliases=["trustee"]),
    access_rights=dict(type="list", elements="str", default=["FullAccess"]),
    inheritance_type=dict(type="str", default=DEFAULT_INHERITANCE, choices=list(INHERITANCE_TYPES)),
    automapping=dict(type="bool"),
    deny=dict(type="bool", default=False),
    acl_limit=dict(type="str", default="fail", choices=["fail", "skip", "stop"]),
)


def run(module):
    params = module.params
    problems = Problems()
    identities = bulk_options(params, problems)
    rights = choice_list(params["access_rights"], ACCESS_RIGHTS, "access_rights", problems)
    user = params["user"]
    if is_sid(user):
        if params["state"] != "absent":
            problems.add("user '%s' is a SID: a SID names an orphaned trustee, whose entries can only be removed "
                         "(state=absent); to grant, name the trustee by user principal name, primary SMTP address or "
                         "GUID" % user.strip())
    else:
        problems.add(trustee_problem(user))
    if params["automapping"] is not None:
        if rights != ["FullAccess"]:
            problems.add("automapping applies to FullAccess only, but access_rights is %s: use access_rights "
                         "[FullAccess] or leave automapping out" % params["access_rights"])
        if params["state"] == "absent":
            problems.add("automapping cannot be used with state=absent: leave automapping out (or use state=present)")
        if params["deny"]:
            problems.add("automapping cannot be used with deny=true: leave automapping out")
    problems.raise_if_any()
    trustee = resolve_trustee(module.client, user, allow_sid=params["state"] == "absent")
    delegation = MailboxPermission(trustee, rights, params["inheritance_type"], params["automapping"], params["deny"],
                                   params["state"], params["acl_limit"])
    BulkRun(module, delegation).run(identities)
