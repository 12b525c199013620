# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client and the pipeline against scripted HTTP exchanges, without a server.

Each test lists the requests the client must send, in order, with the response each one gets: live shapes
from the reference ("Round 2"): not-found as 500 and in both detail formats, ambiguity typed as not-found,
the plain-text concurrency refusal, -ResultSize answered with a nextLink. A request the script does not
expect, or a scripted request never sent, fails the test. Waits are recorded, never slept.
"""

import base64
import datetime
import email.utils
import json
import time

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from ansible_collections.m365.exchange.plugins.module_utils import _errors as errors
from ansible_collections.m365.exchange.plugins.module_utils import _pipeline as pipeline_module
from ansible_collections.m365.exchange.plugins.module_utils._client import (
    Command,
    ExchangeOnlineClient,
    RetryPolicy,
    ServiceLoad,
)
from ansible_collections.m365.exchange.plugins.module_utils._connection import ConnectionSettings
from ansible_collections.m365.exchange.plugins.module_utils._pipeline import Pipeline

API = "https://exo.test"
TENANT = "contoso.onmicrosoft.com"
INVOKE = "%s/adminapi/beta/%s/InvokeCommand" % (API, TENANT)
BATCH = "%s/adminapi/beta/%s/$batch" % (API, TENANT)
MORE = ("There are more results available than are currently displayed. To view them, increase the value for the "
        "ResultSize parameter.")
NOT_FOUND_TEXT = ("The operation couldn't be performed because object 'nobody@contoso.com' couldn't be found on "
                  "'NAMPR01A001.PROD.OUTLOOK.COM'.")
NOT_FOUND_TYPE = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"
AMBIGUOUS_TEXT = "The operation couldn't be performed because 'jsmith' matches multiple entries."
CONCURRENCY_TEXT = ("You have reached the maximum number of concurrent requests per tenant. Please wait and try "
                    "again")


# ---- the script ------------------------------------------------------------------------------------------


class Exchange:
    """One expected request (what it must carry) and the response it gets."""

    def __init__(self, url=INVOKE):
        self.url = url
        self.checks = []
        self.status = 200
        self.headers = {"Content-Type": "application/json;odata.metadata=minimal"}
        self.content = b"{}"

    # what the request must carry
    def cmdlet(self, name, **parameters):
        def check(request, body):
            assert request.headers["X-CmdletName"] == name
            assert body["CmdletInput"]["CmdletName"] == name
            for key, value in parameters.items():
                assert body["CmdletInput"]["Parameters"].get(key) == value, (key, body)
        self.checks.append(check)
        return self

    def header(self, name, value):
        def check(request, body):  # pylint: disable=unused-argument
            assert request.headers.get(name) == value, (name, request.headers.get(name))
        self.checks.append(check)
        return self

    def batch_of(self, *cmdlets, **sub_headers):
        def check(request, body):
            assert request.url == BATCH
            assert [sub["body"]["CmdletInput"]["CmdletName"] for sub in body["requests"]] == list(cmdlets)
            for sub in body["requests"]:
                for name, value in sub_headers.items():
                    assert sub["headers"].get(name.replace("_", "-")) == value, (name, sub["headers"])
        self.checks.append(check)
        return self

    # what it gets
    def reply(self, status, body=None, headers=None, text=None):
        self.status = status
        if text is not None:
            self.content = text.encode("utf-8")
            self.headers = {"Content-Type": "text/plain; charset=utf-8"}
        else:
            self.content = json.dumps(body if body is not None else {}).encode("utf-8")
        self.headers.update(headers or {})
        return self

    def rows(self, rows, warnings=(), next_link=None, headers=None):
        body = {"@odata.context": "%s/adminapi/beta/%s/$metadata#Collection(Exchange.GenericHashTable)"
                                  % (API, TENANT),
                "adminapi.warnings@odata.type": "#Collection(String)", "@adminapi.warnings": list(warnings),
                "value": rows}
        if next_link:
            body["@odata.nextLink"] = next_link
        return self.reply(200, body, headers)

    def sub_responses(self, *answers, **kwargs):
        """answers: (status, body, headers) per sub-request, ids "1", "2", ... in order."""
        responses = [{"id": str(number), "status": status, "headers": headers or {}, "body": body}
                     for number, (status, body, headers) in enumerate(answers, 1)]
        return self.reply(200, {"responses": responses}, kwargs.get("headers"))


class ScriptedSession(requests.Session):
    """A requests session that answers from a script and asserts every request against it."""

    def __init__(self, *exchanges):
        super().__init__()
        self.trust_env = False
        self.script = list(exchanges)
        self.sent = []

    def send(self, request, **kwargs):  # pylint: disable=arguments-differ
        assert self.script, "unexpected request to %s: %s" % (request.url, request.body)
        exchange = self.script.pop(0)
        body = json.loads(request.body)
        self.sent.append((request.url, body))
        assert request.method == "POST"
        assert request.url == exchange.url, (request.url, exchange.url)
        assert request.headers["Authorization"] == "Bearer token-1"
        for check in exchange.checks:
            check(request, body)
        response = requests.Response()
        response.status_code = exchange.status
        response._content = exchange.content  # pylint: disable=protected-access
        response.headers = CaseInsensitiveDict(exchange.headers)
        response.url = request.url
        response.request = request
        return response

    def assert_done(self):
        assert not self.script, "%d scripted requests were never sent" % len(self.script)


class Tokens:
    def token(self):
        return "token-1"

    def invalidate(self, token):
        raise AssertionError("no 401 in these scripts")


class Waits(list):
    def __call__(self, seconds):
        self.append(seconds)


def make_client(session, waits=None, **policy):
    settings = ConnectionSettings(TENANT, "00000000-0000-0000-0000-00000000c11e", client_secret="not-used",
                                  api_url=API)
    retry = dict(max_attempts=4, max_throttled=5, max_elapsed=600.0, base_delay=0.5, max_delay=2.0)
    retry.update(policy)
    return ExchangeOnlineClient(settings, session=session, token_provider=Tokens(),
                                retry_policy=RetryPolicy(**retry), sleep=waits if waits is not None else Waits())


@pytest.fixture
def wire():
    """wire(*exchanges) -> (client, session, waits); the script must be used up by the end of the test."""
    made = []

    def factory(*exchanges, **policy):
        session = ScriptedSession(*exchanges)
        waits = Waits()
        made.append(session)
        return make_client(session, waits, **policy), session, waits

    yield factory
    for session in made:
        session.assert_done()


def error_body(status_code, message, detail, innererror=None):
    error = {"code": status_code, "message": message, "details": [{"code": "Client", "target": "", "message": detail}]}
    if innererror:
        error["innererror"] = innererror
    return {"error": error}


def pipe(detail_type, text, error_id="Ex6F9304"):
    return "%s|%s|%s" % (error_id, detail_type, text)


def json_detail(detail_type, text):
    return json.dumps({"Message": text, "TypeName": detail_type})


NOT_FOUND_BODIES = {
    "404, Id|Type|Text": (404, error_body("NotFound", "Error executing cmdlet", pipe(NOT_FOUND_TYPE, NOT_FOUND_TEXT))),
    "500, Id|Type|Text": (500, error_body("InternalServerError", "Error executing cmdlet",
                                          pipe(NOT_FOUND_TYPE, NOT_FOUND_TEXT))),
    "500, JSON detail": (500, error_body("InternalServerError", "Error executing cmdlet",
                                         json_detail(NOT_FOUND_TYPE, NOT_FOUND_TEXT))),
    "404, JSON detail": (404, error_body("NotFound", "Error executing cmdlet",
                                         json_detail(NOT_FOUND_TYPE, NOT_FOUND_TEXT))),
    "500, text only": (500, error_body("InternalServerError", "Error executing cmdlet", "|" + "|" + NOT_FOUND_TEXT)),
}


# ---- classification of single requests --------------------------------------------------------------------


@pytest.mark.parametrize("shape", sorted(NOT_FOUND_BODIES))
def test_not_found_in_every_shape_is_not_found_and_sent_once(wire, shape):
    status, body = NOT_FOUND_BODIES[shape]
    client, _session, waits = wire(Exchange().cmdlet("Get-Mailbox", Identity="nobody@contoso.com").reply(status, body))
    with pytest.raises(errors.NotFoundError) as caught:
        client.invoke("Get-Mailbox", {"Identity": "nobody@contoso.com"})
    assert "couldn't be found" in str(caught.value) and caught.value.status == status
    assert waits == [] and client.stats.as_dict() == {"http_requests": 1, "batch_requests": 0, "cmdlets": 1,
                                                      "throttled": 0, "retries": 0, "token_renewals": 0}


def test_the_exception_type_header_names_a_bare_500(wire):
    bare = {"error": {"code": "InternalServerError", "message": "Error executing cmdlet"}}
    client, _session, waits = wire(Exchange().reply(500, bare, {"x-ExceptionType": NOT_FOUND_TYPE}))
    with pytest.raises(errors.NotFoundError):
        client.invoke("Get-Mailbox", {"Identity": "nobody@contoso.com"})
    assert waits == [] and client.stats.retries == 0


@pytest.mark.parametrize("status, detail", [
    (404, pipe(NOT_FOUND_TYPE, AMBIGUOUS_TEXT)),  # PS365 capture: ambiguity typed as not-found
    (400, pipe("Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException", AMBIGUOUS_TEXT)),
    (500, json_detail(NOT_FOUND_TYPE, AMBIGUOUS_TEXT)),
])
def test_ambiguous_text_is_ambiguous_whatever_the_type(wire, status, detail):
    client, _session, waits = wire(Exchange().reply(status, error_body("NotFound", "Error executing cmdlet", detail)))
    with pytest.raises(errors.AmbiguousIdentityError) as caught:
        client.invoke("Get-Mailbox", {"Identity": "jsmith"})
    assert "matches multiple entries" in str(caught.value) and "primary SMTP address" in str(caught.value)
    assert waits == []


@pytest.mark.parametrize("status", [429, 503, 500, 400])
def test_the_plain_text_concurrency_refusal_is_throttling_whatever_the_status(wire, status):
    client, _session, waits = wire(
        Exchange().cmdlet("Get-Mailbox").reply(status, text=CONCURRENCY_TEXT, headers={"Retry-After": "2.5"}),
        Exchange().cmdlet("Get-Mailbox").rows([{"Identity": "info"}]))
    assert client.invoke("Get-Mailbox", {"Identity": "info"}).value == [{"Identity": "info"}]
    assert len(waits) == 1 and 2.5 <= waits[0] <= 2.5 * 1.1  # Retry-After, with the policy's small jitter
    assert client.stats.as_dict() == {"http_requests": 2, "batch_requests": 0, "cmdlets": 2, "throttled": 1,
                                      "retries": 1, "token_renewals": 0}


def test_the_concurrency_refusal_in_a_json_body_is_throttling_too(wire):
    body = {"error": {"code": "ServiceUnavailable", "message": CONCURRENCY_TEXT}}
    client, _session, waits = wire(Exchange().reply(503, body, {"Retry-After": "1"}),
                                   Exchange().rows([]))
    assert client.invoke("Get-Mailbox", {"Identity": "info"}).value == []
    assert client.stats.throttled == 1 and len(waits) == 1 and waits[0] >= 1.0


def test_a_concurrency_refusal_that_outlasts_the_budget_is_a_throttled_error(wire):
    refusals = [Exchange().reply(503, text=CONCURRENCY_TEXT, headers={"Retry-After": "0"}) for _unused in range(3)]
    client, _session, _waits = wire(*refusals, max_throttled=2)
    with pytest.raises(errors.ThrottledError) as caught:
        client.invoke("Get-Mailbox", {"Identity": "info"})
    assert "still throttling" in str(caught.value) and "concurrent requests" in str(caught.value)
    assert client.stats.throttled == 3 and client.stats.retries == 2


def test_a_server_error_is_retried_with_backoff(wire):
    body = error_body("InternalServerError", "An internal server error occurred.",
                      pipe("Microsoft.Exchange.Admin.OData.Core.ODataServiceException", "The operation failed."))
    client, _session, waits = wire(Exchange().reply(500, body), Exchange().reply(500, body), Exchange().rows([]))
    assert client.invoke("Get-Mailbox", {"Identity": "info"}).value == []
    assert len(waits) == 2 and client.stats.retries == 2 and client.stats.throttled == 0


def test_a_server_error_on_a_write_that_is_not_retry_safe_is_not_resent(wire):
    client, _session, waits = wire(Exchange().reply(503, {"error": {"code": "ServiceUnavailable",
                                                                    "message": "try later"}}))
    with pytest.raises(errors.TransientError):
        client.execute(Command("Set-Thing", {"Identity": "x"}, retry_safe=False))
    assert waits == []


# ---- result_size: stop by row count ----------------------------------------------------------------------------


def test_result_size_asks_pages_of_that_size_and_never_follows_the_link(wire):
    link = INVOKE + "?%24skiptoken=abc"
    client, _session, _waits = wire(
        Exchange().cmdlet("Get-Mailbox", ResultSize=2).header("Prefer", "odata.maxpagesize=2")
        .rows([{"Name": "a"}, {"Name": "b"}], warnings=[MORE], next_link=link))
    result = client.invoke("Get-Mailbox", {"ResultSize": 2})
    assert [row["Name"] for row in result.value] == ["a", "b"]
    assert result.warnings == []  # every row asked for is in: "more results" says nothing
    assert client.stats.http_requests == 1


def test_result_size_over_a_page_follows_links_until_the_rows_are_in(wire):
    first = [{"Name": "a%d" % i} for i in range(1000)]
    second = [{"Name": "b%d" % i} for i in range(1000)]
    client, _session, _waits = wire(
        Exchange().header("Prefer", "odata.maxpagesize=1000").rows(first, [MORE], INVOKE + "?%24skiptoken=p2"),
        Exchange(INVOKE + "?%24skiptoken=p2").header("Prefer", "odata.maxpagesize=1000")
        .rows(second, [MORE], INVOKE + "?%24skiptoken=p3"))
    result = client.invoke("Get-Mailbox", {"ResultSize": 1500})
    assert len(result.value) == 1500 and result.value[-1] == {"Name": "b499"} and result.warnings == []


def test_a_short_page_under_result_size_keeps_reading(wire):
    client, _session, _waits = wire(
        Exchange().rows([{"Name": "a"}], [MORE], INVOKE + "?%24skiptoken=p2"),
        Exchange(INVOKE + "?%24skiptoken=p2").rows([{"Name": "b"}, {"Name": "c"}, {"Name": "d"}], [MORE],
                                                   INVOKE + "?%24skiptoken=p3"))
    result = client.invoke("Get-Mailbox", {"ResultSize": 3})
    assert [row["Name"] for row in result.value] == ["a", "b", "c"] and result.warnings == []


def test_max_rows_stops_a_read_without_result_size(wire):
    rows = [{"Name": str(i)} for i in range(5)]
    client, _session, _waits = wire(
        Exchange().header("Prefer", "odata.maxpagesize=5").rows(rows, [MORE], INVOKE + "?%24skiptoken=x"))
    result = client.execute(Command("Get-Recipient", {"ResultSize": "Unlimited"}), max_rows=5)
    assert len(result.value) == 5


def test_unlimited_reads_follow_every_link(wire):
    client, _session, _waits = wire(
        Exchange().header("Prefer", "odata.maxpagesize=1000").rows([{"Name": "a"}], [MORE], INVOKE + "?%24skiptoken=2"),
        Exchange(INVOKE + "?%24skiptoken=2").rows([{"Name": "b"}]))
    result = client.invoke("Get-Mailbox", {"ResultSize": "Unlimited"})
    assert [row["Name"] for row in result.value] == ["a", "b"] and result.warnings == []


# ---- $batch: the same classification and the same counters ------------------------------------------------------


def ok(identity):
    return 200, {"@adminapi.warnings": [], "value": [{"Identity": identity}]}, {"content-type": "application/json"}


def sub_error(status, detail, headers=None):
    merged = {"content-type": "application/json"}
    merged.update(headers or {})
    return status, error_body("Error", "Error executing cmdlet", detail), merged


def text_sub_response(status, text, retry_after=None):
    """A body that is not JSON travels base64url-encoded in a $batch sub-response."""
    headers = {"content-type": "text/plain"}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    return status, base64.urlsafe_b64encode(text.encode()).decode().rstrip("="), headers


def reads(*identities):
    return [Command("Get-MailboxPermission", {"Identity": identity}) for identity in identities]


def run_batches(client, commands):
    return Pipeline(client, concurrency=16, initial_window=16).run(commands)  # batches of 2


def test_a_not_found_sub_response_as_500_is_final(wire):
    client, _session, _waits = wire(
        Exchange(BATCH).batch_of("Get-MailboxPermission", "Get-MailboxPermission")
        .sub_responses(ok("a"), sub_error(500, json_detail(NOT_FOUND_TYPE, NOT_FOUND_TEXT))))
    first, second = run_batches(client, reads("a", "nobody"))
    assert first.value == [{"Identity": "a"}]
    assert isinstance(second, errors.NotFoundError) and second.status == 500
    assert client.stats.retries == 0 and client.stats.cmdlets == 2


def test_ambiguity_typed_as_not_found_in_a_sub_response(wire):
    client, _session, _waits = wire(
        Exchange(BATCH).sub_responses(sub_error(404, pipe(NOT_FOUND_TYPE, AMBIGUOUS_TEXT))))
    (result,) = run_batches(client, reads("jsmith"))
    assert isinstance(result, errors.AmbiguousIdentityError)


def test_throttled_sub_requests_are_retried_and_counted_like_single_requests(wire):
    client, _session, _waits = wire(
        Exchange(BATCH).batch_of("Get-MailboxPermission", "Get-MailboxPermission")
        .sub_responses(ok("a"), text_sub_response(503, CONCURRENCY_TEXT, retry_after="0")),
        Exchange(BATCH).batch_of("Get-MailboxPermission").sub_responses(ok("b")))
    first, second = run_batches(client, reads("a", "b"))
    assert first.value and second.value == [{"Identity": "b"}]
    assert client.stats.as_dict() == {"http_requests": 2, "batch_requests": 2, "cmdlets": 3, "throttled": 1,
                                      "retries": 1, "token_renewals": 0}


def test_single_and_batched_commands_count_a_retry_the_same_way(wire):
    throttled = (429, {"error": {"code": "TooManyRequests", "message": "slow down"}}, {"retry-after": "0"})
    batched, _session, _waits = wire(Exchange(BATCH).sub_responses(throttled), Exchange(BATCH).sub_responses(ok("a")))
    run_batches(batched, reads("a"))
    single, _session, _waits = wire(Exchange().reply(429, throttled[1], {"Retry-After": "0"}), Exchange().rows([]))
    single.execute(reads("a")[0])
    for field in ("cmdlets", "throttled", "retries"):
        assert getattr(batched.stats, field) == getattr(single.stats, field), field
    assert (batched.stats.cmdlets, batched.stats.throttled, batched.stats.retries) == (2, 1, 1)


def test_server_errors_in_sub_responses_are_retried_and_counted(wire):
    failed = sub_error(503, pipe("Microsoft.Exchange.Admin.OData.Core.ODataServiceException", "Try again later."))
    client, _session, _waits = wire(Exchange(BATCH).sub_responses(failed), Exchange(BATCH).sub_responses(ok("a")),
                                    base_delay=0.0, max_delay=0.0)
    (result,) = run_batches(client, reads("a"))
    assert result.value and client.stats.retries == 1 and client.stats.throttled == 0


def test_a_missing_sub_response_is_retried_and_counted(wire):
    client, _session, _waits = wire(Exchange(BATCH).sub_responses(), Exchange(BATCH).sub_responses(ok("a")),
                                    base_delay=0.0, max_delay=0.0)
    (result,) = run_batches(client, reads("a"))
    assert result.value and client.stats.retries == 1 and client.stats.cmdlets == 1


def test_result_size_in_a_batch_sets_the_page_size_and_stops_by_row_count(wire):
    rows = {"@adminapi.warnings": [MORE], "value": [{"Name": "a"}],
            "@odata.nextLink": INVOKE + "?%24skiptoken=never-followed"}
    client, _session, _waits = wire(
        Exchange(BATCH).batch_of("Get-Mailbox", Prefer="odata.maxpagesize=1")
        .sub_responses((200, rows, {"content-type": "application/json"})))
    (result,) = run_batches(client, [Command("Get-Mailbox", {"ResultSize": 1})])
    assert result.value == [{"Name": "a"}] and result.warnings == []


# ---- pacing from the service's rate headers ----------------------------------------------------------------------


def rate_headers(limit, remaining, reset_in, concurrency=0, now=None):
    now = time.time() if now is None else now
    reset = datetime.datetime.fromtimestamp(now + reset_in, datetime.timezone.utc)
    return {"Rate-Limit-Limit": str(limit), "Rate-Limit-Remaining": str(remaining),
            "Rate-Limit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (reset.microsecond // 1000),
            "X-Concurrencycount": str(concurrency)}


def test_the_rate_headers_of_an_answer_give_the_rate_the_tenant_serves(wire):
    client, _session, waits = wire(Exchange().rows([], headers=rate_headers(3200, 3199, 16.0, concurrency=3)))
    assert client.rate_cap() is None  # nothing heard yet: nothing changes
    client.invoke("Get-Mailbox", {"Identity": "info"})
    assert client.rate_cap() == pytest.approx(3200 / 16.0 * (1 - ServiceLoad.MARGIN), rel=0.01)
    assert client.load.concurrency == 3 and waits == []


def test_without_rate_headers_nothing_changes(wire):
    client, _session, _waits = wire(Exchange().rows([]))
    client.invoke("Get-Mailbox", {"Identity": "info"})
    assert client.rate_cap() is None


def test_a_spent_budget_pauses_the_next_request_until_reset(wire):
    client, _session, waits = wire(Exchange().rows([], headers=rate_headers(100, 0, 5.0)), Exchange().rows([]))
    client.invoke("Get-Mailbox", {"Identity": "a"})
    client.invoke("Get-Mailbox", {"Identity": "b"})
    assert len(waits) == 1 and 4.0 < waits[0] <= 5.0


class Clock:
    def __init__(self, now=1000000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_what_others_use_of_the_budget_is_not_ours():
    clock = Clock()
    load = ServiceLoad(clock)
    load.sent(400)  # ours, in the window, answered below; 5 cmdlets of someone else still run at the tenant
    load.answered(400, rate_headers(3200, 1200, 16.0, concurrency=5, now=clock.now))  # 2,000 used, 1,600 others'
    assert load.foreign == 5
    assert load.rate_cap() == pytest.approx((3200 - 1600) / 16.0 * (1 - ServiceLoad.MARGIN), rel=0.01)
    clock.now += 40.0
    assert load.rate_cap() is None  # the headers stopped coming: stale


def test_a_budget_used_by_a_finished_run_does_not_slow_this_one():
    """Executions of a run that ended (the previous module process) are in the window, but nobody else runs
    cmdlets now (X-Concurrencycount): the whole rate is ours."""
    clock = Clock()
    load = ServiceLoad(clock)
    load.sent(2)
    load.answered(2, rate_headers(3200, 400, 16.0, concurrency=0, now=clock.now))
    assert load.foreign == 0
    assert load.rate_cap() == pytest.approx(3200 / 16.0 * (1 - ServiceLoad.MARGIN), rel=0.01)


def test_a_skewed_clock_measures_the_window_from_the_date_header():
    clock = Clock()
    load = ServiceLoad(clock)
    service_now = clock.now - 300.0  # our clock is five minutes ahead of the service's
    headers = rate_headers(3200, 3200, 16.0, now=service_now)
    headers["Date"] = email.utils.formatdate(service_now, usegmt=True)
    load.observe(headers)
    assert load.window == pytest.approx(16.0, abs=1.0)


def test_the_pacer_never_sends_faster_than_the_rate_cap():
    now = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 6))
        now[0] += seconds
    pacer = pipeline_module.Pacer(lambda: now[0], sleep)
    pacer.observe(0.01)  # a window of 10 per 10 ms would be 1,000 cmdlets/s
    for _unused in range(4):
        pacer.wait(2, 10, rate_cap=100.0)
    assert slept == [0.02, 0.02, 0.02]


def test_the_window_stops_growing_at_the_rate_the_service_allows():
    class Capped:
        retry_policy = RetryPolicy()
        cap = None

        def rate_cap(self):
            return self.cap

    client = Capped()
    run = Pipeline(client, concurrency=64, initial_window=20)
    run.pacer.observe(0.1)  # 20 per 0.1 s: 200 cmdlets/s
    queue = pipeline_module._WorkQueue(reads(*["m%d" % i for i in range(100)]))  # pylint: disable=protected-access
    ticket = run.window.acquire(3)
    run._schedule(queue, ticket, 3)  # pylint: disable=protected-access
    assert ticket.probing and run.window.target == pipeline_module.TARGET_THROTTLED
    client.cap = 150.0
    ticket = run.window.acquire(3)
    run._schedule(queue, ticket, 3)  # pylint: disable=protected-access
    assert not ticket.probing
    assert run.window.target == pipeline_module.TARGET_THROTTLED_WITH_RATE < pipeline_module.TARGET_THROTTLED
