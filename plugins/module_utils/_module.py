# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ExchangeModule: the AnsibleModule every module of the collection is built on."""

import re
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import msal  # pylint: disable=unused-import
except ImportError:
    MSAL_IMPORT_ERROR = traceback.format_exc()
else:
    MSAL_IMPORT_ERROR = None

try:
    import requests  # pylint: disable=unused-import
except ImportError:
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

from ansible_collections.m365.exchange.plugins.module_utils._client import ExchangeOnlineClient
from ansible_collections.m365.exchange.plugins.module_utils._connection import (
    CONNECTION_ARGUMENT_SPEC,
    ConnectionSettings,
)
from ansible_collections.m365.exchange.plugins.module_utils._errors import ExchangeError, name_the_app
from ansible_collections.m365.exchange.plugins.module_utils._pipeline import Pipeline
from ansible_collections.m365.exchange.plugins.module_utils._watchdog import ControllerWatch

_QUOTED = re.compile(r"(\"[^\"]*\"|'[^']*')")


class ExchangeModule(AnsibleModule):
    """AnsibleModule with the connection options, a lazily built client and clear failures."""

    def __init__(self, argument_spec, **kwargs):
        spec = dict(CONNECTION_ARGUMENT_SPEC)
        spec.update(argument_spec)
        super().__init__(argument_spec=spec, **kwargs)
        self._require("msal", MSAL_IMPORT_ERROR)
        self._require("requests", REQUESTS_IMPORT_ERROR)
        self._client = None
        self._watch = None
        self._warning_groups = {}

    def _require(self, name, import_error):
        if import_error:
            self.fail_json(msg=missing_required_lib(name), exception=import_error)

    @property
    def client(self):
        if self._client is None:
            try:
                settings = ConnectionSettings.from_params(self.params)
            except ExchangeError as exc:
                self.fail_on(exc)
            if not settings.validate_certs:
                self.warn("validate_certs is false: the TLS certificates of Entra ID and Exchange Online are not "
                          "verified, so credentials and tokens can be intercepted.")
            self._client = ExchangeOnlineClient(settings, pool_size=self.params.get("concurrency") or 10)
        return self._client

    def pipeline(self, stop_on_error=False):
        return Pipeline(self.client, concurrency=self.params.get("concurrency") or 10, stop_on_error=stop_on_error)

    def controller_watch(self):
        """The watch of the process that started the module (started on first use; see _watchdog)."""
        if self._watch is None:
            self._watch = ControllerWatch().start()
        return self._watch

    def collect_warnings(self, warnings):
        """Keep server warnings, grouping those that differ only in the quoted names they mention."""
        for warning in warnings:
            key = _QUOTED.sub("'...'", warning)
            group = self._warning_groups.setdefault(key, [warning, 0])
            group[1] += 1

    def flush_warnings(self):
        for example, count in self._warning_groups.values():
            if count > 1:
                self.warn("%s (and %d similar warnings)" % (example, count - 1))
            else:
                self.warn(example)
        self._warning_groups = {}

    def api_stats(self):
        return self._client.stats.as_dict() if self._client else {}

    def fail_on(self, error, **result):
        """Fail the task with an ExchangeError or a message; results gathered so far are kept."""
        self.flush_warnings()
        result.setdefault("api_stats", self.api_stats())
        if isinstance(error, ExchangeError):
            result["error"] = error.to_dict()
        self.fail_json(msg=str(error), **result)

    def finish(self, **result):
        self.flush_warnings()
        result.setdefault("api_stats", self.api_stats())
        self.exit_json(**result)


def run_module(argument_spec, run, failure_result=None, **kwargs):
    """A module's main(): build the module, run it, and turn every ExchangeError into one clear failure.

    `run(module)` ends the module itself (module.finish or module.fail_on); `failure_result` holds what the
    result carries on failure (e.g. an empty list the caller may loop over).
    """
    module = ExchangeModule(argument_spec=argument_spec, **kwargs)
    try:
        run(module)
    except ExchangeError as exc:
        error = name_the_app(exc, module.params.get("client_id"), module.params.get("tenant"))
        module.fail_on(error, changed=False, **dict(failure_result or {}))
