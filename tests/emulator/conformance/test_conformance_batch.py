"""$batch: shape, limits, URLs, throttled and failed sub-responses, continue-on-error."""

import base64

from conformance_support import DOMAIN, sub_request


def test_batch_shape_and_relative_absolute_urls(api):
    absolute = api.url() + "?$select=Name"
    requests_ = [sub_request(1, "Get-Mailbox", {"Identity": "ceo"}, url=absolute),
                 sub_request(2, "Get-Mailbox", {"Identity": "helpdesk"},
                             url="/adminapi/beta/%s/InvokeCommand" % DOMAIN),
                 sub_request(3, "Get-Mailbox", {"Identity": "nobody"})]
    response = api.batch(requests_)
    assert response.status_code == 200
    responses = {r["id"]: r for r in response.json()["responses"]}
    assert set(responses) == {"1", "2", "3"}
    first = responses["1"]
    assert first["status"] == 200
    assert first["headers"]["content-type"].startswith("application/json")
    assert first["body"]["value"] == [{"Name": "ceo"}]
    assert first["body"]["@adminapi.warnings"] == []
    assert responses["2"]["body"]["value"][0]["Name"] == "helpdesk"
    assert responses["3"]["status"] == 404
    assert responses["3"]["body"]["error"]["code"] == "NotFound"
    counters = api.server.counters()
    assert counters["batch_requests"] == 1 and counters["cmdlets"]["Get-Mailbox"] == 2


def test_batch_limit_and_validation(api):
    eleven = [sub_request(i, "Get-Mailbox", {"Identity": "ceo"}) for i in range(11)]
    response = api.batch(eleven)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"
    duplicate = [sub_request(1, "Get-Mailbox", {"Identity": "ceo"})] * 2
    assert api.batch(duplicate).status_code == 400
    assert api.batch([]).status_code == 400
    foreign = [sub_request(1, "Get-Mailbox", {"Identity": "ceo"},
                           url="/adminapi/beta/fabrikam.onmicrosoft.com/InvokeCommand")]
    assert api.batch(foreign).json()["responses"][0]["status"] == 400


def test_throttled_sub_response_has_lower_case_retry_after(api):
    api.server.add_fault_rule(match={"cmdlet": "Add-MailboxPermission", "identity": "info"}, fault="throttle",
                              retry_after="2.5")
    requests_ = [sub_request(1, "Add-MailboxPermission", {"Identity": "support", "User": "archive.admin",
                                                          "AccessRights": ["FullAccess"], "AutoMapping": False}),
                 sub_request(2, "Add-MailboxPermission", {"Identity": "info", "User": "archive.admin",
                                                          "AccessRights": ["FullAccess"], "AutoMapping": False})]
    responses = api.batch(requests_).json()["responses"]
    assert responses[0]["status"] == 200
    throttled = responses[1]
    assert throttled["status"] == 429
    assert throttled["headers"]["retry-after"] == "2.5"
    assert "error" in throttled["body"]
    assert api.server.counters()["throttled"] == 1
    assert not any(a["trustee"].startswith("archive.admin") for a in api.server.permissions(None, "info")["aces"])


def test_concurrency_cap_counts_every_sub_request(api):
    api.server.set_faults(concurrency_limit=3, concurrency_retry_after="0.5")
    requests_ = [sub_request(i, "Get-Mailbox", {"Identity": "ceo"}) for i in range(5)]
    statuses = [r["status"] for r in api.batch(requests_).json()["responses"]]
    assert statuses == [200, 200, 200, 429, 429]
    assert api.server.counters()["max_concurrency_seen"] == 3


def test_without_continue_on_error_later_requests_are_not_run(api):
    requests_ = [sub_request(1, "Get-Mailbox", {"Identity": "nobody"}),
                 sub_request(2, "Add-MailboxPermission", {"Identity": "info", "User": "archive.admin",
                                                          "AccessRights": "FullAccess"})]
    response = api.post(api.url(endpoint="$batch"), {"requests": requests_})
    statuses = [r["status"] for r in response.json()["responses"]]
    assert statuses == [404, 424]
    assert not any(a["trustee"].startswith("archive.admin") for a in api.server.permissions(None, "info")["aces"])


def test_nul_403_sub_response(api):
    responses = api.batch([sub_request(1, "Set-CASMailbox", {"Identity": "ceo"})]).json()["responses"]
    assert responses[0]["status"] == 403
    body = responses[0]["body"]
    assert base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)) == b"\x00" * 4096


def test_batch_sub_request_paging(api):
    sub = sub_request(1, "Get-Mailbox", {"ResultSize": "Unlimited"}, url="InvokeCommand?$select=Name")
    sub["headers"]["Prefer"] = "odata.maxpagesize=7"
    first = api.batch([sub]).json()["responses"][0]["body"]
    assert len(first["value"]) == 7 and "@odata.nextLink" in first
    follow = sub_request(1, "Get-Mailbox", {"ResultSize": "Unlimited"}, url=first["@odata.nextLink"])
    second = api.batch([follow]).json()["responses"][0]["body"]
    assert len(second["value"]) == 7 and set(second["value"][0]) == {"Name"}
