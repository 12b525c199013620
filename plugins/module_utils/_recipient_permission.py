# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The recipient_permission module (SendAs): its options, their checks, and the bulk run of the SendAs delegation."""

from ansible_collections.m365.exchange.plugins.module_utils._argspec import BULK, STATE, merged
from ansible_collections.m365.exchange.plugins.module_utils._bulk import BulkRun
from ansible_collections.m365.exchange.plugins.module_utils._send_as import ACCESS_RIGHTS, SendAs
from ansible_collections.m365.exchange.plugins.module_utils._trustees import is_sid, resolve_trustee, trustee_problem
from ansible_collections.m365.exchange.plugins.module_utils._validation import Problems, bulk_options, choice_list

ARGUMENT_SPEC = merged(
    BULK, STATE,
    user=dict(type="str", required=True, aliases=["trustee"]),
    access_rights=dict(type="list", elements="str", default=list(ACCESS_RIGHTS)),
)


def run(module):
    params = module.params
    problems = Problems()
    identities = bulk_options(params, problems)
    choice_list(params["access_rights"], ACCESS_RIGHTS, "access_rights", problems)
    user = params["user"]
    if is_sid(user):
        if params["state"] != "absent":
            problems.add("user '%s' is a SID: a SID names an orphaned trustee, whose SendAs can only be removed "
                         "(state=absent); to grant, name the trustee by user principal name, primary SMTP address or "
                         "GUID" % user.strip())
    else:
        problems.add(trustee_problem(user))
    problems.raise_if_any()
    trustee = resolve_trustee(module.client, user, allow_sid=params["state"] == "absent")
    BulkRun(module, SendAs(trustee, params["state"])).run(identities)
