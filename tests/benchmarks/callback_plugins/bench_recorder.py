# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark recorder: the time of each task and what each module process reported, as JSON.

Enabled by tests/benchmarks/bench.py only (ANSIBLE_CALLBACKS_ENABLED=bench_recorder); writes the file named by
BENCH_RECORD when the playbook ends. Only small fields are kept (summary, api_stats, counts), never the
per-mailbox results, so that recording does not add to what is measured.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
name: bench_recorder
type: aggregate
short_description: Record task times and module statistics for the benchmark
description:
  - Writes the JSON file named by the environment variable E(BENCH_RECORD) at the end of the playbook.
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

KEPT_FIELDS = ("summary", "api_stats", "changed", "failed", "missing")


def item_record(result, action=None):
    """The small part of one module result the benchmark reports, with the task's action (module) name."""
    record = dict((key, result[key]) for key in KEPT_FIELDS if key in result)
    if action:
        record["action"] = action
    if "mailboxes" in result:
        record["mailbox_count"] = len(result["mailboxes"] or [])
    if result.get("failed"):
        record["msg"] = str(result.get("msg", ""))[:2000]
    return record


def raw_result(result):
    """The task result as the strategy holds it.

    ansible-core 2.19 gives every callback plugin its own copy of a result, transformed to native types the first
    time the plugin reads it: for 5,000 mailboxes a deep copy that cost the playbook 0.1-0.3 s (measured as the
    time from the module's end to the playbook's). The recorder reads a few small fields only, so it takes them
    from the untransformed result (older cores have no such copy).
    """
    return getattr(result, "_return_data", None) or result._result  # pylint: disable=protected-access


class CallbackModule(CallbackBase):
    """Collects per-task timing and per-item module statistics."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_recorder"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.record = {"started": time.time(), "tasks": []}
        self.current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close_task()
        self.current = {"name": task.get_name(), "started": time.time(), "items": []}

    def v2_runner_on_ok(self, result):
        self._add(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._add(result)

    def v2_playbook_on_stats(self, stats):
        self._close_task()
        self.record["ended"] = time.time()
        path = os.environ.get("BENCH_RECORD")
        if path:
            with open(path, "w") as handle:
                json.dump(self.record, handle, default=str)

    def _add(self, result):
        if self.current is None:
            return
        data = raw_result(result)
        action = getattr(getattr(result, "_task", None), "action", None)
        items = data.get("results") if isinstance(data.get("results"), list) and "summary" not in data else [data]
        self.current["items"].extend(item_record(item, action) for item in items if isinstance(item, dict))

    def _close_task(self):
        if self.current is not None:
            self.current["ended"] = time.time()
            self.record["tasks"].append(self.current)
            self.current = None
