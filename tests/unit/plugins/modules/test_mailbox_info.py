# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mailbox_info's logic against a fake Exchange: what it selects, what it reads, what it refuses."""

import pytest

from ansible_collections.m365.exchange.plugins.modules import mailbox_info


@pytest.fixture
def tenant(exchange):
    exchange.admin = exchange.add("archive.admin")
    exchange.ceo = exchange.add("ceo", names=("Morgan Chen",))
    exchange.info = exchange.add("info", kind="SharedMailbox")
    exchange.room = exchange.add("room", kind="RoomMailbox")
    exchange.grant(exchange.ceo, exchange.admin)
    return exchange


def test_identities_naming_one_mailbox_select_it_once(tenant, run_module):
    result, failed = run_module(mailbox_info, identity=["ceo@contoso.com", "Morgan Chen", tenant.ceo.guid])
    assert not failed and [m["primary_smtp_address"] for m in result["mailboxes"]] == ["ceo@contoso.com"]


def test_types_select_by_recipient_type_details(tenant, run_module):
    result, failed = run_module(mailbox_info, recipient_type_details=["SharedMailbox", "RoomMailbox"])
    assert not failed
    assert sorted(m["primary_smtp_address"] for m in result["mailboxes"]) == ["info@contoso.com", "room@contoso.com"]
    assert ("Get-Mailbox", {"ResultSize": "Unlimited", "RecipientTypeDetails": ["SharedMailbox", "RoomMailbox"]}) \
        in tenant.calls


def test_permission_user_lists_that_trustees_entries(tenant, run_module):
    result, failed = run_module(mailbox_info, identity=["ceo@contoso.com", "info@contoso.com"],
                                permission_user="archive.admin@contoso.com")
    assert not failed
    permissions = dict((m["primary_smtp_address"], m["permissions"]) for m in result["mailboxes"])
    assert [p["access_rights"] for p in permissions["ceo@contoso.com"]] == [["FullAccess"]]
    assert permissions["info@contoso.com"] == []


def test_count_permissions_counts_explicit_entries(tenant, run_module):
    result, failed = run_module(mailbox_info, identity=["ceo@contoso.com", "info@contoso.com"], count_permissions=True)
    assert not failed
    assert [m["permission_count"] for m in result["mailboxes"]] == [2, 1]  # SELF (+ archive.admin)


def test_missing_warn_goes_on_and_names_the_identity(tenant, run_module):
    result, failed = run_module(mailbox_info, identity=["ceo@contoso.com", "nobody@contoso.com"], missing="warn")
    assert not failed and result["missing"] == ["nobody@contoso.com"]
    assert "nobody@contoso.com" in " ".join(result["warnings"])


def test_missing_fail_refuses(tenant, run_module):
    result, failed = run_module(mailbox_info, identity=["nobody@contoso.com"])
    assert failed and "'nobody@contoso.com' was not found" in result["msg"] and result["mailboxes"] == []


@pytest.mark.parametrize("args, message", [
    ({"identity": ["", "ceo@@contoso.com"]}, "identity[0] is empty; identity[1] 'ceo@@contoso.com' is not a valid"),
    ({"identity": []}, "identity is an empty list"),
    ({"result_size": "many"}, "result_size 'many' is neither 'unlimited' nor a positive number"),
    ({"concurrency": 0}, "concurrency 0 is out of range: use 1 to 64"),
    ({"filter": "DisplayName -eq 'O'Brien'"}, "has an unterminated quoted value"),
    ({"count_permissions": True, "permission_user": "x@contoso.com"}, "cannot be combined with permission_user"),
])
def test_bad_input_is_named_before_anything_is_sent(tenant, run_module, args, message):
    result, failed = run_module(mailbox_info, **args)
    assert failed and message in result["msg"], result["msg"]
    assert tenant.calls == []
