# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The m365.exchange.quiet stdout callback: one line per step, failures in full, everything with -v."""

import os
import subprocess

import pytest

from playbook_support import BIN, collections_path  # pylint: disable=import-error

# A module in the playbook's library/ that succeeds with a warning.
WARNING_MODULE = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

module = AnsibleModule(argument_spec={})
module.warn("a warning from the module")
module.exit_json(changed=False)
"""

ROLE_TASKS = """
- name: A debug task of a role, not printed
  ansible.builtin.debug:
    msg: from the role
"""

PLAYBOOK = """
- name: The story
  hosts: all
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: A line
      ansible.builtin.debug:
        msg: "step one on {{ inventory_hostname }}"

    - name: Lines
      ansible.builtin.debug:
        msg: [first line, {key: value}]

    - name: A role
      ansible.builtin.include_role:
        name: storyrole

    - name: A module, not printed
      ansible.builtin.command: "true"
      changed_when: false

    - name: A failure the task ignores, not printed
      ansible.builtin.fail:
        msg: ignored failure
      ignore_errors: true

    - name: A loop
      ansible.builtin.debug:
        msg: "item {{ item }}"
      loop: [1, 2]

    - name: A module that warns
      warning_module:

    - name: The failure that stops the play
      ansible.builtin.fail:
        msg: the real failure
      when: fail_at_end | default(false) | bool
"""


@pytest.fixture
def play(tmp_path):
    (tmp_path / "roles" / "storyrole" / "tasks").mkdir(parents=True)
    (tmp_path / "roles" / "storyrole" / "tasks" / "main.yml").write_text(ROLE_TASKS, encoding="utf-8")
    (tmp_path / "story.yml").write_text(PLAYBOOK, encoding="utf-8")
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "warning_module.py").write_text(WARNING_MODULE, encoding="utf-8")

    def run(*args, hosts=("localhost",)):
        inventory = tmp_path / "hosts.ini"
        inventory.write_text("\n".join(hosts) + "\n", encoding="utf-8")
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_STDOUT_CALLBACK="m365.exchange.quiet",
                   ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_ROLES_PATH=str(tmp_path / "roles"))
        completed = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(inventory), str(tmp_path / "story.yml"),
                                    *args], env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, timeout=300, check=False)
        return completed.returncode, completed.stdout.splitlines()

    return run


def test_one_line_per_step(play):
    code, lines = play()
    assert code == 0, lines
    assert lines == [
        "The story",
        "step one on localhost",
        "first line",
        '{"key": "value"}',
        "item 1",
        "item 2",
        "[WARNING]: a warning from the module",
        "Recap: localhost ok=8 changed=0 unreachable=0 failed=0 skipped=1 rescued=0 ignored=1",
    ]


def test_lines_of_other_hosts_name_the_host(play):
    code, lines = play(hosts=("tenant-a ansible_connection=local",))
    assert code == 0, lines
    assert lines[:3] == ["The story", "tenant-a: step one on tenant-a", "tenant-a: first line"]


def test_a_failure_is_shown_in_full(play):
    code, lines = play("-e", "fail_at_end=true")
    assert code == 2
    text = "\n".join(lines)
    assert "TASK [The failure that stops the play]" in text
    assert 'fatal: [localhost]: FAILED! => {"changed": false, "msg": "the real failure"}' in text
    assert "ignored failure" not in text
    assert lines[-1] == "Recap: localhost ok=8 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=1"


def test_verbose_output_is_one_flag_away(play):
    code, lines = play("-v")
    assert code == 0, lines
    text = "\n".join(lines)
    for banner in ("PLAY [The story]", "TASK [A module, not printed]", "TASK [storyrole : A debug task of a role, not printed]",
                   "PLAY RECAP"):
        assert banner in text
    assert "from the role" in text and "ignored failure" in text
