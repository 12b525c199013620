# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The campaign's controller-side steps without a tenant: inputs, plans, chunk records, reports, publishing."""

import calendar
import csv
import json
import os
import time

import pytest

from ansible_collections.m365.exchange.plugins.plugin_utils import _campaign as campaign
from ansible_collections.m365.exchange.plugins.plugin_utils._ledger import LedgerWriter, read_ledger

TEMPLATES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "archive_access", "templates")
DELEGATE = {"primary_smtp_address": "archive.admin@x", "guid": "G-DEL", "external_directory_object_id": "E-DEL"}


def mailbox(name, ident=None):
    return {"primary_smtp_address": "%s@x" % name, "guid": "g-" + name,
            "external_directory_object_id": ident or ("e-" + name)}


def args(tmp_path, action="grant", **extra):
    values = {"action": action, "tenant": "Contoso", "delegate": DELEGATE, "access_rights": ["FullAccess"],
              "data_dir": str(tmp_path / "data"), "chunk_size": 2, "selected": [], "excluded": [],
              "acl_limit_action": "stop"}
    values.update(extra)
    return values


# ---- inputs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("given, words", [
    ({"chunk_size": 0}, "archive_access_chunk_size 0 is out of range: use 1 to 50000"),
    ({"chunk_size": "many"}, "archive_access_chunk_size 'many' is not a whole number"),
    ({"concurrency": 65}, "archive_access_concurrency 65 is out of range: use 1 to 64"),
    ({"propagation_minutes": -1}, "archive_access_propagation_minutes -1 is out of range"),
    ({"delegate": " "}, "archive_access_delegate is empty"),
    ({"tenant": ""}, "archive_access_tenant is empty"),
    ({"scope": {"identities": ["a@x"], "filter": "Department -eq 'Legal'"}}, "cannot be combined with filter"),
    ({"scope": {"exclude": ["a@@x"]}}, "archive_access_scope.exclude[0] 'a@@x' is not a valid address"),
    ({"scope": "everything"}, "archive_access_scope must be a dictionary"),
])
def test_bad_inputs_are_named(given, words):
    values = dict({"delegate": "a@x.com", "tenant": "t", "chunk_size": 10}, **given)
    _merged, problems = campaign.check_inputs(values)
    assert any(words in problem for problem in problems), problems


def test_the_scope_is_merged_over_its_defaults(tmp_path):
    merged, problems = campaign.check_inputs({"delegate": "a@x.com", "tenant": "t", "scope": {"exclude": "b@x.com"}})
    assert not problems
    assert merged["scope"]["exclude"] == ["b@x.com"]
    assert merged["scope"]["recipient_type_details"] == ["UserMailbox", "SharedMailbox"]
    ledger = tmp_path / "dir"
    ledger.mkdir()
    _merged, problems = campaign.check_inputs({"delegate": "a@x.com", "tenant": "t", "ledger": str(ledger)})
    assert "is a directory" in problems[0]


def test_the_default_places_are_in_the_users_data_directory():
    assert campaign.data_dir(environ={"XDG_DATA_HOME": "/home/u/.data"}) == "/home/u/.data/m365.exchange/archive_access"
    assert campaign.data_dir(environ={}).endswith("/.local/share/m365.exchange/archive_access")
    path = campaign.ledger_path({"tenant": "Contoso.OnMicrosoft.com", "data_dir": "/d"}, DELEGATE)
    assert path == "/d/contoso.onmicrosoft.com/e-del.ledger.jsonl"


# ---- plans -------------------------------------------------------------------------------------------------


def test_a_grant_plan_dedupes_by_object_and_leaves_out_exclusions_and_the_delegate(tmp_path):
    selected = [mailbox("a"), mailbox("b"), mailbox("a"), mailbox("c"), DELEGATE]
    result = campaign.plan(args(tmp_path, selected=selected, excluded=[mailbox("b")], exclude_missing=["typo@x"]))
    assert result["chunks"] == [["e-a", "e-c"]]
    assert "typo@x" in result["warnings"][0]
    run = result["run"]
    state = read_ledger(run["ledger"]["path"])
    assert state.header["tenant"] == "contoso" and state.header["delegate_id"] == "e-del"
    assert dict((m.id, m.address) for m in state.mailboxes.values()) == {"e-a": "a@x", "e-c": "c@x"}
    # a second plan of the same campaign records no address again, and a renamed mailbox's new one
    renamed = dict(mailbox("a"), primary_smtp_address="a.new@x")
    campaign.plan(args(tmp_path, selected=[renamed, mailbox("c")]))
    with open(run["ledger"]["path"], encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle]
    assert [line.get("address") for line in lines if line["event"] == "mailbox"] == ["a@x", "c@x", "a.new@x"]


def test_check_mode_writes_no_ledger(tmp_path):
    result = campaign.plan(args(tmp_path, selected=[mailbox("a")]), check_mode=True)
    assert result["run"]["journal"] == "" and not os.path.exists(result["run"]["ledger"]["path"])


def test_mailboxes_the_preflight_found_full_stop_the_grant_or_are_left_out(tmp_path):
    selected = [mailbox("a"), mailbox("full")]
    with pytest.raises(campaign.CampaignError, match="full@x.*Nothing was changed"):
        campaign.plan(args(tmp_path, selected=selected, acl_full=[mailbox("full")]))
    result = campaign.plan(args(tmp_path, selected=selected, acl_full=[mailbox("full")], acl_limit_action="skip"))
    assert result["chunks"] == [["e-a"]] and result["scope"]["acl_full"] == ["full@x"]


def granted_ledger(tmp_path, *events):
    result = campaign.plan(args(tmp_path, selected=[mailbox("a"), mailbox("b"), mailbox("c"), mailbox("d")]))
    path = result["run"]["ledger"]["path"]
    LedgerWriter(path).append(list(events))
    return path


def read(ident, rights, state="present"):
    return {"event": "read", "state": state, "mailbox": ident, "rights": rights}


def write(ident, action, state="present"):
    return {"event": "write", "state": state, "mailbox": ident, "action": action}


def test_a_revoke_plan_takes_the_open_grants_and_keeps_excluded_ones(tmp_path):
    granted_ledger(tmp_path, read("e-a", ["FullAccess"]), read("e-b", []), write("e-b", "added"),
                   read("e-c", []), write("e-c", "added"), read("e-d", []), write("e-d", "added"),
                   read("e-d", ["FullAccess"], "absent"), write("e-d", "removed", "absent"))
    result = campaign.plan(args(tmp_path, action="revoke", excluded=[mailbox("c")]))
    assert result["chunks"] == [["e-b"]]
    assert result["scope"]["kept_excluded"] == ["c@x"] and result["scope"]["pre_existing"] == 1


def test_a_closed_campaign_has_nothing_to_revoke_and_a_new_grant_sets_it_aside(tmp_path):
    path = granted_ledger(tmp_path, read("e-a", []), write("e-a", "added"), write("e-a", "removed", "absent"),
                          {"event": "closed", "at": "2026-12-01T00:00:00Z"})
    result = campaign.plan(args(tmp_path, action="revoke"))
    assert result["closed"] and "is closed since 2026-12-01T00:00:00Z" in result["lines"][0]
    assert result["chunks"] == [] and "run" not in result
    campaign.plan(args(tmp_path, selected=[mailbox("a")]))
    assert os.path.exists(path + ".closed-2026-12-01T000000Z")
    assert read_ledger(path).closed is None


def test_a_revoke_without_ledger_or_published_campaign_is_refused(tmp_path):
    with pytest.raises(campaign.CampaignError, match="There is no ledger at .*Nothing was changed"):
        campaign.plan(args(tmp_path, action="revoke"))


def test_a_published_campaign_is_revoked_by_id_and_checked_by_delegate_object(tmp_path):
    published = {"id": "c9", "tenant": "contoso", "delegate": "archive.admin@x", "delegate_id": "e-del",
                 "granted": campaign.pack_mailboxes(["e-a\ta@x", "e-b\tb@x"]), "pre_existing": ["z@x"]}
    result = campaign.plan(args(tmp_path, action="revoke", campaigns={"CONTOSO": published}))
    assert result["chunks"] == [["e-a", "e-b"]] and result["run"]["journal"] == ""
    stranger = dict(DELEGATE, guid="other", external_directory_object_id="other")
    with pytest.raises(campaign.CampaignError, match="belongs to delegate"):
        campaign.plan(args(tmp_path, action="revoke", delegate=stranger, campaigns={"contoso": published}))
    closed = campaign.plan(args(tmp_path, action="revoke", campaigns={"contoso": dict(published, closed="T")}))
    assert closed["closed"]


# ---- chunks and reports ---------------------------------------------------------------------------------------


def started(tmp_path, action="grant", **extra):
    return campaign.plan(args(tmp_path, action=action, selected=[mailbox("a"), mailbox("b"), mailbox("c")], **extra))


def entry(ident, action, error=None):
    result = {"identity": ident, "primary_smtp_address": None, "action": action, "before": [],
              "after": ["FullAccess"] if action == "added" else []}
    if error:
        result["error"] = error
    return result


@pytest.mark.parametrize("result, words", [
    ({"failed": True, "msg": "Invalid input: user 'x' was not found"}, "refused as a whole"),
    ({"failed": True, "refused": True, "summary": {"added": 1}, "results": [],
      "msg": "Nothing was changed: 1 mailboxes are at the limit ...: e-b. use acl_limit=skip"}, "b@x (e-b)"),
    ({"failed": True, "msg": "Stopped: the controller is gone", "summary": {"skipped": 2}, "results": []},
     "refused as a whole"),
])
def test_a_chunk_refused_as_a_whole_stops_the_run(tmp_path, result, words):
    run = started(tmp_path)["run"]
    with pytest.raises(campaign.CampaignError) as caught:
        campaign.record_chunk(run, 0, ["e-a", "e-b"], result)
    assert words in str(caught.value) and "nothing was written in it" in str(caught.value)


def test_a_chunk_whose_results_miss_mailboxes_is_not_trusted(tmp_path):
    run = started(tmp_path)["run"]
    with pytest.raises(campaign.CampaignError, match="no result for 1 of its mailboxes"):
        campaign.record_chunk(run, 0, ["e-a", "e-b"], {"summary": {}, "results": [entry("e-a", "added")]})


def test_chunks_make_the_report_and_the_run_result(tmp_path):
    run = started(tmp_path)["run"]
    # what the module's journal says: a written, b failed (it may have been written), c not attempted
    LedgerWriter(run["journal"]).append([read("e-a", []), read("e-b", []), read("e-c", []), write("e-a", "added"),
                                         write("e-b", "failed"), write("e-c", "skipped")])
    first = campaign.record_chunk(run, 0, ["e-a", "e-b"], {
        "failed": True, "summary": {"added": 1, "failed": 1},
        "results": [entry("e-a", "added"), entry("e-b", "failed", 'odd "quote", comma')]})
    assert first["progress"].endswith("1 added, 1 failed; 2 of 3 mailboxes done.")
    campaign.record_chunk(run, 1, ["e-c"], {"summary": {"skipped": 1}, "results": [
        entry("e-c", "skipped", "mailbox 'e-c' holds 500 explicit access control entries, the limit is 500")]})
    result = campaign.finish(run["work"], TEMPLATES, propagation_minutes=30)
    assert not os.path.exists(run["work"])
    assert result["status"] == "INCOMPLETE" and result["summary"]["failed"] == 1 and result["problem"]
    assert result["skipped_reasons"] == {
        "at the limit of 500 access control entries (archive_access_acl_limit_action=skip)": 1}
    assert result["effective_by"]["minutes"] == 30
    assert result["published"]["granted_count"] == 2
    assert result["campaign"]["counts"] == {"pre_existing": 0, "granted": 2, "removed": 0, "gone": 0, "open": 2}
    facts, rows = read_csv_report(result["reports"]["csv"])
    assert [(r["mailbox"], r["mailbox_id"], r["action"]) for r in rows] == [
        ("a@x", "e-a", "added"), ("b@x", "e-b", "failed"), ("c@x", "e-c", "skipped")]
    assert rows[1]["error"] == 'odd "quote", comma'
    with open(result["reports"]["json"], encoding="utf-8") as handle:
        report = json.load(handle)
    assert report["status"] == "INCOMPLETE" and len(report["results"]) == 3 and len(report["progress"]) == 2
    assert [p["done"] for p in report["progress"]] == [2, 3]
    # the CSV carries the JSON's facts: status first, the counts, the skip reasons with what to do, the times
    assert list(facts)[0] == "status" and facts["status"][0] == report["status"]
    assert facts["what to do"][0] == report["next_step"] and "1 mailbox failed" in report["next_step"]
    assert facts["failed"][0] == "1" and facts["added"][0] == "1" and facts["mailboxes in this run"][0] == "3"
    (group,) = report["skipped"]
    assert group["kind"] == "choice" and group["mailboxes"] == ["c@x"]
    assert facts["skipped: " + group["reason"]] == ["1", group["what_to_do"]]
    assert facts["at the ACL limit"][0] == "1" == str(report["scope"]["acl_limit"])
    assert facts["finished (UTC)"][0] == report["run"]["finished"]
    assert facts["effective by (UTC)"][0] == report["effective_by"]["at"]
    effective = calendar.timegm(time.strptime(report["effective_by"]["at"], "%Y-%m-%dT%H:%M:%SZ"))
    finished = calendar.timegm(time.strptime(report["run"]["finished"], "%Y-%m-%dT%H:%M:%SZ"))
    assert 30 * 60 - 60 <= effective - finished <= 30 * 60
    assert report["method"] == facts["method"][0] == "FullAccess"
    with open(result["reports"]["html"], encoding="utf-8") as handle:
        html = handle.read()
    assert "odd &#34;quote&#34;, comma" in html and '<p class="status" id="status">INCOMPLETE</p>' in html
    assert "<svg" in html and "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def read_csv_report(path):
    """The CSV report's facts ({field: [value, detail...]}, in order) and its rows (dicts), split at the empty line."""
    with open(path, encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    split = lines.index([])
    facts = dict((line[0], line[1:]) for line in lines[:split])
    header = lines[split + 1]
    return facts, [dict(zip(header, line)) for line in lines[split + 2:]]


def test_a_run_can_name_its_method_and_the_reports_show_it(tmp_path):
    run = started(tmp_path)["run"]
    chunk = campaign.record_chunk(run, 0, ["e-a", "e-b", "e-c"], {"summary": {"added": 3}, "results": [
        entry("e-a", "added"), entry("e-b", "added"), entry("e-c", "added")]})
    assert chunk["progress"].endswith("3 of 3 mailboxes done.")
    saved = campaign.read_json(os.path.join(run["work"], "plan.json"))
    saved["run"].update(method="RBAC for Applications", method_details=[
        {"label": "Management scope", "value": "archive-export <scope & co>"}])
    campaign.write_json(os.path.join(run["work"], "plan.json"), saved)
    result = campaign.finish(run["work"], TEMPLATES)
    assert result["status"] == "COMPLETE" and result["method"] == "RBAC for Applications"
    facts, _rows = read_csv_report(result["reports"]["csv"])
    assert facts["method"] == ["RBAC for Applications"]
    assert facts["method: Management scope"] == ["archive-export <scope & co>"]
    with open(result["reports"]["json"], encoding="utf-8") as handle:
        assert json.load(handle)["method_details"] == [
            {"label": "Management scope", "value": "archive-export <scope & co>"}]
    with open(result["reports"]["html"], encoding="utf-8") as handle:
        html = handle.read()
    assert '<th>Management scope</th><td id="method-management-scope">archive-export &lt;scope &amp; co&gt;</td>' in html


def test_check_mode_reports_a_plan_and_claims_no_effect(tmp_path):
    run = campaign.plan(args(tmp_path, selected=[mailbox("a")]), check_mode=True)["run"]
    campaign.record_chunk(run, 0, ["e-a"], {"summary": {"added": 1}, "results": [entry("e-a", "added")]})
    result = campaign.finish(run["work"], TEMPLATES)
    assert result["status"] == "PLAN" and result["effective_by"] is None and result["published"] is None
    assert result["campaign"]["ledger"] is None and "_grant-plan_" in result["reports"]["json"]
    assert not [line for line in result["lines"] if "effective" in line]


def test_a_revoke_that_leaves_nothing_closes_the_campaign(tmp_path):
    granted_ledger(tmp_path, read("e-a", []), write("e-a", "added"), read("e-b", ["FullAccess"]))
    run = campaign.plan(args(tmp_path, action="revoke"))["run"]
    LedgerWriter(run["journal"]).append([read("e-a", ["FullAccess"], "absent"), write("e-a", "removed", "absent")])
    campaign.record_chunk(run, 0, ["e-a"], {"summary": {"removed": 1}, "results": [entry("e-a", "removed")]})
    result = campaign.finish(run["work"], TEMPLATES)
    assert result["status"] == "COMPLETE" and result["campaign"]["closed_now"]
    assert result["published"]["closed"]
    assert read_ledger(run["journal"]).closed["counts"]["removed"] == 1


def test_a_revoke_that_keeps_excluded_access_is_complete_and_says_the_campaign_stays_open(tmp_path):
    granted_ledger(tmp_path, read("e-a", ["FullAccess"]), read("e-b", []), write("e-b", "added"),
                   read("e-c", []), write("e-c", "added"))
    run = campaign.plan(args(tmp_path, action="revoke", excluded=[mailbox("c")]))["run"]
    LedgerWriter(run["journal"]).append([read("e-b", ["FullAccess"], "absent"), write("e-b", "removed", "absent")])
    campaign.record_chunk(run, 0, ["e-b"], {"summary": {"removed": 1}, "results": [entry("e-b", "removed")]})
    result = campaign.finish(run["work"], TEMPLATES)
    assert result["status"] == "COMPLETE" and result["problem"] is None and not result["campaign"]["closed"]
    assert "the campaign stays open: 1 mailbox excluded from the revoke keeps its access (c@x)" in result["headline"]
    assert "kept where the delegate held it before the campaign (1 mailbox)" in result["headline"]
    with open(result["reports"]["json"], encoding="utf-8") as handle:
        report = json.load(handle)
    assert report["recorded"]["granted"] == 2 and report["recorded"]["removed"] == 1
    assert [(e["mailbox"], e["excluded"]) for e in report["recorded"]["open"]] == [("c@x", True)]
    facts, _rows = read_csv_report(result["reports"]["csv"])
    assert facts["recorded grants still open"] == ["1", "c@x"] and facts["campaign closed"] == ["no"]


def test_a_revoke_that_fails_on_a_granted_mailbox_is_incomplete(tmp_path):
    granted_ledger(tmp_path, read("e-b", []), write("e-b", "added"), read("e-c", []), write("e-c", "added"))
    run = campaign.plan(args(tmp_path, action="revoke"))["run"]
    LedgerWriter(run["journal"]).append([read("e-b", ["FullAccess"], "absent"), write("e-b", "removed", "absent"),
                                         read("e-c", ["FullAccess"], "absent"), write("e-c", "failed", "absent")])
    campaign.record_chunk(run, 0, ["e-b", "e-c"], {"summary": {"removed": 1, "failed": 1}, "results": [
        entry("e-b", "removed"), entry("e-c", "failed", "Remove-MailboxPermission: the server timed out")]})
    result = campaign.finish(run["work"], TEMPLATES)
    assert result["status"] == "INCOMPLETE" and result["problem"] == result["next_step"]
    assert "1 mailbox failed" in result["next_step"] and "run the revoke again" in result["next_step"]
    with open(result["reports"]["json"], encoding="utf-8") as handle:
        report = json.load(handle)
    assert [(e["mailbox"], e["why"]) for e in report["recorded"]["open"]] == [
        ("c@x", "failed: Remove-MailboxPermission: the server timed out")]


def test_a_run_stopped_before_its_last_chunks_names_the_mailboxes_it_never_reached(tmp_path):
    # five mailboxes in chunks of two: the first chunk is written, the run stops before the second and third
    run = campaign.plan(args(tmp_path, selected=[mailbox(n) for n in "abcde"]))["run"]
    campaign.record_chunk(run, 0, ["e-a", "e-b"], {"summary": {"added": 2}, "results": [
        entry("e-a", "added"), entry("e-b", "added")]})
    stop = "chunk 2 of 3 was refused as a whole: Exchange Online refused the call (HTTP 403)"
    result = campaign.finish(run["work"], TEMPLATES, stopped=stop)
    assert result["status"] == "INCOMPLETE" and result["not_attempted"] == 3
    assert result["scope"]["not_attempted"] == 3 and result["scope"]["targets"] == 5
    assert "3 mailboxes not attempted: the run stopped before their chunk" in result["next_step"]
    assert result["next_step"].startswith("The run stopped: " + stop)
    assert "2 added" in result["headline"] and "3 not attempted" in result["headline"]
    with open(result["reports"]["json"], encoding="utf-8") as handle:
        report = json.load(handle)
    assert report["not_attempted"]["mailboxes"] == ["c@x", "d@x", "e@x"] and stop in report["not_attempted"]["why"]
    assert [p["done"] for p in report["progress"]] == [2]
    facts, rows = read_csv_report(result["reports"]["csv"])
    assert facts["not attempted"][0] == "3" and len(rows) == 2 and facts["stopped"] == [stop]
    with open(result["reports"]["html"], encoding="utf-8") as handle:
        html = handle.read()
    assert 'data-key="not_attempted" data-count="3"' in html and "c@x, d@x, e@x" in html
