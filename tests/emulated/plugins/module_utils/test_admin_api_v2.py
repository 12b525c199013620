# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""admin_api=v2: the cmdlets the Admin API v2.0 documents go to its endpoints, one request each; the rest to
InvokeCommand and $batch as before."""

import pytest

from ansible_collections.m365.exchange.plugins.module_utils import _errors as errors
from ansible_collections.m365.exchange.plugins.module_utils._admin_api import PERMISSION_HINT, v2_endpoint, with_v2_hint
from ansible_collections.m365.exchange.plugins.module_utils._client import Command
from ansible_collections.m365.exchange.plugins.module_utils._pipeline import Pipeline


def domain(emu):
    return emu.connection["tenant"]


def paths(emu, last=50):
    return [(entry.get("path"), entry.get("cmdlet")) for entry in emu.requests(last)
            if "/adminapi/" in (entry.get("path") or "")]


@pytest.mark.parametrize("cmdlet, parameters, endpoint", [
    ("Get-Mailbox", {"Identity": "x"}, "Mailbox"),
    ("get-mailbox", {"identity": "x", "ResultSize": 1}, "Mailbox"),
    ("Get-Mailbox", {"Filter": "Alias -eq 'x'"}, None),  # no -Filter on the v2.0 endpoint
    ("Set-Mailbox", {"Identity": "x", "GrantSendOnBehalfTo": {}, "Confirm": False}, "Mailbox"),
    ("Get-MailboxFolderPermission", {"Identity": "x:\\Calendar", "User": "y"}, "MailboxFolderPermission"),
    ("Get-MailboxFolderPermission", {"Identity": "x:\\Calendar", "GroupMailbox": True}, None),
    ("Remove-MailboxFolderPermission", {"Identity": "x:\\Calendar", "User": "y", "Confirm": False},
     "MailboxFolderPermission"),
    ("Get-MailboxPermission", {"Identity": "x"}, None),
    ("Add-RecipientPermission", {"Identity": "x"}, None),
])
def test_which_commands_the_v2_endpoints_take(cmdlet, parameters, endpoint):
    assert v2_endpoint(cmdlet, parameters) == endpoint


def test_invoke_command_stays_the_default(emu, client):
    client.invoke("Get-Mailbox", {"Identity": "ceo@" + domain(emu)}, ("Identity",))
    assert [path for path, _cmdlet in paths(emu, 5)][-1].endswith("/InvokeCommand?$select=Identity")


def test_v2_sends_documented_cmdlets_to_their_endpoints_singly(emu, client_factory):
    client = client_factory(admin_api="v2")
    row = client.invoke("Get-Mailbox", {"Identity": "ceo@" + domain(emu)}, ("Name", "GrantSendOnBehalfTo")).value[0]
    assert row["Name"] == "ceo" and row["GrantSendOnBehalfTo"] == ["helpdesk"]
    emu.reset_counters()
    commands = [Command("Get-Mailbox", {"Identity": "%s@%s" % (name, domain(emu))}, ("Name",))
                for name in ("ceo", "info", "legal.hold")]
    commands += [Command("Get-Recipient", {"Identity": "%s@%s" % (name, domain(emu))}, ("Name",))
                 for name in ("ceo", "info")]
    commands.append(Command("Get-MailboxFolderPermission", {"Identity": "ceo@%s:\\Calendar" % domain(emu)}))
    results = Pipeline(client, concurrency=4).run(commands)
    assert [r.value[0]["Name"] for r in results[:5]] == ["ceo", "info", "legal.hold", "ceo", "info"]
    assert "LimitedDetails" in [row["AccessRights"][0] for row in results[5].value]
    logged = paths(emu)
    v2 = sorted(cmdlet for path, cmdlet in logged if "/adminapi/v2.0/" in path)
    assert v2 == ["Get-Mailbox"] * 3 + ["Get-MailboxFolderPermission"]
    assert any(path.endswith("/adminapi/v2.0/%s/Mailbox?$select=Name" % domain(emu)) for path, _c in logged)
    assert not any("$batch" in path and "v2.0" in path for path, _c in logged)
    assert any(path.endswith("/$batch") for path, _c in logged)  # Get-Recipient: InvokeCommand's $batch


def test_an_app_without_the_v2_permission_is_told_which_permission(emu, client_factory):
    emu.update_app(emu.connection["client_id"], app_role_v2=False)
    try:
        client = client_factory(admin_api="v2")
        with pytest.raises(errors.AuthorizationError) as refused:
            client.invoke("Get-Mailbox", {"Identity": "ceo@" + domain(emu)})
        assert "Exchange.ManageAsAppV2" in str(with_v2_hint(refused.value))
        assert PERMISSION_HINT in str(refused.value)
        # InvokeCommand still answers the same app
        assert client.invoke("Get-Recipient", {"Identity": "ceo@" + domain(emu)}).value
    finally:
        emu.reset()
