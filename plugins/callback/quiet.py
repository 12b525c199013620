# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: quiet
type: stdout
short_description: One line per step, failures in full
version_added: 1.0.0
author:
  - m365.exchange developers (@m365-exchange)
description:
  - A stdout callback for playbooks that tell a story in a few lines, such as the collection's demo
    (C(python3 noxfile.py -s demo) uses it).
  - It prints the name of each play, the message of every C(ansible.builtin.debug) task written in the playbook
    itself (not in a role), and one recap line per host at the end. Nothing else is printed for tasks that succeed
    or are skipped, including the tasks of roles and the C(included:) lines.
  - A failed task is printed in full, with its task banner, as the default callback prints it; a failure that the
    task ignores (C(ignore_errors)) is not. Unreachable hosts, warnings, deprecations and diffs (C(--diff)) are
    printed as usual.
  - A message is printed as it is; a list is printed one line per item. A message of a host other than C(localhost)
    starts with the host's name.
  - With C(-v) or more, the callback prints everything the default callback prints at that verbosity, so the full
    output of the same playbook is one flag away.
extends_documentation_fragment:
  - ansible.builtin.default_callback
  - ansible.builtin.result_format_callback
requirements:
  - Set as the stdout callback, for example with the environment variable E(ANSIBLE_STDOUT_CALLBACK=m365.exchange.quiet)
    or C(stdout_callback = m365.exchange.quiet) in the C([defaults]) section of C(ansible.cfg).
notes:
  - Messages of C(ansible.builtin.debug) tasks with a O(ansible.builtin.debug#module:verbosity) above the current
    verbosity are skipped by Ansible and therefore not printed.
  - Without C(-v) the options that choose which task results are shown (O(display_ok_hosts), O(display_skipped_hosts),
    O(show_per_host_start)) have no effect; O(show_custom_stats) adds one line of custom stats after the recap.
seealso:
  - name: The collection's demo
    description: The demo playbook and its quiet output.
    link: https://github.com/m365-exchange/m365.exchange/blob/main/docs/getting-started.md#7-try-it-against-the-emulator
"""

EXAMPLES = r"""
# One line per step for a playbook run:
#   ANSIBLE_STDOUT_CALLBACK=m365.exchange.quiet ansible-playbook site.yml
# The same playbook with every task and its result:
#   ANSIBLE_STDOUT_CALLBACK=m365.exchange.quiet ansible-playbook site.yml -v

# A task whose message the callback prints: a debug task in the playbook, not in a role
- name: Say what the grant did
  ansible.builtin.debug:
    msg: "grant: {{ grant.summary.added }} mailboxes added"
"""

import json

from ansible import constants as C
from ansible.plugins.callback.default import CallbackModule as DefaultCallbackModule

DEBUG_ACTIONS = frozenset(("debug", "ansible.builtin.debug", "ansible.legacy.debug"))
# The recap's counts, in the default callback's order: (label, key of stats.summarize())
RECAP = (("ok", "ok"), ("changed", "changed"), ("unreachable", "unreachable"), ("failed", "failures"),
         ("skipped", "skipped"), ("rescued", "rescued"), ("ignored", "ignored"))


class CallbackModule(DefaultCallbackModule):
    """The default callback, reduced to the playbook's own debug messages, failures and a recap."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "m365.exchange.quiet"

    def _verbose(self):
        return self._display.verbosity > 0

    # ------------------------------------------------------------------ plays and tasks

    def v2_playbook_on_play_start(self, play):
        if self._verbose():
            super().v2_playbook_on_play_start(play)
            return
        self._play = play
        name = play.get_name().strip()
        if play.check_mode and self.get_option("check_mode_markers"):
            name += " [CHECK MODE]"
        if name:
            self._display.display(name)

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._verbose():
            super().v2_playbook_on_task_start(task, is_conditional)
            return
        # Remembered for the banner of a failure; nothing is printed now.
        self._task_type_cache[task._uuid] = "TASK"
        self._last_task_name = task.get_name().strip()

    def v2_playbook_on_handler_task_start(self, task):
        if self._verbose():
            super().v2_playbook_on_handler_task_start(task)
            return
        self._task_type_cache[task._uuid] = "RUNNING HANDLER"
        self._last_task_name = task.get_name().strip()

    def v2_playbook_on_include(self, included_file):
        if self._verbose():
            super().v2_playbook_on_include(included_file)

    # ------------------------------------------------------------------ results

    def v2_runner_on_ok(self, result):
        if self._verbose():
            super().v2_runner_on_ok(result)
            return
        self._handle_warnings(result._result)
        if self._is_story(result._task) and not (result._task.loop and "results" in result._result):
            self._say(result, self._message(result._result))

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if self._verbose() or not ignore_errors:
            super().v2_runner_on_failed(result, ignore_errors=ignore_errors)
            return
        self._handle_warnings(result._result)

    def v2_runner_on_skipped(self, result):
        if self._verbose():
            super().v2_runner_on_skipped(result)
            return
        self._handle_warnings(result._result)

    def v2_runner_item_on_ok(self, result):
        if self._verbose():
            super().v2_runner_item_on_ok(result)
            return
        self._handle_warnings(result._result)
        if self._is_story(result._task):
            self._say(result, self._message(result._result))

    def v2_runner_item_on_skipped(self, result):
        if self._verbose():
            super().v2_runner_item_on_skipped(result)
            return
        self._handle_warnings(result._result)

    def v2_runner_retry(self, result):
        if self._verbose():
            super().v2_runner_retry(result)

    def v2_playbook_on_stats(self, stats):
        if self._verbose():
            super().v2_playbook_on_stats(stats)
            return
        for host in sorted(stats.processed.keys()):
            counts = stats.summarize(host)
            line = "Recap: %s %s" % (host, " ".join("%s=%d" % (label, counts[key]) for label, key in RECAP))
            self._display.display(line, color=self._recap_color(counts), screen_only=True)
            self._display.display(line, log_only=True)
        if stats.custom and self.get_option("show_custom_stats"):
            self._display.display("Custom stats: %s" % _text(stats.custom))

    @staticmethod
    def _recap_color(counts):
        """The colour of a host's recap line: as the default callback colours the host name."""
        if counts["failures"] or counts["unreachable"]:
            return C.COLOR_ERROR
        if counts["changed"]:
            return C.COLOR_CHANGED
        return C.COLOR_OK

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _is_story(task):
        """A debug task of the playbook itself: its message is a line of the story."""
        return task.action in DEBUG_ACTIONS and task._role is None

    @staticmethod
    def _message(result):
        """What a debug task says: its msg, or the variable it shows."""
        if "msg" in result:
            return result["msg"]
        hidden = ("changed", "failed", "skipped", "item", "ansible_loop_var", "ansible_index_var")
        return ["%s: %s" % (key, _text(result[key])) for key in result if not key.startswith("_") and key not in hidden]

    def _say(self, result, message):
        host = result._host.get_name()
        prefix = "" if host == "localhost" else host + ": "
        lines = message if isinstance(message, (list, tuple)) else [message]
        for line in lines:
            self._display.display(prefix + _text(line))


def _text(value):
    """A value as one line: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
