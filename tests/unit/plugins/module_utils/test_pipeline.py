# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pipeline's flow control, without a server: window arithmetic, pacing with a fake clock, and a full run
against a scripted $batch endpoint. No assertion depends on timing (speed is shown by tests/benchmarks)."""

import json
import threading

import pytest

from ansible_collections.m365.exchange.plugins.module_utils import _pipeline as pipeline
from ansible_collections.m365.exchange.plugins.module_utils._client import ClientStats, Command, RetryPolicy
from ansible_collections.m365.exchange.plugins.module_utils._errors import (
    AuthorizationError,
    ExchangeError,
    NotAttemptedError,
    NotFoundError,
)
from ansible_collections.m365.exchange.plugins.module_utils._pipeline import (
    AdaptiveWindow,
    Pacer,
    Pipeline,
    batch_size_for,
    flow_control,
    near_the_end,
)


def release(window, count, succeeded=None, throttled=0, probing=True, wanted=None):
    ticket = window.acquire(wanted or count)
    ticket.probing = probing
    window.release(ticket, count - throttled if succeeded is None else succeeded, throttled)
    return ticket


# ---- AdaptiveWindow -----------------------------------------------------------------------------


def test_slow_start_grows_by_half_of_what_succeeds():
    window = AdaptiveWindow(64, initial=8)
    release(window, 8)
    assert window.size == 8 + 8 * AdaptiveWindow.SLOW_START_GROWTH
    assert window.slow_start


def test_the_window_does_not_grow_when_the_work_did_not_fill_it():
    window = AdaptiveWindow(64, initial=8)
    release(window, 2, probing=False)
    assert window.size == 8


def test_the_first_throttle_ends_slow_start_with_one_cut_for_the_whole_burst():
    window = AdaptiveWindow(64, initial=20)
    early = [window.acquire(2) for _unused in range(3)]  # sent before the cut
    window.release(early[0], 1, 1)
    assert window.size == pytest.approx(20 * AdaptiveWindow.SLOW_START_CUT)
    assert not window.slow_start
    cut = window.size
    for ticket in early[1:]:
        window.release(ticket, 0, 2)  # the rest of the same burst: no further cut
    assert window.size == cut


def test_after_slow_start_the_window_grows_about_increase_per_round_trip():
    window = AdaptiveWindow(64, initial=10)
    window.slow_start = False
    for _unused in range(10):
        release(window, 1)
    assert window.size == pytest.approx(10 + AdaptiveWindow.INCREASE, rel=0.02)


def test_the_window_settles_where_the_target_share_is_throttled():
    """One round trip of `size` cmdlets with TARGET_THROTTLED of them throttled leaves the window where it was."""
    window = AdaptiveWindow(64, initial=15)
    window.slow_start = False
    size = window.size
    throttled = pipeline.TARGET_THROTTLED * size
    window._shrink(window.acquire(1), throttled)  # pylint: disable=protected-access
    window._grow(size - throttled)  # pylint: disable=protected-access
    assert window.size == pytest.approx(size, abs=0.05 * AdaptiveWindow.INCREASE * size)


def test_the_window_stays_between_one_and_the_maximum():
    window = AdaptiveWindow(12, initial=8)
    for _unused in range(20):
        release(window, 4)
    assert window.size == 12 and window.limit == 12
    window.slow_start = False
    for _unused in range(200):
        release(window, 2, throttled=2)
    assert window.size == 1.0 and window.limit == 2


def test_cmdlets_in_flight_may_exceed_the_window_by_the_headroom_only():
    window = AdaptiveWindow(64, initial=10)
    assert window.limit == 15
    first = window.acquire(10)
    second = window.acquire(5)
    assert (first.count, second.count, window.in_flight) == (10, 5, 15)
    window.give_back(second, 3)
    assert (second.count, window.in_flight) == (2, 12)


def test_acquire_waits_until_the_whole_batch_fits():
    window = AdaptiveWindow(4, initial=4)
    held = window.acquire(3)
    got = []
    waiter = threading.Thread(target=lambda: got.append(window.acquire(2)))
    waiter.start()
    waiter.join(0.05)
    assert not got  # one place is free, the batch needs two
    window.release(held, 3, 0)
    waiter.join(5)
    assert got and got[0].count == 2


def test_a_batch_larger_than_the_limit_gets_the_limit_when_nothing_is_in_flight():
    window = AdaptiveWindow(3, initial=2)
    assert window.acquire(10).count == 3


# ---- batch size, end of a run, shared flow control ----------------------------------------------


@pytest.mark.parametrize("size, expected", [(1, 1), (8, 1), (9, 2), (14, 2), (32, 4), (64, 8), (200, 10)])
def test_batches_are_small_enough_for_several_in_flight(size, expected):
    assert batch_size_for(size) == expected


@pytest.mark.parametrize("unfinished, rate, wait, expected", [
    (100, 200.0, 1.0, True),  # half a second of work left, a 429 now would wait a second
    (1000, 200.0, 1.0, False),
    (100, 200.0, 0.0, False),  # nothing was throttled yet: keep probing
    (100, None, 1.0, False),  # no round trip measured yet
])
def test_near_the_end(unfinished, rate, wait, expected):
    assert near_the_end(unfinished, rate, wait, 0.07) is expected


def test_near_the_end_with_a_rate_from_the_headers_before_any_round_trip():
    # the rate headers give a rate before a round trip is measured; a 429 already set a wait
    assert near_the_end(100, 200.0, 1.0, None) is True
    assert near_the_end(1000, 200.0, 1.0, None) is False


class Holder:
    """Something to hang a window and a pacer on, like the client."""


def test_pipelines_of_one_client_share_the_window_and_the_pacer():
    client = Holder()
    window, pacer = flow_control(client, 32)
    window.size = 14.0
    again, same_pacer = flow_control(client, 32)
    assert again is window and same_pacer is pacer
    other, _pacer = flow_control(client, 16)
    assert other is not window and other.maximum == 16


# ---- Pacer ---------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_the_first_window_goes_out_at_once_then_waits_for_a_round_trip():
    clock = FakeClock()
    pacer = Pacer(clock.time, clock.sleep)
    pacer.wait(4, 8)
    pacer.wait(4, 8)
    assert clock.slept == []
    blocked = threading.Thread(target=pacer.wait, args=(1, 8))
    blocked.start()
    blocked.join(0.05)
    assert blocked.is_alive()
    pacer.observe(0.08)
    blocked.join(5)
    assert not blocked.is_alive()


def test_dispatches_are_spread_evenly_over_a_round_trip():
    clock = FakeClock()
    pacer = Pacer(clock.time, clock.sleep)
    pacer.observe(0.1)
    for _unused in range(5):
        pacer.wait(2, 10)  # 10 cmdlets per 0.1 s: a batch of 2 every 0.02 s
    assert clock.slept == [0.02, 0.02, 0.02, 0.02]
    assert pacer.rate(10) == pytest.approx(100.0)


def test_a_late_dispatcher_does_not_catch_up_with_a_burst():
    clock = FakeClock()
    pacer = Pacer(clock.time, clock.sleep)
    pacer.observe(0.1)
    pacer.wait(2, 10)
    clock.now += 1.0  # the dispatcher was held up
    pacer.wait(2, 10)
    pacer.wait(2, 10)
    assert clock.slept == [0.02]


def test_the_round_trip_is_smoothed():
    pacer = Pacer()
    pacer.observe(0.1)
    pacer.observe(0.2)
    assert pacer.round_trip == pytest.approx(0.1 + Pacer.SMOOTHING * 0.1)
    pacer.note_wait(1.05)
    pacer.note_wait(0.5)
    assert pacer.longest_wait == 1.05


# ---- a whole run against a scripted $batch endpoint -----------------------------------------------


class Response:
    def __init__(self, status_code, body):
        self.status_code = status_code
        self.content = json.dumps(body).encode()
        self.headers = {}


class ScriptedClient:
    """The parts of ExchangeOnlineClient the pipeline uses; answers $batch from `answer(command, attempt)`."""

    def __init__(self, answer):
        self.answer = answer
        self.retry_policy = RetryPolicy(max_attempts=3, max_throttled=5, max_elapsed=30, base_delay=0.0, max_delay=0.0)
        self.stats = ClientStats()
        self.attempts = {}
        self.batches = []
        self._lock = threading.Lock()

    def invoke_url(self, select=None):
        return "https://example/InvokeCommand"

    def batch_url(self):
        return "https://example/$batch"

    def command_headers(self, cmdlet, page_size=1000):
        return {"X-CmdletName": cmdlet, "Prefer": "odata.maxpagesize=%d" % page_size}

    def post(self, url, body, cmdlet, retry_safe, describe, cmdlets=1):  # pylint: disable=unused-argument,too-many-arguments
        requests_ = json.loads(body)["requests"]
        responses = []
        with self._lock:
            self.batches.append(len(requests_))
            for sub in requests_:
                identity = sub["body"]["CmdletInput"]["Parameters"]["Identity"]
                attempt = self.attempts[identity] = self.attempts.get(identity, 0) + 1
                status, sub_body, headers = self.answer(identity, attempt)
                responses.append({"id": sub["id"], "status": status, "headers": headers, "body": sub_body})
        return Response(200, {"responses": responses})

    def error_for(self, status, content, command, headers=None):  # pylint: disable=unused-argument
        if status == 404:
            return NotFoundError("%s: not found" % command.identity)
        if status == 403:
            return AuthorizationError("forbidden")
        return ExchangeError("status %d" % status)

    def execute(self, command):
        raise AssertionError("no result in these tests spans pages")


def ok(identity):
    return 200, {"value": [{"Identity": identity}], "@adminapi.warnings": []}, {}


THROTTLED = (429, {"error": {"code": "TooManyRequests", "message": "slow down"}}, {"retry-after": "0"})


def commands(count):
    return [Command("Get-MailboxPermission", {"Identity": "mbx%04d" % i}) for i in range(count)]


def test_every_command_gets_its_result_in_input_order():
    client = ScriptedClient(lambda identity, attempt: ok(identity))
    results = Pipeline(client, concurrency=16).run(commands(300))
    assert [r.value[0]["Identity"] for r in results] == ["mbx%04d" % i for i in range(300)]
    assert client.stats.cmdlets == 300 and max(client.batches) <= pipeline.BATCH_LIMIT


def test_keep_reduces_each_result_and_leaves_errors_alone():
    def answer(identity, attempt):
        return (404, {"error": {"code": "NotFound"}}, {}) if identity == "mbx0005" else ok(identity)
    results = Pipeline(ScriptedClient(answer), concurrency=8).run(commands(50), keep=lambda r: len(r.value))
    assert results[:5] == [1] * 5 and results[6:] == [1] * 44
    assert isinstance(results[5], NotFoundError)


def test_a_bug_in_keep_is_raised_not_swallowed():
    def keep(result):
        raise KeyError("missing")
    with pytest.raises(KeyError):
        Pipeline(ScriptedClient(lambda identity, attempt: ok(identity)), concurrency=4).run(commands(20), keep=keep)


def test_throttled_commands_are_retried_and_shrink_the_window():
    def answer(identity, attempt):
        return THROTTLED if attempt == 1 and identity.endswith("7") else ok(identity)
    client = ScriptedClient(answer)
    run = Pipeline(client, concurrency=16)
    results = run.run(commands(200))
    assert all(not isinstance(r, Exception) for r in results)
    assert client.stats.throttled == 20 and client.stats.cmdlets == 220
    assert not run.window.slow_start
    assert run.pacer.longest_wait == 0.0  # Retry-After 0


def test_errors_are_results_and_fatal_errors_stop_the_run():
    def answer(identity, attempt):
        if identity == "mbx0003":
            return 404, {"error": {"code": "NotFound"}}, {}
        if identity == "mbx0100":
            return 403, {"error": {"code": "Forbidden"}}, {}
        return ok(identity)
    client = ScriptedClient(answer)
    results = Pipeline(client, concurrency=4).run(commands(400))
    assert isinstance(results[3], NotFoundError)
    assert isinstance(results[100], AuthorizationError)
    assert any(isinstance(r, NotAttemptedError) for r in results[101:])
    assert all(r is not None for r in results)


def test_a_bug_in_a_worker_is_raised_not_swallowed():
    def answer(identity, attempt):
        raise ValueError("boom")
    with pytest.raises(ValueError):
        Pipeline(ScriptedClient(answer), concurrency=4).run(commands(10))


def test_an_empty_run_sends_nothing():
    client = ScriptedClient(lambda identity, attempt: ok(identity))
    assert Pipeline(client).run([]) == []
    assert client.batches == []


def test_stop_from_another_thread_ends_the_run_and_names_the_reason():
    run = None
    sent = []

    def answer(identity, attempt):
        sent.append(identity)
        if identity == "mbx0040":
            run.stop("the controller is gone")
        return ok(identity)
    client = ScriptedClient(answer)
    run = Pipeline(client, concurrency=4)
    results = run.run(commands(400))
    skipped = [r for r in results if isinstance(r, NotAttemptedError)]
    assert skipped and all("the controller is gone" in str(r) for r in skipped)
    assert len(sent) < 100  # nothing dispatched after the stop but what was already in flight
    assert all(r is not None for r in results)
    assert run.stopped == "the controller is gone"
