# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The archive_access role's HTML report, rendered by headless Chromium and read back from the rendered DOM.

Real runs of the grant playbook against the emulator: one that a 403 stops part-way (INCOMPLETE, with failures
and mailboxes it never reached), the rerun that finishes the job (COMPLETE), and a check-mode run (PLAN); and an
application_rbac campaign (PLAN, COMPLETE with its proof, a verify that finds the scope narrowed: INCOMPLETE). What the
browser shows is compared with the emulator's state and with the JSON and CSV reports of the same run.

Chromium: $M365_CHROMIUM (the emulated nox session installs Debian's ``chromium`` package when it is missing and it
runs as root, see tools/devtools/chromium.py), else ``chromium`` on PATH; without it the tests are skipped with the
reason.
"""

import calendar
import glob
import json
import os
import subprocess
import sys
import time
from html.parser import HTMLParser

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "functional"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))

from devtools import chromium  # noqa: E402 pylint: disable=wrong-import-position,import-error
from exo_emulator import rbac  # noqa: E402 pylint: disable=wrong-import-position,import-error
from exo_emulator.server import TenantSource  # noqa: E402 pylint: disable=wrong-import-position
from exo_emulator.testing import running_emulator  # noqa: E402 pylint: disable=wrong-import-position
from playbook_support import (  # noqa: E402 pylint: disable=wrong-import-position,import-error
    PlaybookRun,
    Tenant,
    playbook_command,
    playbook_env,
    read_csv_report,
)
from test_archive_app_rbac import (  # noqa: E402 pylint: disable=wrong-import-position,import-error
    APP_ID,
    APP_NAME,
    _verify_playbook,
    seed,
)

DOMAIN = "contoso.onmicrosoft.com"
CHUNK = 25


@pytest.fixture(scope="module")
def browser():
    if os.environ.get(chromium.ENV_SKIP) and not os.environ.get(chromium.ENV_BINARY):
        pytest.skip(os.environ[chromium.ENV_SKIP])
    try:
        found = chromium.find()
    except chromium.ChromiumUnavailable as exc:
        pytest.fail(str(exc))
    if not found:
        pytest.skip("no Chromium: install Debian's chromium package or set %s (the emulated nox session does it "
                    "as root)" % chromium.ENV_BINARY)
    return found


@pytest.fixture(scope="module")
def tenant(tmp_path_factory):
    source = TenantSource("generate", {"n": 150, "seed": 5, "domain": DOMAIN})
    with running_emulator(tmp_path_factory.mktemp("emulator"), tenants=[source]) as server:
        (record,) = [r for r in server.connection["tenants"] if r["tenant"] == DOMAIN]
        yield Tenant(server, record)


def grant(tenant, tmp_path, check=False):
    variables = {
        "archive_access_delegate": tenant.delegate,
        "archive_access_ledger": str(tmp_path / "campaign.ledger.jsonl"),
        "archive_access_report_dir": str(tmp_path / "reports"),
        "archive_access_chunk_size": CHUNK,
        "archive_access_concurrency": 1,
        "archive_access_acl_limit_action": "skip",
        "archive_access_scope": {"exclude": ["info@" + DOMAIN, "support@" + DOMAIN]},
    }
    completed = subprocess.run(playbook_command("grant_archive_access", variables, check=check),
                               env=playbook_env(tenant), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, timeout=600, check=False)
    return PlaybookRun(completed.returncode, completed.stdout)


def newest_reports(tmp_path):
    """{ext: path} of the newest run's reports."""
    (html,) = sorted(glob.glob(str(tmp_path / "reports" / "*.html")), key=os.path.getmtime)[-1:]
    base = html[:-len(".html")]
    return {"html": html, "json": base + ".json", "csv": base + ".csv"}


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def run_chromium(binary, tmp_path, *args):
    profile = tmp_path / ("chromium-profile-%d" % time.monotonic_ns())
    command = chromium.headless_command(binary, str(profile), args)
    completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=180,
                               check=False)
    assert completed.returncode == 0, (command, completed.stderr[-3000:])
    return completed.stdout


class Page(HTMLParser):
    """What a reader sees in the rendered DOM: text by element id, the scope's counts, table rows by table id."""

    def __init__(self, dom):
        super().__init__(convert_charrefs=True)
        self.by_id, self.counts, self.tables, self.attrs_by_id = {}, {}, {}, {}
        self._open = []  # [tag, id or None, text parts]
        self._table, self._row, self._cell = None, None, None
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("br", "meta", "link", "img", "input", "hr", "circle", "rect", "line", "polyline"):
            return
        if attrs.get("id"):
            self.attrs_by_id[attrs["id"]] = attrs
        self._open.append([tag, attrs.get("id"), []])
        if tag == "table":
            self._table = attrs.get("id")
            self.tables.setdefault(self._table, [])
        elif tag == "tr" and self._table is not None:
            self._row = {"attrs": attrs, "cells": []}
            self.tables[self._table].append(self._row)
            if self._table == "scope":
                self.counts[attrs["data-key"]] = int(attrs["data-count"])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._row["cells"].append(self._cell)

    def handle_endtag(self, tag):
        while self._open:
            open_tag, ident, parts = self._open.pop()
            if ident:
                self.by_id[ident] = " ".join("".join(parts).split())
            if self._open:
                self._open[-1][2].extend(parts)
            if open_tag == tag:
                break
        if tag == "table":
            self._table = None
        elif tag == "tr":
            self._row = None
        elif tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data):
        if self._open:
            self._open[-1][2].append(data)
        if self._cell is not None:
            self._cell.append(data)

    def rows(self, table, css_class=None):
        """The rows of a table as lists of cell texts (those with css_class only, when given)."""
        return [[" ".join("".join(cell).split()) for cell in row["cells"]] for row in self.tables.get(table, [])
                if css_class is None or css_class in (row["attrs"].get("class") or "").split()]


def rendered(binary, tmp_path, path):
    dom = run_chromium(binary, tmp_path, "--dump-dom", "file://" + path)
    assert dom.lstrip().lower().startswith("<html") or "<body" in dom, dom[:500]
    return Page(dom)


def test_the_browser_shows_status_scope_and_failures_of_real_runs(browser, tenant, tmp_path):
    tenant.server.reset(counters=True, faults=True)
    before = tenant.full_access_holders()

    # check mode: a PLAN, nothing written, the numbers of what the grant would do
    plan = grant(tenant, tmp_path, check=True)
    assert plan.returncode == 0, plan
    assert tenant.counters()["writes"] == 0 and tenant.full_access_holders() == before
    paths = newest_reports(tmp_path)
    report = read_json(paths["json"])
    page = rendered(browser, tmp_path, paths["html"])
    assert page.by_id["status"] == report["status"] == "PLAN"
    assert "nothing was changed" in page.by_id["effective-by"] and report["effective_by"] is None
    assert page.counts["changed"] == report["summary"]["added"] > 2 * CHUNK
    assert page.counts["unchanged"] == len(before)
    planned = [row for row in report["results"] if row["action"] == "added"]

    # the grant: Exchange refuses one write in the second chunk with its 403 (the app lost its role); the module
    # stops there and so does the run
    refused = planned[CHUNK + 3]
    tenant.server.add_fault_rule(match={"cmdlet": "Add-MailboxPermission", "identity": refused["mailbox_id"]},
                                 fault="nul403", times=5)
    stopped = grant(tenant, tmp_path)
    assert stopped.returncode != 0, stopped
    tenant.server.clear_fault_rules()
    tenant.server.reset_counters()
    after_stop = tenant.full_access_holders()
    paths = newest_reports(tmp_path)
    report = read_json(paths["json"])
    facts, rows = read_csv_report(paths["csv"])
    page = rendered(browser, tmp_path, paths["html"])

    # the status line first, with what to do, as the JSON and the CSV say
    assert page.by_id["status"] == report["status"] == facts["status"][0] == "INCOMPLETE"
    assert "run the grant again" in page.by_id["next-step"]
    assert page.by_id["next-step"] == "What to do: " + report["next_step"] == "What to do: " + facts["what to do"][0]
    # the counts the browser shows are the tenant's: what was added is what the emulator now holds
    added = after_stop - before
    assert page.counts["changed"] == len(added) == report["summary"]["added"] == int(facts["added"][0]) > 0
    assert page.counts["unchanged"] == len(before) == report["scope"]["pre_existing"]
    assert page.counts["failed"] == report["summary"]["failed"] == 1
    assert page.counts["not_attempted"] == report["scope"]["not_attempted"] == int(facts["not attempted"][0]) > 0
    assert "HTTP 403" in facts["not attempted"][1]
    assert page.counts["excluded"] == 2 and "info@" + DOMAIN in page.rows("scope")[1][2]
    done = sum(page.counts[k] for k in ("changed", "unchanged", "failed", "skipped", "not_attempted"))
    missed = (report["not_attempted"] or {}).get("count", 0)
    assert done == page.counts["targets"] == len(rows) + missed
    # the failure rows: the mailboxes the CSV says failed, none of which holds the access
    failures = page.rows("failures", "failure")
    failed_rows = [row for row in rows if row["action"] == "failed"]
    assert [(f[0], f[1]) for f in failures] == [(r["mailbox"], r["mailbox_id"]) for r in failed_rows]
    assert all("403" in f[2] for f in failures), failures
    assert not set(f[0].lower() for f in failures) & after_stop
    # the not-attempted mailboxes are grouped with why; none of them was touched
    reasons = page.rows("skipped")[1:]
    assert sum(int(r[1]) for r in reasons if r[0].startswith("not attempted")) == page.counts["not_attempted"]
    assert any("HTTP 403" in r[0] and "run the grant again" in r[2] for r in reasons), reasons
    not_tried = [r["mailbox"] for r in rows if r["action"] == "skipped" and r["error"].startswith("not attempted")]
    assert len(not_tried) + missed == page.counts["not_attempted"] and not set(not_tried) & after_stop
    assert refused["mailbox"] in page.by_id["next-step"] or refused["mailbox"] == failures[0][0]
    # campaign, ledger, times: the ledger named is the one the role wrote; effective by = end + 60 minutes
    assert page.by_id["campaign"] == report["campaign"]["id"] and os.path.isfile(page.by_id["ledger"])
    effective = calendar.timegm(time.strptime(report["effective_by"]["at"], "%Y-%m-%dT%H:%M:%SZ"))
    finished = calendar.timegm(time.strptime(report["run"]["finished"], "%Y-%m-%dT%H:%M:%SZ"))
    assert effective - finished == 60 * 60 and report["effective_by"]["at"] in page.by_id["effective-by"]
    assert page.by_id["method"] == report["method"] == "FullAccess"
    chart = page.attrs_by_id["progress"]
    assert int(chart["data-chunks"]) == len(report["progress"]) >= 1
    assert int(chart["data-done"]) == len(rows)

    # the rerun does what is left: COMPLETE, and the browser shows the tenant's numbers again
    rerun = grant(tenant, tmp_path)
    assert rerun.returncode == 0, rerun
    after = tenant.full_access_holders()
    paths = newest_reports(tmp_path)
    report = read_json(paths["json"])
    page = rendered(browser, tmp_path, paths["html"])
    assert page.by_id["status"] == report["status"] == "COMPLETE" and "next-step" not in page.by_id
    assert page.counts["changed"] == len(after - after_stop) == tenant.counters()["writes"] > 0
    assert page.counts["failed"] == page.counts["not_attempted"] == 0 and not page.rows("failures")
    assert page.counts["acl_limit"] == 1 and "full.acl@" + DOMAIN in page.by_id.get("skipped", "") + str(
        page.rows("scope"))

    # printed once: Chromium makes a PDF of it
    pdf = tmp_path / "report.pdf"
    run_chromium(browser, tmp_path, "--no-pdf-header-footer", "--print-to-pdf=%s" % pdf, "file://" + paths["html"])
    assert pdf.stat().st_size > 1000 and pdf.read_bytes().startswith(b"%PDF")


def play(tenant, name, variables, check=False):
    completed = subprocess.run(playbook_command(name, variables, check=check), env=playbook_env(tenant),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600, check=False)
    return PlaybookRun(completed.returncode, completed.stdout)


def test_the_browser_shows_an_application_rbac_campaign_its_method_and_its_proof(browser, tenant, tmp_path):
    """archive_access_method=application_rbac: the same report, with the app, its roles, scope, EWS state, the
    consent caveat and the proof of Test-ServicePrincipalAuthorization; a scope narrowed behind the campaign's back
    is INCOMPLETE with the mailboxes out of reach as failure rows."""
    tenant.server.reset(counters=True, faults=True)
    seed(tenant.server, tenant)
    variables = {"archive_access_method": "application_rbac", "archive_access_app": APP_NAME,
                 "archive_access_ledger": str(tmp_path / "app.ledger.jsonl"),
                 "archive_access_report_dir": str(tmp_path / "reports"),
                 "archive_access_scope": {"exclude": ["info@" + DOMAIN, "ceo@" + DOMAIN]}}

    plan = play(tenant, "grant_archive_access", variables, check=True)
    assert plan.returncode == 0, plan
    assert tenant.counters()["writes"] == 0
    paths = newest_reports(tmp_path)
    page = rendered(browser, tmp_path, paths["html"])
    assert page.by_id["status"] == read_json(paths["json"])["status"] == "PLAN"
    assert page.by_id["method"] == "RBAC for Applications" and "method-proof" not in page.by_id
    assert "nothing was changed" in page.by_id["headline"]

    grant = play(tenant, "grant_archive_access", variables)
    assert grant.returncode == 0, grant
    paths = newest_reports(tmp_path)
    report = read_json(paths["json"])
    facts, rows = read_csv_report(paths["csv"])
    page = rendered(browser, tmp_path, paths["html"])
    details = dict((d["label"], d["value"]) for d in report["method_details"])
    assert page.by_id["status"] == report["status"] == facts["status"][0] == "COMPLETE"
    assert "next-step" not in page.by_id and page.by_id["headline"] == report["headline"]
    assert page.by_id["method"] == report["method"] == "RBAC for Applications"
    assert APP_ID in page.by_id["delegate"] and page.by_id["method-app"] == details["App"]
    assert page.by_id["method-application-roles"] == "Application Mail.Read"
    assert page.by_id["method-management-scope"].startswith("Archive campaign ")
    assert "ExternalDirectoryObjectId -ne" in page.by_id["method-scope-filter"]
    assert page.by_id["method-ews"].startswith("EWS: EwsEnabled")
    assert "tenant-wide admin consent" in page.by_id["method-tenant-wide-consent"]
    # the proof the browser shows is the emulator's own evaluation of the scope
    live = tenant.server.tenant(DOMAIN)
    with live.lock:
        scope = next(s for s in live.management_scopes if s["name"] == page.by_id["method-management-scope"])
        reach = set(r.primary_smtp.lower() for r in live.recipients if not r.soft_deleted and not r.inactive
                    and r.rtd in ("UserMailbox", "SharedMailbox") and rbac.in_scope(live, scope, r))
    assert page.by_id["method-proof"] == details["Proof"] == (
        "Test-ServicePrincipalAuthorization: %d of %d mailboxes of the campaign in scope, 2 of 2 excluded mailboxes "
        "not in scope" % (len(reach), len(reach)))
    assert page.counts["proven_in"] == page.counts["targets"] == len(reach) and page.counts["proven_out"] == 2
    assert page.counts["excluded"] == 2 and page.counts["failed"] == 0 and not page.rows("failures")
    assert set(r["mailbox"].lower() for r in rows if r["action"] == "in scope") == reach
    assert page.by_id["campaign"] == report["campaign"]["id"] and page.by_id["ledger"] == variables[
        "archive_access_ledger"] and os.path.isfile(page.by_id["ledger"])
    assert report["effective_by"]["at"] in page.by_id["effective-by"]

    # an administrator narrows the scope to user mailboxes: the verify's proof finds the shared ones out of reach
    with live.lock:
        scope = next(s for s in live.management_scopes if s["name"] == page.by_id["method-management-scope"])
        scope["filter"] = "RecipientTypeDetails -eq 'UserMailbox' -and ExternalDirectoryObjectId -ne 'none'"
        shared = set(r.primary_smtp.lower() for r in live.recipients if not r.soft_deleted and not r.inactive
                     and r.rtd == "SharedMailbox") - {"info@" + DOMAIN}
    verify = play(tenant, _verify_playbook(tmp_path), variables)
    assert verify.returncode != 0, verify
    paths = newest_reports(tmp_path)
    report = read_json(paths["json"])
    page = rendered(browser, tmp_path, paths["html"])
    assert page.by_id["status"] == report["status"] == "INCOMPLETE"
    assert page.by_id["next-step"] == "What to do: " + report["next_step"] and "Do not start the export" in \
        page.by_id["next-step"]
    failures = page.rows("failures", "failure")
    assert [(f[0], f[1]) for f in failures] == [(f["mailbox"], f["mailbox_id"]) for f in report["failures"]]
    assert set(f[0].lower() for f in failures if "does not reach" in f[2]) == shared
    assert page.counts["failed"] == len(failures) and "%d of %d" % (page.counts["proven_in"], page.counts[
        "targets"]) in page.by_id["method-proof"]

    revoke = play(tenant, "revoke_archive_access", variables)
    assert revoke.returncode == 0, revoke
    page = rendered(browser, tmp_path, newest_reports(tmp_path)["html"])
    assert page.by_id["status"] == "COMPLETE" and "(closed)" in page.by_id["campaign"]
    assert not [s for s in tenant.server.rbac_state(DOMAIN)["management_scopes"]
                if s["name"].startswith("Archive campaign ")]
