# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_args gives AnsibleModule its arguments on the ansible-core under test (2.16, 2.19, 2.21)."""

import json

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.m365.exchange.tests.unit.compat.module_args import module_args


def test_the_module_sees_the_arguments():
    with module_args({"identity": ["info@contoso.com"], "concurrency": "8"}):
        module = AnsibleModule(argument_spec={"identity": {"type": "list", "elements": "str"},
                                              "concurrency": {"type": "int", "default": 16}})
    assert module.params == {"identity": ["info@contoso.com"], "concurrency": 8}


def test_a_bad_argument_fails_the_module_with_its_message(capsys):
    with module_args({"concurrency": "many"}):
        with pytest.raises(SystemExit):
            AnsibleModule(argument_spec={"concurrency": {"type": "int"}})
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True and "concurrency" in result["msg"]
