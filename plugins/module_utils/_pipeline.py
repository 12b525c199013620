# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Concurrent, batched execution of many cmdlets, as fast as the tenant allows.

A tenant runs at most C cmdlets at once and refuses the others with 429. A
cmdlet in flight is either on the wire or holding one of those slots, so the
best number in flight is C times (round trip / service time): more than C. Two
parts keep it there (docs/performance.md has the reasoning and the figures):

* AdaptiveWindow, the target number of cmdlets in flight. It starts small and
  grows by what succeeds (slow start) until the first 429, which cuts it once.
  Then it grows by INCREASE cmdlets per round trip and shrinks a little for
  every throttled cmdlet, so that it settles where about TARGET_THROTTLED of
  the cmdlets are refused: close to the tenant's limit, never hammering it.
* Pacer, which sends the window's worth of cmdlets evenly over a round trip
  instead of whenever a response comes back. Evenly spaced arrivals fill the
  slots as they free up; arrivals that bunch would be refused while slots
  idle a moment later.

When the service sends rate headers (Rate-Limit-*, see _client.ServiceLoad), the pacer never sends faster than
the rate they announce, the window stops growing where that rate is reached, and it settles at a lower share of
throttled cmdlets (TARGET_THROTTLED_WITH_RATE): the limit is known, 429s are not needed to find it. Without the
headers nothing of this applies.

Cmdlets travel in small $batch requests (about BATCH_LANES in flight). A
throttled cmdlet waits for its Retry-After without holding a place in the
window. Near the end of a run, when what is left would finish before a
throttled cmdlet's Retry-After is over, the pipeline stops probing and sends
a little below the window, so that no cmdlet is left waiting at the end.

One dispatcher thread fills the window and gives each batch its time; worker
threads build a batch, sleep until its time, send it and settle its results.
"""

import base64
import heapq
import json
import math
import queue as queue_module
import threading
import time
from collections import deque

from ansible_collections.m365.exchange.plugins.module_utils._client import (
    BATCH_LIMIT,
    CommandResult,
    parse_retry_after,
    without_more_results,
)
from ansible_collections.m365.exchange.plugins.module_utils._errors import (
    RETRY_FAILED,
    RETRY_THROTTLED,
    AuthenticationError,
    AuthorizationError,
    ConfigurationError,
    ExchangeError,
    NotAttemptedError,
    TransientError,
    parse_fault,
    retry_kind,
)
from ansible_collections.m365.exchange.plugins.module_utils._parsing import parse_envelope

# Errors that will not go away for the next command either: stop the run.
FATAL_ERRORS = (AuthenticationError, AuthorizationError, ConfigurationError)

BATCH_LANES = 8  # about this many $batch requests in flight; the batch size follows from the window
INITIAL_WINDOW = 8
IN_FLIGHT_HEADROOM = 1.5  # cmdlets in flight may exceed the window by this factor while responses are late
TARGET_THROTTLED = 0.03  # share of cmdlets refused with 429 at which the window settles
# With the service's rate headers the pacer knows the tenant's rate and needs no 429 to find it: the window backs
# off a little further on each one and settles where fewer are refused. 2% measured as fast as 3% on the
# benchmark (1% was slower: the window got too small for a busy client to keep the tenant's slots busy).
TARGET_THROTTLED_WITH_RATE = 0.02
CALM = 0.9  # share of the window sent near the end of a run, where a 429 would leave a cmdlet waiting
MAX_WORKERS = 64


def batch_size_for(window_size):
    """Cmdlets per $batch for a window: about BATCH_LANES requests in flight, 1 to BATCH_LIMIT cmdlets each."""
    return max(1, min(BATCH_LIMIT, int(math.ceil(window_size / float(BATCH_LANES)))))


class Ticket:
    """Places in the window for `count` cmdlets, and the window's state when they were taken."""

    __slots__ = ("count", "epoch", "size", "probing")

    def __init__(self, count, epoch, size):
        self.count = count
        self.epoch = epoch  # how many slow-start cuts the window had seen
        self.size = size
        self.probing = False  # set when the work, not a lack of it, filled these places: success may grow the window


class AdaptiveWindow:
    """The target number of cmdlets in flight, and the count of cmdlets in flight.

    Deterministic: it changes only in release(), from the outcomes it is told; no clock.
    """

    INCREASE = 0.05  # cmdlets added per window's worth of successes (about a round trip) after slow start
    RECOVERY_GAIN = 5.0  # INCREASE is this much larger from the slow-start cut to the next 429
    SLOW_START_GROWTH = 0.5  # cmdlets added per successful cmdlet in slow start: x1.5 per round trip
    SLOW_START_CUT = 0.85  # the first 429 sets the window to this share of the one its cmdlets were sent with

    def __init__(self, maximum, initial=None):
        self.maximum = max(1, int(maximum))
        self.size = float(min(self.maximum, initial or INITIAL_WINDOW))
        self.slow_start = True
        self.recovering = False  # after the slow-start cut, until the next 429: climb back faster
        self.epoch = 0
        self.in_flight = 0
        self.target = TARGET_THROTTLED  # share of throttled cmdlets at which the window settles
        self._cond = threading.Condition()

    @property
    def limit(self):
        """The most cmdlets in flight: the window plus headroom for late responses, at most `maximum`."""
        return max(1, min(self.maximum, int(math.ceil(self.size * IN_FLIGHT_HEADROOM))))

    def acquire(self, wanted):
        """Wait until `wanted` cmdlets fit (or nothing is in flight); take up to `wanted` places."""
        with self._cond:
            while self.in_flight and self.in_flight + wanted > self.limit:
                self._cond.wait()
            count = max(1, min(wanted, self.limit - self.in_flight))
            self.in_flight += count
            return Ticket(count, self.epoch, self.size)

    def give_back(self, ticket, unused):
        """Return places of a ticket that were not used."""
        if unused <= 0:
            return
        with self._cond:
            ticket.count -= unused
            self.in_flight -= unused
            self._cond.notify_all()

    def release(self, ticket, succeeded, throttled):
        """The cmdlets of a ticket are back: shrink on throttling, grow on success while probing."""
        with self._cond:
            self.in_flight -= ticket.count
            if throttled:
                self._shrink(ticket, throttled)
            elif succeeded and ticket.probing:
                self._grow(succeeded)
            self._cond.notify_all()

    def _shrink(self, ticket, throttled):
        if ticket.epoch != self.epoch:
            return  # sent before the slow-start cut: the cut already answered this burst
        if self.slow_start:
            self._end_slow_start(ticket)
            return
        self.recovering = False
        # At equilibrium the growth of a round trip (INCREASE) equals the shrinking for its
        # TARGET_THROTTLED * size throttled cmdlets.
        self.size = max(1.0, self.size - throttled * self.INCREASE / (self.target * self.size))

    def _end_slow_start(self, ticket):
        # the window had grown further while the throttled cmdlets were on their way: cut from what they saw
        self.size = max(1.0, min(self.size, ticket.size) * self.SLOW_START_CUT)
        self.slow_start = False
        self.recovering = True
        self.epoch += 1

    def _grow(self, succeeded):
        if self.slow_start:
            self.size += self.SLOW_START_GROWTH * succeeded
        else:
            gain = self.RECOVERY_GAIN if self.recovering else 1.0
            self.size += gain * self.INCREASE * succeeded / self.size
        self.size = min(float(self.maximum), self.size)


class Pacer:
    """Spaces out dispatches: a window's worth of cmdlets per round trip.

    Until the first batch is answered, one window's worth goes out at once and the rest waits for it; until a
    round trip is measured (a batch answered without 429 or connection error), dispatches are not spaced.
    """

    SMOOTHING = 0.125

    def __init__(self, clock=time.monotonic, sleep=time.sleep):
        self.round_trip = None
        self.longest_wait = 0.0  # the longest Retry-After (or backoff) a cmdlet was given
        self._answered = False
        self._next = 0.0
        self._unpaced = 0
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()

    def observe(self, seconds):
        """The round trip of a batch whose cmdlets were all served (throttled ones come back early)."""
        with self._cond:
            if self.round_trip is None:
                self.round_trip = seconds
            else:
                self.round_trip += self.SMOOTHING * (seconds - self.round_trip)
            self._answered = True
            self._cond.notify_all()

    def answered(self):
        """A batch came back, whatever its outcome: the first window's worth is over."""
        with self._cond:
            self._answered = True
            self._cond.notify_all()

    def note_wait(self, seconds):
        with self._cond:
            self.longest_wait = max(self.longest_wait, seconds)

    def rate(self, window_size):
        """Cmdlets per second for a window, None before the first round trip."""
        return window_size / self.round_trip if self.round_trip else None

    def schedule(self, count, window_size, rate_cap=None):
        """The clock time at which `count` more cmdlets may be sent (None: at once); waits only for the first answer.

        A window's worth per round trip, and never faster than `rate_cap` cmdlets per second (what the service's
        rate headers allow), when given.
        """
        with self._cond:
            while not self._answered:
                if not self._unpaced or self._unpaced + count <= window_size:
                    self._unpaced += count
                    return None
                self._cond.wait()
            if self.round_trip is None:
                return None
            rate = window_size / self.round_trip
            if rate_cap:
                rate = min(rate, rate_cap)
            start = max(self._clock(), self._next)
            self._next = start + count / rate
            return start

    def sleep_until(self, moment):
        if moment is not None:
            delay = moment - self._clock()
            if delay > 0:
                self._sleep(delay)

    def wait(self, count, window_size, rate_cap=None):
        """Block until `count` more cmdlets may be sent."""
        self.sleep_until(self.schedule(count, window_size, rate_cap))


def flow_control(client, concurrency, initial_window=None):
    """The client's window and pacer: every pipeline of a module process starts where the previous one ended."""
    window = getattr(client, "window", None)
    if window is None or window.maximum != max(1, int(concurrency)):
        window = AdaptiveWindow(concurrency, initial_window)
        client.window = window
    pacer = getattr(client, "pacer", None)
    if pacer is None:
        pacer = client.pacer = Pacer()
    return window, pacer


class _Task:
    __slots__ = ("index", "command", "policy", "_retry", "next_link")

    def __init__(self, index, command, policy):
        self.index = index
        self.command = command
        self.policy = policy
        self._retry = None  # made on the first retry: most commands never need one (100,000 saved objects)
        self.next_link = None

    @property
    def retry(self):
        if self._retry is None:
            self._retry = self.policy.start()
        return self._retry


class _WorkQueue:
    """Ready tasks, tasks waiting for their retry time, and how many are unfinished."""

    def __init__(self, tasks):
        self._ready = deque(tasks)
        self._waiting = []
        self._sequence = 0
        self.unfinished = len(self._ready)
        self._cond = threading.Condition()

    def take(self, limit):
        """Up to `limit` ready tasks, waiting for one if needed; None when every task is finished."""
        with self._cond:
            while True:
                self._wake_due()
                if self._ready:
                    count = min(limit, len(self._ready))
                    return [self._ready.popleft() for _unused in range(count)]
                if self.unfinished == 0:
                    return None
                timeout = self._waiting[0][0] - time.monotonic() if self._waiting else None
                self._cond.wait(timeout)

    def retry_later(self, task, delay):
        with self._cond:
            self._sequence += 1
            heapq.heappush(self._waiting, (time.monotonic() + delay, self._sequence, task))
            self._cond.notify()

    def finish(self, count=1):
        with self._cond:
            self.unfinished -= count
            self._cond.notify_all()

    def drain(self):
        """Remove and return every task not yet taken (the run is being stopped)."""
        with self._cond:
            tasks = list(self._ready) + [entry[2] for entry in self._waiting]
            self._ready.clear()
            self._waiting = []
            return tasks

    def _wake_due(self):
        now = time.monotonic()
        while self._waiting and self._waiting[0][0] <= now:
            self._ready.append(heapq.heappop(self._waiting)[2])


def near_the_end(unfinished, rate, longest_wait, round_trip):
    """Whether the work left would be done before a cmdlet throttled now could be retried.

    The rate may be known from the service's rate headers before a round trip is measured: then the wait alone
    counts.
    """
    if not rate or not longest_wait:
        return False
    return unfinished <= rate * (longest_wait + (round_trip or 0.0))


class _Retry:
    __slots__ = ("delay",)

    def __init__(self, delay):
        self.delay = delay


class _Workers:
    """Threads that send the batches handed to them."""

    def __init__(self, count, handler):
        self._jobs = queue_module.Queue()
        self._threads = [threading.Thread(target=self._loop, args=(handler,)) for _unused in range(count)]
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    def submit(self, job):
        self._jobs.put(job)

    def close(self):
        for _unused in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()

    def _loop(self, handler):
        while True:
            job = self._jobs.get()
            if job is None:
                return
            handler(*job)


class Pipeline:
    """Run many commands through one client; results come back in input order."""

    def __init__(self, client, concurrency=10, initial_window=None, stop_on_error=False):
        self.client = client
        self.window, self.pacer = flow_control(client, concurrency, initial_window)
        self._workers = max(1, min(MAX_WORKERS, int(concurrency)))
        self._stop_on_error = stop_on_error
        self._stopped_by = None
        self._stop_reason = None
        self._crash = None
        self._keep = None
        self._lock = threading.Lock()

    def run(self, commands, keep=None):
        """A CommandResult (or what `keep` makes of it) or an ExchangeError per command, in input order.

        `keep`, called in a worker as each command finishes, reduces a result to what the caller needs, so
        that a run over 100,000 mailboxes never holds every row the service returned.
        A fatal error (authentication, authorization, configuration), or any error with
        stop_on_error, stops the run: commands not yet sent get a NotAttemptedError.
        """
        results = [None] * len(commands)
        if not commands:
            return results
        self._keep = keep
        policy = self.client.retry_policy
        queue = _WorkQueue(_Task(i, command, policy) for i, command in enumerate(commands))
        workers = _Workers(min(self._workers, len(commands)), self._send_and_settle)
        try:
            self._dispatch(queue, results, workers)
        finally:
            workers.close()
        if self._crash is not None:
            raise self._crash
        return results

    # ---- dispatching ----------------------------------------------------------------------------

    def _dispatch(self, queue, results, workers):
        """Fill the window with paced batches until every task is finished."""
        while True:
            wanted = batch_size_for(self.window.size)
            ticket = self.window.acquire(wanted)
            tasks = queue.take(ticket.count)
            if tasks is None:
                self.window.give_back(ticket, ticket.count)
                return
            self.window.give_back(ticket, ticket.count - len(tasks))
            if self._stopped_by is not None:
                self.window.give_back(ticket, ticket.count)
                self._skip(queue, results, tasks + queue.drain())
                continue
            send_at = self._schedule(queue, ticket, wanted)
            workers.submit((queue, results, tasks, ticket, send_at))

    def _schedule(self, queue, ticket, wanted):
        """The batch's turn; near the end of the run send a little below the window and stop probing.

        The worker sleeps until then after building the request, so that the moment of sending is precise.
        """
        size = self.window.size
        pacer = self.pacer
        cap = self._rate_cap()
        self.window.target = TARGET_THROTTLED if cap is None else TARGET_THROTTLED_WITH_RATE
        rate = pacer.rate(size)
        calm = near_the_end(queue.unfinished, rate if cap is None else min(rate or cap, cap), pacer.longest_wait,
                            pacer.round_trip)
        # At the rate the service's headers allow, a larger window would only send the same cmdlets sooner into a
        # full tenant: the window stops growing there (and the pacer keeps to that rate).
        capped = cap is not None and rate is not None and rate >= cap
        ticket.probing = ticket.count == wanted and not calm and not capped
        return pacer.schedule(ticket.count, size * CALM if calm else size, cap)

    def _rate_cap(self):
        rate_cap = getattr(self.client, "rate_cap", None)
        return rate_cap() if rate_cap is not None else None

    def stop(self, reason):
        """Stop dispatching (callable from any thread): commands already sent finish, every command not yet sent
        finishes with a NotAttemptedError that gives `reason`."""
        with self._lock:
            if self._stopped_by is None:
                self._stop_reason = reason
                self._stopped_by = reason

    @property
    def stopped(self):
        """Why the run stopped early (an ExchangeError or the reason given to stop()), or None."""
        return self._stopped_by

    def _skip(self, queue, results, tasks):
        if self._stop_reason is not None:
            message = "not attempted: %s" % self._stop_reason
        else:
            message = "not attempted: the run stopped after an earlier failure: %s" % self._stopped_by
        skipped = NotAttemptedError(message)
        self._settle(queue, results, [(task, skipped) for task in tasks])

    def _send_and_settle(self, queue, results, tasks, ticket, send_at=None):
        try:
            outcomes, seconds = self._execute(tasks, send_at)
        except Exception as exc:  # pylint: disable=broad-except
            error = self._internal_error(exc)
            outcomes, seconds = [(task, error) for task in tasks], None
        throttled = sum(1 for _task, outcome in outcomes if isinstance(outcome, _Retry))
        self._observe(seconds, outcomes)
        self.window.release(ticket, len(outcomes) - throttled, throttled)
        self._settle(queue, results, outcomes)

    def _observe(self, seconds, outcomes):
        """Only a batch answered in full measures the round trip: throttled and failed ones come back early."""
        if seconds is None or any(isinstance(outcome, (_Retry, TransientError)) for _task, outcome in outcomes):
            self.pacer.answered()
        else:
            self.pacer.observe(seconds)

    def _settle(self, queue, results, outcomes):
        finished = 0
        for task, outcome in outcomes:
            if isinstance(outcome, _Retry):
                self.pacer.note_wait(outcome.delay)
                queue.retry_later(task, outcome.delay)
                continue
            if task.next_link and isinstance(outcome, CommandResult):
                outcome = self._read_whole(task)
            if isinstance(outcome, FATAL_ERRORS) or (self._stop_on_error and isinstance(outcome, ExchangeError)):
                with self._lock:
                    self._stopped_by = self._stopped_by or outcome
            elif self._keep is not None and isinstance(outcome, CommandResult):
                outcome = self._kept(outcome)
            results[task.index] = outcome
            finished += 1
        if finished:
            queue.finish(finished)

    def _kept(self, result):
        try:
            return self._keep(result)
        except Exception as exc:  # pylint: disable=broad-except
            return self._internal_error(exc)

    def _internal_error(self, exc):
        """A bug (here or in the caller's `keep`), not a service error: the tasks it hit finish with this error,
        so that the run ends, and run() raises the first such exception."""
        with self._lock:
            self._crash = self._crash or exc
        return ExchangeError("internal error: %s" % exc)

    # ---- one $batch -------------------------------------------------------------------------------

    def _execute(self, tasks, send_at=None):
        """Send tasks as one $batch at `send_at`; classify each sub-response. Returns (outcomes, round trip)."""
        v2_endpoint = getattr(self.client, "v2_endpoint", None)
        if v2_endpoint is not None and any(v2_endpoint(task.command) for task in tasks):
            return self._execute_singly(tasks, send_at)
        body = self._batch_body(tasks)
        self.pacer.sleep_until(send_at)
        started = time.monotonic()
        try:
            responses = self._send_batch(tasks, body)
        except ExchangeError as exc:
            return [(task, exc) for task in tasks], None
        seconds = time.monotonic() - started
        return [(task, self._outcome(task, responses.get(str(number)))) for number, task in enumerate(tasks, 1)], seconds

    def _execute_singly(self, tasks, send_at=None):
        """The Admin API v2.0 has no $batch: one request per command, each with the client's retries and paging."""
        self.pacer.sleep_until(send_at)
        started = time.monotonic()
        outcomes = []
        for task in tasks:
            try:
                outcomes.append((task, self.client.execute(task.command)))
            except ExchangeError as exc:
                outcomes.append((task, exc))
        return outcomes, time.monotonic() - started

    def _batch_body(self, tasks):
        client = self.client
        requests_ = []
        for number, task in enumerate(tasks, 1):
            requests_.append({
                "id": str(number),
                "method": "POST",
                "url": client.invoke_url(task.command.select),
                "body": task.command.body(),
                "headers": client.command_headers(task.command.cmdlet, task.command.page_size),
            })
        return json.dumps({"requests": requests_})

    def _send_batch(self, tasks, body):
        client = self.client
        retry_safe = all(task.command.retry_safe for task in tasks)
        response = client.post(client.batch_url(), body, None, retry_safe,
                               describe="$batch of %s" % ", ".join(sorted(set(t.command.cmdlet for t in tasks))),
                               cmdlets=len(tasks))
        if response.status_code != 200:
            raise client.error_for(response.status_code, response.content, tasks[0].command, response.headers)
        try:
            entries = json.loads(response.content).get("responses") or []
        except (ValueError, AttributeError):
            raise TransientError("$batch: the service answered with a body that is not a batch response")
        answers = dict((str(entry.get("id")), entry) for entry in entries if isinstance(entry, dict))
        client.stats.add(cmdlets=sum(1 for number in range(1, len(tasks) + 1) if str(number) in answers))
        return answers

    def _outcome(self, task, entry):
        """A sub-response: a result, a _Retry, or an error. Classified like a single request (client.post): the body
        first, then the status; the counters move the same way."""
        command = task.command
        if entry is None:
            return self._after_failure(task, TransientError("%s: the $batch response had no answer for this command"
                                                            % command.cmdlet, cmdlet=command.cmdlet))
        status = int(entry.get("status") or 0)
        body = entry.get("body")
        if status == 200:
            page = parse_envelope(body if isinstance(body, dict) else _json_or_none(body))
            wanted = command.max_rows
            if wanted is not None and len(page.rows) >= wanted:
                # -ResultSize N answered with N rows, a nextLink and the "more results" warning: done
                return CommandResult(page.rows[:wanted], without_more_results(page.warnings))
            task.next_link = page.next_link
            return CommandResult(page.rows, page.warnings)
        headers = dict((str(k).lower(), v) for k, v in (entry.get("headers") or {}).items())
        content = _raw(body, headers)
        reason = retry_kind(parse_fault(status, content, headers))
        stats = self.client.stats
        if reason == RETRY_THROTTLED:
            stats.add(throttled=1)
            delay = task.retry.after_throttle(parse_retry_after(headers.get("retry-after")))
            if delay is not None:
                stats.add(retries=1)
                return _Retry(delay)
        elif reason == RETRY_FAILED and command.retry_safe:
            delay = task.retry.after_failure()
            if delay is not None:
                stats.add(retries=1)
                return _Retry(delay)
        return self.client.error_for(status, content, command, headers)

    def _after_failure(self, task, error):
        delay = task.retry.after_failure() if task.command.retry_safe else None
        if delay is None:
            return error
        self.client.stats.add(retries=1)
        return _Retry(delay)

    def _read_whole(self, task):
        """A sub-request's result ran over one page: read it again as a single call, which follows every page."""
        try:
            return self.client.execute(task.command)
        except ExchangeError as exc:
            return exc


def _json_or_none(body):
    if isinstance(body, (str, bytes)):
        try:
            return json.loads(body)
        except ValueError:
            return None
    return None


def _raw(body, headers=None):
    """A sub-response body as the bytes or text a response would carry: JSON as JSON; a body that is not JSON
    arrives base64url-encoded (OData JSON batch format), so text and HTML are decoded back."""
    if isinstance(body, (dict, list)):
        return json.dumps(body)
    content_type = str((headers or {}).get("content-type") or "").lower()
    if isinstance(body, str) and body and content_type.startswith("text/"):
        try:
            return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (ValueError, TypeError):
            return body
    return body or b""
