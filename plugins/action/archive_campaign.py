# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The archive_campaign action: the archive_access role's steps on the controller (inputs, plan and ledger, each
chunk's record, reports). The logic is in plugin_utils/_campaign.py and _ledger.py.

The large inputs (the scope's records, a chunk's results) can be named instead of passed (``*_from``): the action
reads them from the task's variables as they are, where templating them into arguments would copy 100,000 records.
"""

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.m365.exchange.plugins.plugin_utils._app_campaign import app_finish, app_plan
from ansible_collections.m365.exchange.plugins.plugin_utils._campaign import (
    ACTIONS,
    CampaignError,
    check_inputs,
    finish,
    plan,
    record_chunk,
)
from ansible_collections.m365.exchange.plugins.plugin_utils._ledger import LedgerError

STEPS = ("validate", "plan", "record", "finish", "app_plan", "app_finish")

# Large lists (selected mailboxes, a chunk's results) are "raw": Ansible's validator would copy each element.
ARGUMENT_SPEC = {
    "step": {"type": "str", "required": True, "choices": list(STEPS)},
    "action": {"type": "str", "choices": list(ACTIONS)},
    "tenant": {"type": "str"},
    "delegate": {"type": "raw"},
    "access_rights": {"type": "list", "elements": "str", "default": ["FullAccess"]},
    "scope": {"type": "raw"},
    "selected": {"type": "raw"},
    "selected_from": {"type": "str"},
    "excluded": {"type": "raw"},
    "exclude_missing": {"type": "list", "elements": "str", "default": []},
    "acl_full": {"type": "raw"},
    "acl_limit_action": {"type": "str", "default": "stop", "choices": ["stop", "skip"]},
    "ledger": {"type": "str"},
    "data_dir": {"type": "str"},
    "report_dir": {"type": "str"},
    "chunk_size": {"type": "raw"},
    "concurrency": {"type": "raw"},
    "propagation_minutes": {"type": "raw", "default": 60},
    "campaigns": {"type": "raw"},
    "revoke_all": {"type": "bool", "default": False},
    "run": {"type": "raw"},
    "index": {"type": "int"},
    "identities": {"type": "raw"},
    "result": {"type": "raw"},
    "result_from": {"type": "str"},
    "identities_from": {"type": "str"},
    "templates": {"type": "str"},
    "stopped": {"type": "str"},
    "publish": {"type": "bool", "default": True},
    # archive_access_method=application_rbac
    "method": {"type": "str", "default": "full_access"},
    "app": {"type": "raw"},
    "app_roles": {"type": "raw"},
    "app_object_id": {"type": "raw"},
    "app_scope_by": {"type": "raw"},
    "mark_attribute": {"type": "raw"},
    "app_record": {"type": "raw"},
    "app_lookup": {"type": "raw"},
    "full_access_only": {"type": "raw"},
    "register_app": {"type": "bool", "default": False},
    "ews": {"type": "raw"},
    "results": {"type": "raw"},
}


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(ARGUMENT_SPEC)
        step = args["step"]
        if args.get("selected_from"):
            args["selected"] = (task_vars.get(args["selected_from"]) or {}).get("mailboxes") or []
        try:
            if step == "validate":
                values, problems = check_inputs(args)
                if problems:
                    raise CampaignError("Invalid input, nothing was changed: %s" % "; ".join(problems))
                result.update(values)
            elif step == "plan":
                result.update(plan(args, check_mode=bool(self._task.check_mode)))
            elif step == "app_plan":
                result.update(app_plan(args, check_mode=bool(self._task.check_mode)))
            elif step == "app_finish":
                result.update(app_finish(args["run"], args["templates"], args.get("results") or {},
                                         stopped=args.get("stopped") or None, publish=args["publish"]))
            elif step == "record":
                identities = task_vars.get(args["identities_from"]) if args.get("identities_from") else None
                outcome = task_vars.get(args["result_from"]) if args.get("result_from") else None
                result.update(record_chunk(args["run"], args["index"], identities or args["identities"] or [],
                                           outcome or args["result"] or {}))
            else:
                result.update(finish(args["run"]["work"], args["templates"], args["propagation_minutes"],
                                     stopped=args.get("stopped") or None, publish=args["publish"]))
        except (CampaignError, LedgerError) as exc:
            raise AnsibleActionFail(str(exc))
        result.setdefault("changed", False)
        return result
