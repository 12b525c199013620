# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""recipient_permission (SendAs) against a fake Exchange: what it sends, what it reports, what the tenant holds."""

import json

import pytest

from ansible_collections.m365.exchange.plugins.modules import recipient_permission

from fake_delegations import FakeDelegations  # pylint: disable=import-error


@pytest.fixture
def exchange():
    return FakeDelegations()


@pytest.fixture
def tenant(exchange):
    exchange.admin = exchange.add("archive.admin")
    exchange.helpdesk = exchange.add("helpdesk")
    exchange.ceo = exchange.add("ceo", names=("Morgan Chen",))
    exchange.info = exchange.add("info", kind="SharedMailbox")
    exchange.finance = exchange.add("finance", kind="MailUniversalDistributionGroup")
    exchange.team = exchange.add("archive-operators", kind="MailUniversalSecurityGroup")
    exchange.send_as["info"] = ["S-1-5-10", exchange.helpdesk.sid]  # pre-existing
    return exchange


def send_as(run_module, *identities, **args):
    args.setdefault("user", "archive.admin@contoso.com")
    return run_module(recipient_permission, identity=list(identities), **args)


def actions(result):
    return dict((entry["identity"], entry["action"]) for entry in result["results"])


def test_grant_adds_where_missing_and_a_rerun_writes_nothing(tenant, run_module):
    tenant.send_as["ceo"] = ["S-1-5-10", tenant.admin.sid]
    result, failed = send_as(run_module, "info@contoso.com", "ceo@contoso.com", "finance@contoso.com")
    assert not failed, result["msg"]
    assert actions(result) == {"info@contoso.com": "added", "ceo@contoso.com": "unchanged",
                               "finance@contoso.com": "added"}
    assert tenant.admin.sid in tenant.send_as["info"] and tenant.helpdesk.sid in tenant.send_as["info"]
    assert tenant.send_as["finance"] == [tenant.admin.sid]  # SendAs on a distribution group
    assert tenant.writes()[0] == ("Add-RecipientPermission", {"Identity": "info@contoso.com", "Trustee": tenant.admin.guid,
                                                              "AccessRights": ["SendAs"], "Confirm": False})
    tenant.calls = []
    result, failed = send_as(run_module, "info@contoso.com", "ceo@contoso.com", "finance@contoso.com",
                             list_unchanged=False)
    assert not failed and not result["changed"] and result["results"] == []
    assert result["summary"]["unchanged"] == 3 and tenant.writes() == []
    assert [cmdlet for cmdlet, _p in tenant.calls].count("Get-RecipientPermission") == 3


def test_the_trustee_is_matched_by_sid_not_by_the_trustee_string(tenant, run_module):
    # another user shows the same string in the Trustee column (two users named "Alex Martin")
    twin = tenant.add("alex.martin2")
    tenant.send_as["info"].append(twin.sid)
    tenant._display = lambda sid: "Alex Martin"  # pylint: disable=protected-access
    tenant.add("alex.martin")
    result, failed = send_as(run_module, "info@contoso.com", user="alex.martin@contoso.com")
    assert not failed and actions(result) == {"info@contoso.com": "added"}
    result, failed = send_as(run_module, "info@contoso.com", user="alex.martin@contoso.com", state="absent")
    assert not failed and actions(result) == {"info@contoso.com": "removed"}
    assert twin.sid in tenant.send_as["info"]


def test_check_mode_and_diff_plan_without_writing(tenant, run_module):
    result, failed = send_as(run_module, "info@contoso.com", "ceo@contoso.com", check_mode=True, diff=True)
    assert not failed and result["changed"]
    after = {"info@contoso.com": ["SendAs"], "ceo@contoso.com": ["SendAs"]}
    assert result["diff"]["after"]["archive.admin@contoso.com"] == after
    assert result["diff"]["before"]["archive.admin@contoso.com"] == {"info@contoso.com": [], "ceo@contoso.com": []}
    assert tenant.writes() == [] and tenant.admin.sid not in tenant.send_as["info"]


def test_revoke_removes_only_the_trustees_send_as(tenant, run_module):
    result, failed = send_as(run_module, "info@contoso.com", "ceo@contoso.com", user="helpdesk@contoso.com",
                             state="absent")
    assert not failed and actions(result) == {"info@contoso.com": "removed", "ceo@contoso.com": "unchanged"}
    assert tenant.send_as["info"] == ["S-1-5-10"]
    assert [cmdlet for cmdlet, _p in tenant.writes()] == ["Remove-RecipientPermission"]


def test_already_present_is_confirmed_by_a_read(tenant, run_module):
    def granted_meanwhile(cmdlet, parameters):
        if cmdlet == "Add-RecipientPermission":
            tenant.on_call = None
            tenant.send_as["ceo"] = ["S-1-5-10", tenant.admin.sid]
    tenant.on_call = granted_meanwhile
    result, failed = send_as(run_module, "ceo@contoso.com")
    assert not failed and actions(result) == {"ceo@contoso.com": "added"}
    assert [cmdlet for cmdlet, _p in tenant.calls].count("Get-RecipientPermission") == 2


def test_a_remove_that_says_the_entry_is_not_there_while_it_is_fails(tenant, run_module):
    tenant._remove_recipientpermission = lambda parameters: FakeDelegations._remove_recipientpermission(  # noqa
        tenant, dict(parameters, Trustee="S-1-5-21-9-9-9-9"))  # pylint: disable=protected-access
    result, failed = send_as(run_module, "info@contoso.com", user="helpdesk@contoso.com", state="absent")
    assert failed
    entry = result["results"][0]
    assert entry["action"] == "failed" and "still shows SendAs for helpdesk@contoso.com" in entry["error"]
    assert "because the ACE isn't present" in entry["error"]
    assert tenant.helpdesk.sid in tenant.send_as["info"]


@pytest.mark.parametrize("user, says", [
    ("finance@contoso.com", "distribution group"),
    ("nobody@contoso.com", "was not found"),
])
def test_trustees_that_cannot_hold_send_as_are_refused_before_any_write(tenant, run_module, user, says):
    result, failed = send_as(run_module, "info@contoso.com", user=user)
    assert failed and says in result["msg"] and user in result["msg"]
    assert tenant.writes() == []


def test_a_group_trustee_gets_send_as(tenant, run_module):
    result, failed = send_as(run_module, "info@contoso.com", user="archive-operators@contoso.com")
    assert not failed and tenant.team.sid in tenant.send_as["info"]
    assert result["trustee"]["recipient_type_details"] == "MailUniversalSecurityGroup"


def test_an_orphaned_sid_can_be_removed_but_not_granted(tenant, run_module):
    orphan = "S-1-5-21-9-9-9-2005"
    tenant.send_as["info"].append(orphan)
    result, failed = send_as(run_module, "info@contoso.com", user=orphan, state="absent")
    assert not failed and actions(result) == {"info@contoso.com": "removed"}
    assert orphan not in tenant.send_as["info"]
    result, failed = send_as(run_module, "info@contoso.com", user=orphan)
    assert failed and "whose SendAs can only be removed (state=absent)" in result["msg"]


def test_rights_other_than_send_as_are_refused_by_name(tenant, run_module):
    result, failed = send_as(run_module, "info@contoso.com", access_rights=["sendas", "FullAccess"])
    assert failed and "access_rights 'FullAccess' is not valid: use SendAs" in result["msg"]
    assert tenant.calls == []


def test_missing_recipients_are_gone_on_revoke(tenant, run_module):
    result, failed = send_as(run_module, "nobody@contoso.com", "info@contoso.com", user="helpdesk@contoso.com",
                             state="absent", missing="ignore")
    assert not failed and actions(result) == {"nobody@contoso.com": "gone", "info@contoso.com": "removed"}


def test_journal_lines_say_send_as(tenant, run_module, tmp_path):
    journal = tmp_path / "j.jsonl"
    send_as(run_module, "info@contoso.com", "ceo@contoso.com", journal=str(journal))
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [(l["event"], l["mailbox"], l.get("action"), l["kind"]) for l in lines] == [
        ("read", "info@contoso.com", None, "send_as"), ("read", "ceo@contoso.com", None, "send_as"),
        ("write", "info@contoso.com", "added", "send_as"), ("write", "ceo@contoso.com", "added", "send_as")]
    assert lines[2]["rights"] == ["SendAs"] and lines[0]["rights"] == [] and lines[0]["trustee_guid"] == tenant.admin.guid
