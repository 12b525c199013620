# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documented multi-tenant example, run as the docs show it, against the emulator's two tenants."""

import json
import os
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from playbook_support import BIN, REPO, PlaybookRun, playbook_env  # pylint: disable=import-error

EXAMPLE = os.path.join(REPO, "docs", "examples", "many-tenants")
EXAMPLE_INVENTORY = "docs/examples/many-tenants/inventory.yml"
ROLE_README = os.path.join(REPO, "roles", "archive_access", "README.md")
PRE_EXISTING = ("ceo@", "legal.hold@")


def documented_commands():
    """The ansible-playbook commands of the role README that use the example inventory, by playbook."""
    with open(ROLE_README, encoding="utf-8") as handle:
        text = handle.read()
    commands = {}
    for line in re.findall(r"^ansible-playbook .*$", text.replace("\\\n", " "), re.MULTILINE):
        words = shlex.split(line)
        if EXAMPLE_INVENTORY in words:
            playbook = [w for w in words if w.startswith("m365.exchange.")][0]
            commands[playbook] = words
    return commands


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def dump(path, data):
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle, sort_keys=False)


def point_at_emulator(directory, tenants, tmp_path):
    """Replace the example's connection values and paths by the emulator's; everything else stays as shipped."""
    group_vars = os.path.join(directory, "group_vars", "tenants.yml")
    shared = load(group_vars)
    assert {"archive_access_ledger", "archive_access_report_dir"} <= set(shared)
    shared["archive_access_ledger"] = str(tmp_path / "campaigns" / "{{ inventory_hostname }}" / "ledger.jsonl")
    shared["archive_access_report_dir"] = str(tmp_path / "campaigns" / "{{ inventory_hostname }}" / "reports")
    dump(group_vars, shared)
    for tenant in tenants:
        path = os.path.join(directory, "host_vars", tenant.domain + ".yml")
        host = load(path)
        assert {"exo_client_id", "exo_certificate_path", "archive_access_delegate"} <= set(host)
        host.update(exo_client_id=tenant.record["client_id"], exo_certificate_path=tenant.record["certificate_path"],
                    exo_api_url=tenant.server.connection["api_url"],
                    exo_authority_url=tenant.server.connection["authority_url"],
                    exo_ca_path=tenant.server.connection["ca_path"])
        dump(path, host)


def run(words, inventory):
    command = [os.path.join(BIN, words[0])] + [inventory if w == EXAMPLE_INVENTORY else w for w in words[1:]]
    completed = subprocess.run(command, env=playbook_env(None), cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=900, check=False)
    return PlaybookRun(completed.returncode, completed.stdout)


def test_the_role_readme_documents_grant_and_revoke_over_the_example_inventory():
    commands = documented_commands()
    assert set(commands) == {"m365.exchange.grant_archive_access", "m365.exchange.revoke_archive_access"}
    for words in commands.values():
        # a per-tenant value given with -e would override every host's own (the delegate above all)
        assert not [w for w in words if w.startswith("archive_access_delegate")], words


@pytest.mark.parametrize("name", ["inventory.yml", "group_vars/tenants.yml", "host_vars/contoso.onmicrosoft.com.yml",
                                  "host_vars/fabrikam.onmicrosoft.com.yml"])
def test_the_example_files_parse(name):
    assert isinstance(load(os.path.join(EXAMPLE, name)), dict)


def test_many_tenants_as_documented(tenants, tmp_path):
    directory = str(tmp_path / "many-tenants")
    shutil.copytree(EXAMPLE, directory)
    point_at_emulator(directory, tenants, tmp_path)
    inventory = os.path.join(directory, "inventory.yml")
    contoso, fabrikam = tenants
    commands = documented_commands()

    grant = run(commands["m365.exchange.grant_archive_access"], inventory)
    assert grant.returncode == 0, grant
    for tenant in tenants:
        holders = tenant.full_access_holders()
        assert len(holders) > 80, tenant.domain  # each tenant's own delegate was found and granted
        with open(str(tmp_path / "campaigns" / tenant.domain / "ledger.jsonl"), encoding="utf-8") as handle:
            first = json.loads(handle.readline())  # the campaign header
        assert (first["tenant"], first["delegate"]) == (tenant.domain, tenant.delegate)
    # each tenant's own scope: Contoso excludes info@, Fabrikam covers user mailboxes only
    assert "info@" + contoso.domain not in contoso.full_access_holders()
    assert "support@" + contoso.domain in contoso.full_access_holders()
    assert not {"info@" + fabrikam.domain, "support@" + fabrikam.domain} & fabrikam.full_access_holders()

    revoke = run(commands["m365.exchange.revoke_archive_access"], inventory)
    assert revoke.returncode == 0, revoke
    for tenant in tenants:
        assert tenant.full_access_holders() == set(local + tenant.domain for local in PRE_EXISTING)
