# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mailbox_custom_attribute against a fake Exchange: a mark set, refused over another value, taken away and put
back, with the journal's record of the values before."""

import json

import pytest

from ansible_collections.m365.exchange.plugins.modules import mailbox_custom_attribute

from fake_custom_attributes import FakeCustomAttributes  # pylint: disable=import-error

MARK = "archive-2026-07"


@pytest.fixture
def exchange():
    return FakeCustomAttributes()


@pytest.fixture
def tenant(exchange):
    for name in ("ceo", "legal", "info"):
        setattr(exchange, name.replace(".", "_"), exchange.add(name))
    exchange.team = exchange.add("team.1", kind="GroupMailbox")
    exchange.guest = exchange.add("guest", kind="MailUser")
    return exchange


def mark(run_module, *identities, **args):
    args.setdefault("attribute", "CustomAttribute12")
    args.setdefault("value", MARK)
    return run_module(mailbox_custom_attribute, identity=list(identities), **args)


def actions(result):
    return dict((entry["identity"], entry["action"]) for entry in result["results"])


def test_set_then_rerun_writes_nothing(tenant, run_module):
    result, failed = mark(run_module, "ceo@contoso.com", "legal@contoso.com")
    assert not failed, result["msg"]
    assert actions(result) == {"ceo@contoso.com": "added", "legal@contoso.com": "added"}
    assert tenant.value(tenant.ceo, "CustomAttribute12") == MARK
    assert tenant.writes()[0] == ("Set-Mailbox", {"Identity": "ceo@contoso.com", "CustomAttribute12": MARK,
                                                  "Confirm": False})
    assert result["attribute"] == "CustomAttribute12" and result["value"] == MARK
    tenant.calls = []
    result, failed = mark(run_module, "ceo@contoso.com", "legal@contoso.com", attribute="customattribute12")
    assert not failed and not result["changed"] and tenant.writes() == []


def test_another_value_refuses_the_whole_task_unless_overwrite(tenant, run_module):
    tenant.custom["legal"] = {"CustomAttribute12": "HR-hold"}
    result, failed = mark(run_module, "ceo@contoso.com", "legal@contoso.com")
    assert failed and result["refused"]
    assert "CustomAttribute12 already holds another value on 1 mailbox: legal@contoso.com ('HR-hold')" in result["msg"]
    assert tenant.writes() == []
    result, failed = mark(run_module, "ceo@contoso.com", "legal@contoso.com", overwrite=True)
    assert not failed and actions(result)["legal@contoso.com"] == "changed"
    assert [e["before"] for e in result["results"]] == [[], ["HR-hold"]]


def test_absent_clears_or_puts_back_only_where_the_value_is(tenant, run_module):
    tenant.custom["ceo"] = {"CustomAttribute12": MARK}
    tenant.custom["legal"] = {"CustomAttribute12": MARK.upper()}  # the same mark for an OPATH -eq
    tenant.custom["info"] = {"CustomAttribute12": "someone else's"}
    result, failed = mark(run_module, "ceo@contoso.com", "LEGAL@contoso.com", "info@contoso.com", state="absent",
                          restore={"legal@contoso.com": "HR-hold"})
    assert not failed, result["msg"]
    assert actions(result) == {"ceo@contoso.com": "removed", "LEGAL@contoso.com": "changed",
                               "info@contoso.com": "unchanged"}
    assert [tenant.value(m, "CustomAttribute12") for m in (tenant.ceo, tenant.legal, tenant.info)] == [
        "", "HR-hold", "someone else's"]
    assert tenant.writes()[0] == ("Set-Mailbox", {"Identity": "ceo@contoso.com", "CustomAttribute12": None,
                                                  "Confirm": False})


def test_the_journal_records_the_value_before_any_write(tenant, run_module, tmp_path):
    tenant.custom["legal"] = {"CustomAttribute12": "HR-hold"}
    journal = tmp_path / "mark.jsonl"
    result, failed = mark(run_module, "ceo@contoso.com", "legal@contoso.com", overwrite=True, journal=str(journal))
    assert not failed
    lines = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    reads = [line for line in lines if line["event"] == "read"]
    assert [(r["mailbox"], r["rights"]) for r in reads] == [("ceo@contoso.com", []), ("legal@contoso.com", ["HR-hold"])]
    assert set(r["kind"] for r in lines) == {"custom_attribute"}
    assert set((r["attribute"], r["value"], r["state"]) for r in lines) == {("CustomAttribute12", MARK, "present")}
    assert lines.index(reads[-1]) < min(i for i, line in enumerate(lines) if line["event"] == "write")


def test_a_set_that_is_not_applied_fails_after_the_read(tenant, run_module):
    tenant.ignore_sets.add("ceo")
    result, failed = mark(run_module, "ceo@contoso.com", "legal@contoso.com")
    assert failed
    assert actions(result) == {"ceo@contoso.com": "failed", "legal@contoso.com": "added"}
    assert "reading 'ceo@contoso.com' afterwards shows no value" in result["results"][0]["error"]


def test_check_mode_plans_without_writing(tenant, run_module):
    result, failed = mark(run_module, "ceo@contoso.com", check_mode=True, diff=True)
    assert not failed and result["changed"] and tenant.writes() == []
    assert result["diff"] == {"before": {"CustomAttribute12": {"ceo@contoso.com": []}},
                              "after": {"CustomAttribute12": {"ceo@contoso.com": [MARK]}}}


def test_group_mailboxes_and_mail_users_are_unusable(tenant, run_module):
    result, failed = mark(run_module, "team.1@contoso.com", "guest@contoso.com", "ceo@contoso.com", unusable="skip")
    assert not failed, result["msg"]
    errors = dict((e["identity"], e.get("error")) for e in result["results"])
    assert "Set-UnifiedGroup" in errors["team.1@contoso.com"] and "not a mailbox" in errors["guest@contoso.com"]
    assert actions(result)["ceo@contoso.com"] == "added"


@pytest.mark.parametrize("args, words", [
    ({"attribute": "CustomAttribute16"}, "attribute 'CustomAttribute16' is not a custom attribute of a mailbox: use "
                                         "one of CustomAttribute1, "),
    ({"value": " "}, "value is empty"),
    ({"value": " x"}, "value ' x' starts or ends with spaces"),
    ({"value": "x" * 1025}, "value has 1025 characters: Exchange keeps at most 1024"),
    ({"restore": {"ceo": "x"}}, "restore is for state=absent"),
    ({"state": "absent", "restore": {"ceo": ["x"]}}, "restore['ceo'] is not a string"),
])
def test_bad_input_is_refused_before_any_request(tenant, run_module, args, words):
    result, failed = mark(run_module, "ceo@contoso.com", **args)
    assert failed and words in result["msg"], result["msg"]
    assert tenant.calls == []
