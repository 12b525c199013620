# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mailbox_permission's logic against a fake Exchange: what it sends, what it reports, what the tenant holds after."""

import pytest

from ansible_collections.m365.exchange.plugins.module_utils._errors import TransientError
from ansible_collections.m365.exchange.plugins.modules import mailbox_permission

from fake_exchange import FakeWatch  # pylint: disable=import-error


@pytest.fixture
def tenant(exchange):
    exchange.admin = exchange.add("archive.admin")
    exchange.ceo = exchange.add("ceo", names=("Morgan Chen",))
    exchange.legal = exchange.add("legal")
    exchange.info = exchange.add("info", kind="SharedMailbox")
    exchange.guest = exchange.add("guest", kind="MailUser")
    exchange.group = exchange.add("archive-operators", kind="MailUniversalSecurityGroup")
    exchange.grant(exchange.legal, exchange.admin)  # pre-existing access
    return exchange


def grant(run_module, *identities, **args):
    args.setdefault("user", "archive.admin@contoso.com")
    args.setdefault("automapping", False)
    return run_module(mailbox_permission, identity=list(identities), **args)


def by_identity(result):
    return dict((entry["identity"], entry) for entry in result["results"])


def test_grant_adds_where_missing_and_a_rerun_writes_nothing(tenant, run_module):
    result, failed = grant(run_module, "ceo@contoso.com", "legal@contoso.com", "info@contoso.com")
    assert not failed and result["changed"]
    assert result["summary"]["added"] == 2 and result["summary"]["unchanged"] == 1
    assert tenant.rights(tenant.ceo, tenant.admin) == {"FullAccess"}
    adds = [params for cmdlet, params in tenant.writes()]
    assert adds[0] == {"Identity": "ceo@contoso.com", "User": tenant.admin.guid, "AccessRights": ["FullAccess"],
                       "InheritanceType": "All", "AutoMapping": False}
    tenant.calls = []
    result, failed = grant(run_module, "ceo@contoso.com", "legal@contoso.com", "info@contoso.com")
    assert not failed and not result["changed"] and result["summary"]["unchanged"] == 3
    assert tenant.writes() == []
    # one read per mailbox, plus the trustee (Get-Recipient, Get-User for its SID)
    assert [cmdlet for cmdlet, _params in tenant.calls].count("Get-MailboxPermission") == 3


def test_one_mailbox_named_four_ways_is_one_write(tenant, run_module):
    result, failed = grant(run_module, "ceo@contoso.com", "ceo", "Morgan Chen", tenant.ceo.guid)
    assert not failed
    assert result["summary"]["added"] == 1 and len(result["results"]) == 1
    assert result["results"][0]["aliases"] == ["ceo", "Morgan Chen", tenant.ceo.guid]
    assert len(tenant.writes()) == 1


def test_check_mode_plans_and_writes_nothing(tenant, run_module):
    result, failed = grant(run_module, "ceo@contoso.com", "legal@contoso.com", check_mode=True, diff=True)
    assert not failed and result["changed"]
    assert by_identity(result)["ceo@contoso.com"]["action"] == "added"
    assert result["diff"]["after"]["archive.admin@contoso.com"] == {"ceo@contoso.com": ["FullAccess"]}
    assert tenant.writes() == []
    assert tenant.rights(tenant.ceo, tenant.admin) == set()


@pytest.mark.parametrize("given, expected", [
    (["fullaccess"], ["FullAccess"]),
    (["FullAccess, ReadPermission"], ["FullAccess", "ReadPermission"]),
    ([" readpermission ,FULLACCESS"], ["FullAccess", "ReadPermission"]),
])
def test_access_rights_are_taken_as_powershell_takes_them(tenant, run_module, given, expected):
    result, failed = grant(run_module, "ceo@contoso.com", access_rights=given, automapping=None)
    assert not failed
    assert sorted(tenant.rights(tenant.ceo, tenant.admin)) == expected


def test_a_bad_right_is_refused_by_name_before_anything_is_sent(tenant, run_module):
    result, failed = grant(run_module, "ceo@contoso.com", access_rights=["FullAccess, ReadPermision"], automapping=None)
    assert failed
    assert "access_rights 'ReadPermision' is not valid (in 'FullAccess, ReadPermision')" in result["msg"]
    assert tenant.calls == []


def test_revoke_that_misses_on_inheritance_type_is_retried_until_the_tenant_confirms(tenant, run_module):
    # granted by hand with InheritanceType None; live rows do not show it, so the first Remove goes out with All
    tenant.grant(tenant.ceo, tenant.admin, inheritance="None")
    result, failed = grant(run_module, "ceo@contoso.com", state="absent", automapping=None)
    assert not failed, result["msg"]
    assert by_identity(result)["ceo@contoso.com"]["action"] == "removed"
    assert tenant.rights(tenant.ceo, tenant.admin) == set()
    removes = [params.get("InheritanceType") for cmdlet, params in tenant.writes()]
    assert removes[0] is None and "None" in removes[1:]


def test_revoke_never_claims_a_removal_the_tenant_does_not_show(tenant, run_module):
    tenant.grant(tenant.ceo, tenant.admin, inheritance="All")
    original = tenant._remove_mailboxpermission  # pylint: disable=protected-access

    def stubborn(parameters):  # the service answers as if nothing matched, whatever is sent
        return original(dict(parameters, InheritanceType="Nonexistent"))
    tenant._remove_mailboxpermission = stubborn  # pylint: disable=protected-access
    result, failed = grant(run_module, "ceo@contoso.com", state="absent", automapping=None)
    assert failed
    entry = by_identity(result)["ceo@contoso.com"]
    assert entry["action"] == "failed" and "still holds FullAccess" in entry["error"]
    assert "ACE doesn't exist" in entry["error"]
    assert result["summary"]["removed"] == 0 and not result["changed"]
    assert tenant.rights(tenant.ceo, tenant.admin) == {"FullAccess"}


def test_already_present_is_added_when_the_tenant_holds_it(tenant, run_module):
    # the first Add was applied but its answer lost; the retry hears "already present": the task added it
    def applied_before_the_retry(cmdlet, parameters):
        if cmdlet == "Add-MailboxPermission":
            tenant.on_call = None
            tenant.grant(tenant.ceo, tenant.admin)
    tenant.on_call = applied_before_the_retry
    result, failed = grant(run_module, "ceo@contoso.com")
    assert not failed and result["changed"]
    assert by_identity(result)["ceo@contoso.com"]["action"] == "added"
    assert [cmdlet for cmdlet, _p in tenant.calls].count("Get-MailboxPermission") == 2  # confirmed by a read


def test_a_lost_answer_of_a_write_the_service_ran_is_settled_by_a_read(tenant, run_module):
    tenant.faults_after[("Add-MailboxPermission", "ceo@contoso.com")] = TransientError("connection reset after sending")
    result, failed = grant(run_module, "ceo@contoso.com", "legal@contoso.com")
    assert not failed
    assert by_identity(result)["ceo@contoso.com"]["action"] == "added"
    assert tenant.rights(tenant.ceo, tenant.admin) == {"FullAccess"}


def test_a_lost_write_fails_that_mailbox_with_the_connection_error(tenant, run_module):
    tenant.faults[("Add-MailboxPermission", "ceo@contoso.com")] = TransientError("connection reset after sending")
    result, failed = grant(run_module, "ceo@contoso.com", "legal@contoso.com")
    entry = by_identity(result)["ceo@contoso.com"]
    assert failed and entry["action"] == "failed" and "connection reset after sending" in entry["error"]
    assert "reading the mailbox afterwards does not show the change" in entry["error"]
    assert tenant.rights(tenant.ceo, tenant.admin) == set()


def test_revoke_of_deleted_and_converted_mailboxes_is_gone(tenant, run_module):
    tenant.grant(tenant.ceo, tenant.admin)
    tenant.grant(tenant.info, tenant.admin)
    ceo_guid, info_guid = tenant.ceo.guid, tenant.info.guid
    tenant.recipients.remove(tenant.ceo)  # deleted
    tenant.info.kind = "MailUser"  # converted
    result, failed = grant(run_module, ceo_guid, info_guid, "legal@contoso.com", state="absent", missing="ignore",
                           automapping=None)
    assert not failed, result["msg"]
    actions = dict((e["identity"], e["action"]) for e in result["results"])
    assert actions == {ceo_guid: "gone", info_guid: "gone", "legal@contoso.com": "removed"}
    assert result["summary"]["gone"] == 2


def test_missing_fail_refuses_a_revoke_of_an_unknown_mailbox_before_any_change(tenant, run_module):
    result, failed = grant(run_module, "nobody@contoso.com", "legal@contoso.com", state="absent", automapping=None)
    assert failed and "mailbox 'nobody@contoso.com' was not found" in result["msg"]
    assert "missing=warn or missing=ignore counts as gone" in result["msg"]
    assert tenant.writes() == [] and tenant.rights(tenant.legal, tenant.admin) == {"FullAccess"}


def test_unusable_skip_makes_an_ambiguous_name_that_mailboxs_outcome(tenant, run_module):
    tenant.add("jane.smith", alias="jsmith")
    tenant.add("john.smith", alias="jsmith")
    result, failed = grant(run_module, "jsmith", "ceo@contoso.com", unusable="skip")
    assert not failed
    entries = by_identity(result)
    assert entries["jsmith"]["action"] == "skipped" and "matches several" in entries["jsmith"]["error"]
    assert entries["ceo@contoso.com"]["action"] == "added"


def test_unusable_fail_refuses_the_task(tenant, run_module):
    result, failed = grant(run_module, "guest@contoso.com", "ceo@contoso.com")
    assert failed and "'guest@contoso.com' is a MailUser, not a mailbox" in result["msg"]
    assert "unusable=skip" in result["msg"] and tenant.writes() == []


@pytest.mark.parametrize("kind", ["UniversalSecurityGroup", "GlobalSecurityGroup", "NonUniversalGroup"])
def test_non_mail_enabled_security_groups_are_refused_as_trustee(tenant, run_module, kind):
    tenant.add("legacy-admins", kind=kind)
    result, failed = grant(run_module, "ceo@contoso.com", user="legacy-admins", automapping=None)
    assert failed and "security group that is not mail-enabled (%s)" % kind in result["msg"]
    assert tenant.writes() == []


def test_an_orphaned_sid_can_be_removed_but_not_granted(tenant, run_module):
    orphan = "S-1-5-21-9-9-9-2001"
    tenant.grant(tenant.ceo, orphan)
    result, failed = grant(run_module, "ceo@contoso.com", user=orphan, state="absent", automapping=None)
    assert not failed and by_identity(result)["ceo@contoso.com"]["action"] == "removed"
    assert tenant.rights(tenant.ceo, orphan) == set()
    result, failed = grant(run_module, "ceo@contoso.com", user=orphan, automapping=None)
    assert failed and "whose entries can only be removed (state=absent)" in result["msg"]


def test_deny_and_own_mailbox_are_warned(tenant, run_module):
    tenant.grant(tenant.ceo, tenant.admin, deny=True)
    result, failed = grant(run_module, "ceo@contoso.com", "archive.admin@contoso.com")
    assert not failed
    warnings = " ".join(result.get("warnings", []))
    assert "holds a Deny entry for FullAccess on mailbox 'ceo@contoso.com'" in warnings
    assert "is the trustee's own mailbox" in warnings


def full_acl(tenant, mailbox):
    for number in range(499):
        tenant.grant(mailbox, "S-1-5-21-7-7-7-%d" % number)


def test_acl_limit_skip_sends_nothing_to_a_full_mailbox(tenant, run_module):
    full_acl(tenant, tenant.info)
    result, failed = grant(run_module, "info@contoso.com", "ceo@contoso.com", acl_limit="skip")
    assert not failed
    entry = by_identity(result)["info@contoso.com"]
    assert entry["action"] == "skipped" and "holds 500 explicit access control entries" in entry["error"]
    assert [params["Identity"] for _cmdlet, params in tenant.writes()] == ["ceo@contoso.com"]


def test_acl_limit_stop_changes_nothing(tenant, run_module):
    full_acl(tenant, tenant.info)
    result, failed = grant(run_module, "ceo@contoso.com", "info@contoso.com", acl_limit="stop")
    assert failed and "acl_limit is stop: info@contoso.com" in result["msg"]
    assert tenant.writes() == []


def test_acl_limit_fail_reports_exchanges_refusal(tenant, run_module):
    full_acl(tenant, tenant.info)
    result, failed = grant(run_module, "info@contoso.com", "ceo@contoso.com")
    assert failed
    assert by_identity(result)["info@contoso.com"]["action"] == "failed"
    assert by_identity(result)["ceo@contoso.com"]["action"] == "added"


def test_a_gone_controller_stops_the_writes_and_says_what_was_done(tenant, run_module):
    mailboxes = [tenant.add("user%02d" % number) for number in range(20)]
    watch = FakeWatch(after=len(mailboxes) + 6)  # the reads, the trustee, then a few writes
    result, failed = grant(run_module, *[m.address for m in mailboxes], watch=watch)
    assert failed and result["msg"].startswith("Stopped: the process that started this module")
    added = result["summary"]["added"]
    assert 0 < added < len(mailboxes)
    assert result["summary"]["skipped"] == len(mailboxes) - added
    assert sum(1 for m in mailboxes if tenant.rights(m, tenant.admin)) == added
    assert len(tenant.writes()) == added


def test_journal_records_reads_before_writes_and_outcomes(tenant, run_module, tmp_path):
    import json  # pylint: disable=import-outside-toplevel
    journal = tmp_path / "j.jsonl"
    grant(run_module, "ceo@contoso.com", "legal@contoso.com", journal=str(journal))
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [(l["event"], l["mailbox"], l.get("action")) for l in lines] == [
        ("read", "ceo@contoso.com", None), ("read", "legal@contoso.com", None), ("write", "ceo@contoso.com", "added")]
    assert lines[1]["rights"] == ["FullAccess"] and lines[2]["trustee_guid"] == tenant.admin.guid
