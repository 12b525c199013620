# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() in-process with patched arguments and the fake Exchange of fake_exchange.py."""

import contextlib
import json
import os
import sys

import pytest

from ansible.module_utils import basic

from ansible_collections.m365.exchange.plugins.module_utils import _module

sys.path.insert(0, os.path.dirname(__file__))

from fake_exchange import FakeExchange, FakePipeline, FakeWatch  # noqa: E402 pylint: disable=wrong-import-position

CONNECTION = {"tenant": "contoso.onmicrosoft.com", "client_id": "00000000-0000-0000-0000-00000000c11e",
              "client_secret": "not-a-secret"}


class Exit(Exception):
    """exit_json or fail_json was called: the module's result."""

    def __init__(self, result, failed):
        super().__init__(result.get("msg"))
        self.result = result
        self.failed = failed


@contextlib.contextmanager
def module_args(args):
    """The module's arguments, on every supported ansible-core (2.19+ has patch_module_args)."""
    try:
        from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel
    except ImportError:
        patch_module_args = None
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    previous = basic._ANSIBLE_ARGS  # pylint: disable=protected-access
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode("utf-8")  # pylint: disable=protected-access
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = previous  # pylint: disable=protected-access


@pytest.fixture
def exchange():
    return FakeExchange()


@pytest.fixture
def run_module(exchange, monkeypatch):
    """run_module(module, watch=None, **args) -> (result dict, failed bool)."""

    warnings = []

    def warn(self, warning):  # pylint: disable=unused-argument
        warnings.append(warning)

    def exit_json(self, **result):  # pylint: disable=unused-argument
        result["warnings"] = list(warnings)
        raise Exit(result, False)

    def fail_json(self, msg, **result):  # pylint: disable=unused-argument
        result["msg"] = msg
        result["warnings"] = list(warnings)
        raise Exit(result, True)

    def run(module, watch=None, check_mode=False, diff=False, **args):
        watch = watch or FakeWatch()
        del warnings[:]
        monkeypatch.setattr(_module.ExchangeModule, "client", property(lambda self: exchange))
        monkeypatch.setattr(_module.ExchangeModule, "pipeline",
                            lambda self, stop_on_error=False: FakePipeline(exchange, stop_on_error, watch))
        monkeypatch.setattr(_module.ExchangeModule, "controller_watch", lambda self: watch)
        monkeypatch.setattr(basic.AnsibleModule, "warn", warn)
        monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
        monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
        arguments = dict(CONNECTION, **args)
        if check_mode:
            arguments["_ansible_check_mode"] = True
        if diff:
            arguments["_ansible_diff"] = True
        with module_args(arguments):
            with pytest.raises(Exit) as ended:
                module.main()
        return ended.value.result, ended.value.failed

    return run
