# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX credential types shipped in docs/awx/credential-types, injected as AWX does and run with ansible-runner."""

import os
import stat
import tempfile
import types

import pytest
import yaml
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.m365.exchange.plugins.module_utils._connection import CONNECTION_ARGUMENT_SPEC

from playbook_support import BIN, REPO, collections_path  # pylint: disable=import-error

TYPES = os.path.join(REPO, "docs", "awx", "credential-types")
FIELD_TYPES = ("string", "boolean")
# What the modules read from the environment (plugins/module_utils/_connection.py).
MODULE_ENV = set(name for spec in CONNECTION_ARGUMENT_SPEC.values() for name in spec["fallback"][1])

# A job template's playbook in an AWX project: no connection settings, the credential provides them.
JOB = """
- name: A job that uses the Exchange Online credential
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: FullAccess for the archive account on one mailbox
      m365.exchange.mailbox_permission:
        identity: ["{{ mailbox }}"]
        user: "{{ delegate }}"
        access_rights: [FullAccess]
        automapping: false
"""


def load(name):
    with open(os.path.join(TYPES, name), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def credential_type(kind):
    return load("exo-%s-inputs.yml" % kind), load("exo-%s-injectors.yml" % kind)


def inject(inputs, injectors, credential, private_data_dir):
    """Render a credential's injectors as AWX does (awx/main/models/credential.py, CredentialType.inject_credential).

    AWX leaves empty fields out of the template namespace (they render as empty strings), writes each file
    injector into the job's env/ directory with mode 0600 and names it tower.filename.<label>, and renders
    every env injector with a sandboxed Jinja environment.
    """
    fields = dict((field["id"], field) for field in inputs["fields"])
    missing = [name for name in inputs.get("required", []) if not credential.get(name)]
    assert not missing, "AWX refuses a credential without %s" % missing
    assert set(credential) <= set(fields)
    namespace = dict((name, value) for name, value in credential.items() if len(value))
    namespace["tower"] = tower = types.SimpleNamespace(filename=types.SimpleNamespace())
    sandbox = ImmutableSandboxedEnvironment()
    env_dir = os.path.join(private_data_dir, "env")
    os.makedirs(env_dir, exist_ok=True)
    for label, template in injectors.get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as out:
            out.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." in label:
            setattr(tower.filename, label.split(".", 1)[1], path)
        else:
            tower.filename = path
    return dict((name, sandbox.from_string(template).render(**namespace))
                for name, template in injectors.get("env", {}).items())


@pytest.mark.parametrize("kind", ["certificate", "client-secret"])
def test_the_shipped_types_are_valid_awx_credential_types(kind):
    inputs, injectors = credential_type(kind)
    assert set(inputs) <= {"fields", "required"} and set(injectors) <= {"file", "env", "extra_vars"}
    ids = [field["id"] for field in inputs["fields"]]
    assert len(ids) == len(set(ids))
    for field in inputs["fields"]:
        assert field.get("type", "string") in FIELD_TYPES and field["label"]
    assert set(inputs["required"]) <= set(ids)
    for name, template in injectors["env"].items():
        # AWX refuses ANSIBLE_* variables; every other one must be something the modules read
        assert name in MODULE_ENV, name
        assert "{{" in template
    # every template names only fields of the type (and tower.filename.<label> of a file injector)
    sandbox = ImmutableSandboxedEnvironment()
    for template in list(injectors["env"].values()) + list(injectors.get("file", {}).values()):
        assert meta.find_undeclared_variables(sandbox.parse(template)) <= set(ids) | {"tower"}, template


def job_env(tenant):
    """What the job gets besides the credential: the emulator's endpoints (in AWX: Extra Environment Variables)."""
    connection = tenant.server.connection
    return {"EXO_API_URL": connection["api_url"], "EXO_AUTHORITY_URL": connection["authority_url"],
            "EXO_CA_PATH": connection["ca_path"], "ANSIBLE_COLLECTIONS_PATH": collections_path()}


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("case", ["certificate, no password, no cloud", "encrypted certificate with its password",
                                  "client secret, no cloud"])
def test_a_job_runs_with_the_credential_as_awx_injects_it(tenant, tmp_path, monkeypatch, case):
    ansible_runner = pytest.importorskip("ansible_runner")
    monkeypatch.setenv("PATH", BIN + os.pathsep + os.environ.get("PATH", ""))
    for name in list(os.environ):
        if name.startswith(("EXO_", "AZURE_")):
            monkeypatch.delenv(name)
    record = tenant.record
    credential = {"tenant": record["tenant"], "client_id": record["client_id"], "environment": ""}
    if case.startswith("client secret"):
        kind = "client-secret"
        credential["client_secret"] = record["client_secret"]
    elif case.startswith("encrypted"):
        kind = "certificate"
        credential.update(certificate=read(record["certificate_encrypted_path"]),
                          certificate_password=record["certificate_password"])
    else:
        kind = "certificate"
        credential.update(certificate=read(record["certificate_path"]), certificate_password="")
    private_data_dir = tmp_path / "job"
    (private_data_dir / "project").mkdir(parents=True)
    (private_data_dir / "project" / "job.yml").write_text(JOB, encoding="utf-8")
    injected = inject(*credential_type(kind), credential=credential, private_data_dir=str(private_data_dir))
    # empty fields arrive as empty variables, which the modules must treat as unset
    assert injected["EXO_ENVIRONMENT"] == ""
    if kind == "certificate":
        assert injected["EXO_CERTIFICATE_PASSWORD"] == credential["certificate_password"]
        assert stat.S_IMODE(os.stat(injected["EXO_CERTIFICATE_PATH"]).st_mode) == 0o600

    mailbox = "info@" + tenant.domain
    before = tenant.full_access_holders()
    assert mailbox not in before
    run = ansible_runner.run(private_data_dir=str(private_data_dir), playbook="job.yml",
                             extravars={"mailbox": mailbox, "delegate": tenant.delegate},
                             envvars=dict(job_env(tenant), **injected), quiet=True)
    failures = [e["event_data"].get("res", {}).get("msg") for e in run.events if e.get("event") == "runner_on_failed"]
    assert run.status == "successful", failures
    assert tenant.full_access_holders() == before | {mailbox}
