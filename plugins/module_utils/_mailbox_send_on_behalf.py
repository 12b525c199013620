# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The mailbox_send_on_behalf module: its options, their checks, and the bulk run of the SendOnBehalf delegation."""

from ansible_collections.m365.exchange.plugins.module_utils._admin_api import V2
from ansible_collections.m365.exchange.plugins.module_utils._argspec import BULK, STATE, merged
from ansible_collections.m365.exchange.plugins.module_utils._bulk import BulkRun
from ansible_collections.m365.exchange.plugins.module_utils._send_on_behalf import SendOnBehalf
from ansible_collections.m365.exchange.plugins.module_utils._trustees import is_sid, resolve_trustee, trustee_problem
from ansible_collections.m365.exchange.plugins.module_utils._validation import Problems, bulk_options

ARGUMENT_SPEC = merged(
    BULK, STATE,
    user=dict(type="str", required=True, aliases=["trustee", "delegate"]),
)


def run(module):
    params = module.params
    problems = Problems()
    identities = bulk_options(params, problems)
    user = params["user"]
    if is_sid(user):
        problems.add("user '%s' is a SID: GrantSendOnBehalfTo holds recipients, and Exchange drops a deleted delegate "
                     "from it by itself; name the delegate by user principal name, primary SMTP address or GUID"
                     % user.strip())
    else:
        problems.add(trustee_problem(user))
    problems.raise_if_any()
    trustee = resolve_trustee(module.client, user)
    BulkRun(module, SendOnBehalf(trustee, params["state"], v2=params.get("admin_api") == V2)).run(identities)
