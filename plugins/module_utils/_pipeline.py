# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Concurrent, batched execution of many cmdlets.

Commands travel in $batch requests of up to ten. How many cmdlets are in flight
is an adaptive window (additive increase, multiplicative decrease): it grows
while the service answers and shrinks when it throttles, so a run settles just
under the tenant's concurrency limit instead of hammering it. A throttled
sub-request waits for its Retry-After without holding a place in the window.
"""

import heapq
import json
import math
import threading
import time
from collections import deque

from ansible_collections.m365.exchange.plugins.module_utils._client import (
    BATCH_LIMIT,
    CommandResult,
    parse_retry_after,
)
from ansible_collections.m365.exchange.plugins.module_utils._errors import (
    AuthenticationError,
    AuthorizationError,
    ConfigurationError,
    ExchangeError,
    NotAttemptedError,
    TransientError,
)
from ansible_collections.m365.exchange.plugins.module_utils._parsing import parse_envelope

# Errors that will not go away for the next command either: stop the run.
FATAL_ERRORS = (AuthenticationError, AuthorizationError, ConfigurationError)


class AdaptiveWindow:
    """The number of cmdlets allowed in flight (AIMD)."""

    DECREASE = 0.75

    def __init__(self, maximum, initial=None):
        self.maximum = max(1, int(maximum))
        self.size = float(min(self.maximum, initial or self.maximum))
        self._in_flight = 0
        self._cut_at = 0.0
        self._cond = threading.Condition()

    def acquire(self, count):
        with self._cond:
            while self._in_flight and self._in_flight + count > int(self.size):
                self._cond.wait()
            self._in_flight += count

    def release(self, count, succeeded, throttled, round_trip):
        with self._cond:
            self._in_flight -= count
            now = time.monotonic()
            if throttled:
                # one cut per round trip: the 429s of one burst are one signal, not many
                if now - self._cut_at > round_trip:
                    self.size = max(1.0, self.size * self.DECREASE)
                    self._cut_at = now
            elif succeeded:
                self.size = min(float(self.maximum), self.size + float(succeeded) / self.size)
            self._cond.notify_all()

    def batch_size(self):
        """Two batches in flight: one is on the wire while the other is served."""
        return max(1, min(BATCH_LIMIT, int(math.ceil(self.size / 2.0))))


class _Task:
    __slots__ = ("index", "command", "retry", "next_link")

    def __init__(self, index, command, retry):
        self.index = index
        self.command = command
        self.retry = retry
        self.next_link = None


class _WorkQueue:
    """Ready tasks, tasks waiting for their retry time, and how many are unfinished."""

    def __init__(self, tasks):
        self._ready = deque(tasks)
        self._waiting = []
        self._sequence = 0
        self._unfinished = len(self._ready)
        self._cond = threading.Condition()

    def take(self, limit):
        """Up to `limit` ready tasks; None when every task is finished."""
        with self._cond:
            while True:
                self._wake_due()
                if self._ready:
                    count = min(limit, len(self._ready))
                    return [self._ready.popleft() for _unused in range(count)]
                if self._unfinished == 0:
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
            self._unfinished -= count
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


class _Retry:
    __slots__ = ("delay",)

    def __init__(self, delay):
        self.delay = delay


class Pipeline:
    """Run many commands through one client; results come back in input order."""

    def __init__(self, client, concurrency=10, initial_window=None, stop_on_error=False):
        self.client = client
        self.window = AdaptiveWindow(concurrency, initial_window or min(concurrency, 8))
        self._workers = max(1, min(64, int(concurrency)))
        self._stop_on_error = stop_on_error
        self._round_trip = 0.5
        self._stopped_by = None
        self._lock = threading.Lock()

    def run(self, commands):
        """A CommandResult or an ExchangeError per command, in input order.

        A fatal error (authentication, authorization, configuration), or any error with
        stop_on_error, stops the run: commands not yet sent get a NotAttemptedError.
        """
        results = [None] * len(commands)
        if not commands:
            return results
        policy = self.client.retry_policy
        queue = _WorkQueue(_Task(i, command, policy.start()) for i, command in enumerate(commands))
        count = min(self._workers, len(commands))
        threads = [threading.Thread(target=self._work, args=(queue, results)) for _unused in range(count)]
        for thread in threads:
            thread.daemon = True
            thread.start()
        for thread in threads:
            thread.join()
        return results

    # ---- workers ------------------------------------------------------------------------------

    def _work(self, queue, results):
        while True:
            tasks = queue.take(self.window.batch_size())
            if tasks is None:
                return
            if self._stopped_by is not None:
                skipped = NotAttemptedError("not attempted: the run stopped after an earlier failure: %s" % self._stopped_by)
                self._settle(queue, results, [(task, skipped) for task in tasks + queue.drain()])
                continue
            self.window.acquire(len(tasks))
            started = time.monotonic()
            try:
                outcomes = self._execute(tasks)
            finally:
                elapsed = time.monotonic() - started
                self._round_trip = 0.8 * self._round_trip + 0.2 * elapsed
                throttled = sum(1 for _task, outcome in outcomes if isinstance(outcome, _Retry))
                self.window.release(len(tasks), len(tasks) - throttled, throttled, self._round_trip)
            self._settle(queue, results, outcomes)

    def _settle(self, queue, results, outcomes):
        finished = 0
        for task, outcome in outcomes:
            if isinstance(outcome, _Retry):
                queue.retry_later(task, outcome.delay)
                continue
            if task.next_link and isinstance(outcome, CommandResult):
                outcome = self._read_whole(task)
            if isinstance(outcome, FATAL_ERRORS) or (self._stop_on_error and isinstance(outcome, ExchangeError)):
                with self._lock:
                    self._stopped_by = self._stopped_by or outcome
            results[task.index] = outcome
            finished += 1
        if finished:
            queue.finish(finished)

    def _execute(self, tasks):
        """Send tasks as one $batch; classify each sub-response."""
        try:
            responses = self._send_batch(tasks)
        except ExchangeError as exc:
            return [(task, exc) for task in tasks]
        return [(task, self._outcome(task, responses.get(str(number)))) for number, task in enumerate(tasks, 1)]

    def _send_batch(self, tasks):
        client = self.client
        requests_ = []
        for number, task in enumerate(tasks, 1):
            requests_.append({
                "id": str(number),
                "method": "POST",
                "url": client.invoke_url(task.command.select),
                "body": task.command.body(),
                "headers": client.command_headers(task.command.cmdlet),
            })
        retry_safe = all(task.command.retry_safe for task in tasks)
        response = client.post(client.batch_url(), json.dumps({"requests": requests_}), None, retry_safe,
                               describe="$batch of %s" % ", ".join(sorted(set(t.command.cmdlet for t in tasks))))
        if response.status_code != 200:
            raise client.error_for(response.status_code, response.content, tasks[0].command, response.headers)
        try:
            entries = json.loads(response.content).get("responses") or []
        except (ValueError, AttributeError):
            raise TransientError("$batch: the service answered with a body that is not a batch response")
        client.stats.add(cmdlets=len(tasks))
        return dict((str(entry.get("id")), entry) for entry in entries if isinstance(entry, dict))

    def _outcome(self, task, entry):
        command = task.command
        if entry is None:
            return self._after_failure(task, TransientError("%s: the $batch response had no answer for this command"
                                                            % command.cmdlet, cmdlet=command.cmdlet))
        status = int(entry.get("status") or 0)
        body = entry.get("body")
        if status == 200:
            page = parse_envelope(body if isinstance(body, dict) else _json_or_none(body))
            task.next_link = page.next_link
            return CommandResult(page.rows, page.warnings)
        headers = dict((str(k).lower(), v) for k, v in (entry.get("headers") or {}).items())
        if status == 429:
            self.client.stats.add(throttled=1)
            delay = task.retry.after_throttle(parse_retry_after(headers.get("retry-after")))
            if delay is not None:
                return _Retry(delay)
        elif status >= 500 and command.retry_safe:
            delay = task.retry.after_failure()
            if delay is not None:
                self.client.stats.add(retries=1)
                return _Retry(delay)
        return self.client.error_for(status, _raw(body), command, headers)

    def _after_failure(self, task, error):
        delay = task.retry.after_failure() if task.command.retry_safe else None
        return _Retry(delay) if delay is not None else error

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


def _raw(body):
    if isinstance(body, (dict, list)):
        return json.dumps(body)
    return body or b""
