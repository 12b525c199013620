# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Client of the Exchange Online admin API (adminapi/beta InvokeCommand).

This is the REST endpoint the ExchangeOnlineManagement v3 module talks to. It
runs one cmdlet per request (or up to ten per $batch) and answers with an
OData envelope; see docs/architecture.md and the wire notes it points to.
"""

import datetime
import email.utils
import json
import random
import threading
import time
import uuid
from collections import deque
from urllib.parse import quote, urlsplit

try:
    import requests
    from requests.adapters import HTTPAdapter
except ImportError:
    requests = None

from ansible_collections.m365.exchange.plugins.module_utils._admin_api import V2, v2_endpoint
from ansible_collections.m365.exchange.plugins.module_utils._auth import TokenProvider
from ansible_collections.m365.exchange.plugins.module_utils._errors import (
    RETRY_FAILED,
    RETRY_THROTTLED,
    ConfigurationError,
    ExchangeError,
    PagingExpiredError,
    TransientError,
    error_from_fault,
    parse_fault,
    retry_kind,
)
from ansible_collections.m365.exchange.plugins.module_utils._parsing import parse_envelope

COLLECTION_VERSION = "0.1.0"
APP_ANCHOR = "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@%s"
PAGE_SIZE = 1000
BATCH_LIMIT = 10
MORE_RESULTS_WARNING = "There are more results available than are currently displayed"

# Writes that may be sent twice: adding an ACE that exists, or removing one that
# does not, succeeds with a warning, so a retry after a lost response is harmless.
RETRY_SAFE_WRITES = frozenset(["Add-MailboxPermission", "Remove-MailboxPermission"])


def is_retry_safe(cmdlet):
    return cmdlet.startswith("Get-") or cmdlet in RETRY_SAFE_WRITES


def result_size_rows(value):
    """A -ResultSize value as a row count: a positive number (int or digits), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit() and int(value) > 0:
        return int(value)
    return None


def page_size_for(max_rows):
    return min(max_rows, PAGE_SIZE) if max_rows else PAGE_SIZE


class Command:
    """One cmdlet invocation."""

    __slots__ = ("cmdlet", "parameters", "select", "retry_safe")

    def __init__(self, cmdlet, parameters=None, select=None, retry_safe=None):
        self.cmdlet = cmdlet
        self.parameters = dict(parameters or {})
        self.select = tuple(select) if select else None
        self.retry_safe = is_retry_safe(cmdlet) if retry_safe is None else retry_safe

    @property
    def identity(self):
        return self.parameters.get("Identity")

    @property
    def max_rows(self):
        """The most rows the command asks for: a number given as -ResultSize, else None (Unlimited, or the
        cmdlet's default)."""
        return result_size_rows(self.parameters.get("ResultSize"))

    @property
    def page_size(self):
        """Rows per page: min(ResultSize, PAGE_SIZE), as the v3 module asks."""
        return page_size_for(self.max_rows)

    def body(self):
        return {"CmdletInput": {"CmdletName": self.cmdlet, "Parameters": self.parameters}}

    def __repr__(self):
        return "Command(%r, %r)" % (self.cmdlet, self.parameters)


class CommandResult:
    """Rows (PascalCase keys, no @odata annotations) and the warnings of one cmdlet."""

    __slots__ = ("value", "warnings")

    def __init__(self, value=None, warnings=None):
        self.value = value if value is not None else []
        self.warnings = warnings if warnings is not None else []

    def __repr__(self):
        return "CommandResult(%d rows, %d warnings)" % (len(self.value), len(self.warnings))


class RetryPolicy:
    """How long and how often to retry: bounded by attempts and by total time."""

    def __init__(self, max_attempts=6, max_throttled=60, max_elapsed=900.0, base_delay=0.5, max_delay=30.0):
        self.max_attempts = max_attempts
        self.max_throttled = max_throttled
        self.max_elapsed = max_elapsed
        self.base_delay = base_delay
        self.max_delay = max_delay

    def start(self):
        return RetryState(self)


class RetryState:
    """The retries of one unit of work (a request, or a command inside a batch)."""

    def __init__(self, policy):
        self.policy = policy
        self.failures = 0
        self.throttled = 0
        self.started = time.monotonic()
        self.token_renewed = False

    def after_throttle(self, retry_after):
        """Seconds to wait after a 429, or None once the budget is spent."""
        self.throttled += 1
        if self.throttled > self.policy.max_throttled:
            return None
        delay = retry_after if retry_after is not None else self._backoff(self.throttled)
        return self._within_budget(delay * random.uniform(1.0, 1.1))

    def after_failure(self):
        """Seconds to wait after a 5xx or a connection error, or None once the budget is spent."""
        self.failures += 1
        if self.failures >= self.policy.max_attempts:
            return None
        return self._within_budget(self._backoff(self.failures))

    def _backoff(self, attempt):
        ceiling = min(self.policy.max_delay, self.policy.base_delay * 2 ** attempt)
        return random.uniform(self.policy.base_delay, max(self.policy.base_delay, ceiling))

    def _within_budget(self, delay):
        if time.monotonic() - self.started + delay > self.policy.max_elapsed:
            return None
        return delay


def parse_retry_after(value):
    """Retry-After as seconds: a number (fractions allowed) or an HTTP date."""
    if value is None:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class ClientStats:
    """Counters of what the client sent, for results and benchmarks; single requests and $batch sub-requests
    count the same way.

    http_requests: HTTP requests sent (every attempt, InvokeCommand and $batch); batch_requests: the $batch
    ones among them; cmdlets: cmdlet answers received, one per InvokeCommand response and one per $batch
    sub-response (page follow-ups, throttled and repeated attempts included; a 401 is not one); throttled:
    answers that refused for throttling (HTTP 429 or the concurrency refusal, whatever its status), cmdlets
    and whole $batch requests; retries: requests and sub-requests sent again after throttling, a server error
    or a dropped connection; token_renewals: tokens fetched again after a 401.
    """

    FIELDS = ("http_requests", "batch_requests", "cmdlets", "throttled", "retries", "token_renewals")

    def __init__(self):
        self._lock = threading.Lock()
        for name in self.FIELDS:
            setattr(self, name, 0)

    def add(self, **counts):
        with self._lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)

    def as_dict(self):
        return dict((name, getattr(self, name)) for name in self.FIELDS)


class ServiceLoad:
    """What the service says about the tenant's load, and the rate it leaves for this client.

    Live responses carry Rate-Limit-Limit, Rate-Limit-Remaining, Rate-Limit-Reset (about 16 s after Date) and
    X-Concurrencycount (reference, "Round 2"). Read as a budget of cmdlets over a rolling window W (Reset is when
    the whole budget is back, so W is about Reset - now while cmdlets run): the tenant serves at most Limit / W
    cmdlets per second. X-Concurrencycount says whether someone else runs cmdlets right now (more cmdlets at the
    tenant than this client has in flight); only then is what others used of the window (the budget used minus
    what this client sent in it) not ours. rate_cap() is that rate less MARGIN, or None without the headers: then
    nothing changes.
    """

    MARGIN = 0.03  # below the tenant's rate: evenly sent cmdlets then find a free slot
    MIN_WINDOW = 1.0  # a Reset closer than this says nothing about the window (an idle tenant)
    CLOCK_SKEW = 2.0  # beyond this gap between our clock and the Date header, W is measured from Date

    def __init__(self, clock=time.time):
        self._clock = clock
        self._lock = threading.Lock()
        self._sent = deque()  # (time, cmdlets) sent in the last window
        self.in_flight = 0  # cmdlets of this client sent and not yet answered
        self.limit = None
        self.remaining = None
        self.window = None
        self.concurrency = None  # X-Concurrencycount: cmdlets running at the tenant as the last answer left
        self.foreign = 0  # of those, more than this client had in flight: someone else's
        self.observed_at = None

    def sent(self, cmdlets):
        now = self._clock()
        with self._lock:
            self._sent.append((now, cmdlets))
            self.in_flight += cmdlets
            self._forget(now)

    def answered(self, cmdlets, headers):
        """A response to `cmdlets` sent cmdlets arrived (or the request failed: headers None)."""
        with self._lock:
            self.in_flight = max(0, self.in_flight - cmdlets)
        return self.observe(headers, cmdlets) if headers is not None else False

    def observe(self, headers, cmdlets=0):
        """Read the headers of one response to `cmdlets` cmdlets; False when it carries none."""
        limit = _header_int(headers, "Rate-Limit-Limit")
        concurrency = _header_int(headers, "X-Concurrencycount")
        if limit is None and concurrency is None:
            return False
        now = self._clock()
        remaining = _header_int(headers, "Rate-Limit-Remaining")
        reset = _parse_time(headers.get("Rate-Limit-Reset"))
        date = _parse_time(headers.get("Date"))
        with self._lock:
            if concurrency is not None:
                # the answered cmdlets released their slots before the count was taken
                self.concurrency = concurrency
                self.foreign = max(0, concurrency - self.in_flight)
            if limit and remaining is not None and reset is not None:
                reference = now if date is None or abs(now - date) <= self.CLOCK_SKEW else date
                window = reset - reference
                self.limit, self.remaining = limit, min(remaining, limit)
                if window >= self.MIN_WINDOW:
                    self.window = window
                self.observed_at = now
            self._forget(now)
        return True

    def rate_cap(self):
        """Cmdlets per second this client may send (the tenant's rate, less what others use and MARGIN), or None."""
        with self._lock:
            if not self.limit or not self.window or self.observed_at is None:
                return None
            now = self._clock()
            if now - self.observed_at > 2 * self.window:
                return None  # stale: the headers stopped coming
            others = 0
            if self.foreign or self.concurrency is None:
                ours = sum(count for moment, count in self._sent if moment > now - self.window)
                others = max(0, self.limit - self.remaining - ours)
            return max(1.0, (self.limit - others) / self.window * (1.0 - self.MARGIN))

    def _forget(self, now):
        horizon = now - max(self.window or 0.0, 60.0)
        while self._sent and self._sent[0][0] < horizon:
            self._sent.popleft()


def _header_int(headers, name):
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


class MsalHttpClient:
    """The http_client msal uses: our session, our TLS settings, our errors, and retries.

    msal itself does not retry: a 429, a 5xx or a dropped connection at the token endpoint would fail the
    whole module, so they are retried here like those of the admin API (bounded by count and time).
    """

    RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))

    def __init__(self, session, verify, timeout, retry_policy=None, sleep=time.sleep):
        self._session = session
        self._verify = verify
        self._timeout = timeout
        self._retry_policy = retry_policy or RetryPolicy()
        self._sleep = sleep

    def post(self, url, **kwargs):
        return self._request("POST", url, **kwargs)

    def get(self, url, **kwargs):
        return self._request("GET", url, **kwargs)

    def close(self):
        """The session belongs to the client; it closes it."""

    def _request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self._timeout)
        # per request, because REQUESTS_CA_BUNDLE would override Session.verify
        kwargs["verify"] = self._verify
        retry = self._retry_policy.start()
        while True:
            response, delay = self._attempt(method, url, retry, kwargs)
            if delay is None:
                return response
            self._sleep(delay)

    def _attempt(self, method, url, retry, kwargs):
        """(response, None) to hand to msal, or (None, seconds) to wait before the next attempt."""
        try:
            response = self._session.request(method, url, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise tls_error(url, exc)
        except requests.exceptions.RequestException as exc:
            delay = retry.after_failure()
            if delay is None:
                raise TransientError("Cannot reach the Entra ID authority %s (%s). Check authority_url, environment "
                                     "and the network (proxy settings)." % (_origin(url), _reason(exc)))
            return None, delay
        if response.status_code not in self.RETRY_STATUSES:
            return response, None
        if response.status_code == 429:
            delay = retry.after_throttle(parse_retry_after(response.headers.get("Retry-After")))
        else:
            delay = retry.after_failure()
        return (response, None) if delay is None else (None, delay)


def tls_error(url, exc):
    return ConfigurationError(
        "TLS verification of %s failed (%s). Set ca_path to the CA bundle that issued the server's certificate; "
        "validate_certs=false turns verification off and is not recommended." % (_origin(url), _reason(exc)))


def new_session(pool_size):
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(4, pool_size), max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class ExchangeOnlineClient:
    """Runs cmdlets through InvokeCommand; thread-safe, one token per process."""

    def __init__(self, settings, session=None, token_provider=None, retry_policy=None, pool_size=32,
                 timeout=(15, 300), sleep=time.sleep):
        if requests is None:
            raise ConfigurationError("the Python package 'requests' is required")
        self.settings = settings
        self.stats = ClientStats()
        self._sleep = sleep
        self.retry_policy = retry_policy or RetryPolicy()
        self._session = session or new_session(pool_size)
        self._verify = settings.verify
        self._timeout = timeout
        self._tokens = token_provider or TokenProvider(
            settings, MsalHttpClient(self._session, self._verify, timeout, self.retry_policy))
        self._base_url = "%s/adminapi/beta/%s" % (settings.api_url, quote(settings.tenant, safe=""))
        self._v2_url = "%s/adminapi/v2.0/%s" % (settings.api_url, quote(settings.tenant, safe=""))
        self._use_v2 = getattr(settings, "admin_api", None) == V2
        self._api_origin = _origin(settings.api_url)
        self._anchor = APP_ANCHOR % settings.tenant
        self._connection_id = str(uuid.uuid4())
        self._pause_lock = threading.Lock()
        self._paused_until = 0.0
        self.load = ServiceLoad()
        # The adaptive window and pacer the pipelines of this client share (_pipeline.flow_control), so a
        # second run (the writes after the reads) starts at the concurrency the first one found.
        self.window = None
        self.pacer = None
        self._environments = {}

    # ---- public API -------------------------------------------------------------------------

    def invoke(self, cmdlet, parameters=None, select=None):
        """Run one cmdlet and return every row of every page."""
        return self.execute(Command(cmdlet, parameters, select))

    def execute(self, command, consume=None, max_rows=None):
        """Every row of the command, across pages, or at most `max_rows` (default: a number given as
        -ResultSize): consume(pages) returns what to return (by default one CommandResult of all rows). After a
        refused page link consume is called again with a fresh read, so a consume that keeps state must tolerate
        seeing the first rows twice."""
        consume = consume or _collect
        max_rows = command.max_rows if max_rows is None else max_rows
        try:
            return consume(self.iter_pages(command, page_size=page_size_for(max_rows), max_rows=max_rows))
        except PagingExpiredError:
            # Some tenants refuse every nextLink at once (a live report): ask again for one unpaged response.
            return consume(self.iter_pages(command, page_size=None, max_rows=max_rows))

    def iter_pages(self, command, next_link=None, page_size=PAGE_SIZE, max_rows=None):
        """Yield one CommandResult per page, following @odata.nextLink (or starting at next_link).

        With `max_rows`, stop once that many rows are in: the service answers -ResultSize N with N rows, a
        nextLink and the "more results" warning, and a link that is not needed is never followed (nor its
        warning kept).
        """
        url = self.follow_url(next_link, command) if next_link else self.command_url(command)
        left = max_rows
        while url:
            page = self.call(url, command, page_size)
            if left is not None and len(page.rows) >= left:
                yield CommandResult(page.rows[:left], _page_warnings(page, complete=True))
                return
            if left is not None:
                left -= len(page.rows)
            yield CommandResult(page.rows, _page_warnings(page))
            url = self.follow_url(page.next_link, command) if page.next_link else None

    def close(self):
        self._session.close()

    # ---- URLs and headers -------------------------------------------------------------------

    def invoke_url(self, select=None):
        url = self._base_url + "/InvokeCommand"
        if select:
            url += "?$select=" + ",".join(select)
        return url

    def batch_url(self):
        return self._base_url + "/$batch"

    def v2_endpoint(self, command):
        """The Admin API v2.0 endpoint this command goes to (admin_api=v2 and documented there), or None."""
        return v2_endpoint(command.cmdlet, command.parameters) if self._use_v2 else None

    def command_url(self, command):
        """Where a single request of the command goes: InvokeCommand, or an endpoint of the Admin API v2.0."""
        endpoint = self.v2_endpoint(command)
        if endpoint is None:
            return self.invoke_url(command.select)
        url = "%s/%s" % (self._v2_url, endpoint)
        return url + "?$select=" + ",".join(command.select) if command.select else url

    def follow_url(self, next_link, command):
        """The URL of the next page; the bearer token is never sent to another host."""
        if _origin(next_link) != self._api_origin:
            raise ExchangeError("%s: the service returned a next-page link to another host (%s); refusing to send the "
                                "token there" % (command.cmdlet, _origin(next_link)), cmdlet=command.cmdlet)
        if command.select and "select=" not in next_link:
            next_link += ("&" if "?" in next_link else "?") + "$select=" + ",".join(command.select)
        return next_link

    def command_headers(self, cmdlet, page_size=PAGE_SIZE):
        """Headers that belong to one cmdlet; also used inside $batch sub-requests."""
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-CmdletName": cmdlet,
            "client-request-id": str(uuid.uuid4()),
            "X-AnchorMailbox": self._anchor,
            "X-ResponseFormat": "json",
        }
        if page_size:
            headers["Prefer"] = "odata.maxpagesize=%d" % page_size
        return headers

    def _request_headers(self, token, cmdlet=None, page_size=PAGE_SIZE):
        headers = self.command_headers(cmdlet, page_size) if cmdlet else {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "client-request-id": str(uuid.uuid4()),
            "Prefer": "odata.continue-on-error",
            "X-AnchorMailbox": self._anchor,
        }
        headers.update({
            "Authorization": "Bearer " + token,
            "connection-id": self._connection_id,
            "X-ClientApplication": "ExoManagementModule",
            "User-Agent": "m365.exchange/%s (Ansible collection)" % COLLECTION_VERSION,
        })
        return headers

    # ---- sending ----------------------------------------------------------------------------

    def call(self, url, command, page_size=PAGE_SIZE):
        """POST one InvokeCommand request with retries; return the parsed Page or raise."""
        body = json.dumps(command.body())
        response = self.post(url, body, command.cmdlet, command.retry_safe, describe=command, page_size=page_size)
        if response.status_code == 200:
            return parse_envelope(_json_body(response))
        raise self.error_for(response.status_code, response.content, command, response.headers)

    def rate_cap(self):
        """Cmdlets per second the service's rate headers leave for this client, or None (see ServiceLoad)."""
        return self.load.rate_cap()

    def post(self, url, body, cmdlet, retry_safe, describe, page_size=PAGE_SIZE, cmdlets=1):
        """POST with the retry policy; return the first response that is not retried.

        What is retried is read from the body before the status (retry_kind): a not-found is final also as
        HTTP 500, the plain-text concurrency refusal is throttling whatever its status.
        """
        retry = self.retry_policy.start()
        while True:
            self._wait_for_rate_limit()
            token = self._tokens.token()
            headers = self._request_headers(token, cmdlet, page_size)
            self.load.sent(cmdlets)
            response = self._send(url, body, headers, retry_safe, retry, describe, cmdlets)
            if response is None:
                continue
            self._note_rate_limit(response.headers, cmdlets)
            status = response.status_code
            if cmdlet and status != 401:
                self.stats.add(cmdlets=1)
            if status == 200:
                return response
            if status == 401 and not retry.token_renewed:
                retry.token_renewed = True
                self._tokens.invalidate(token)
                self.stats.add(token_renewals=1)
                continue
            reason = retry_kind(parse_fault(status, response.content, response.headers))
            if reason == RETRY_THROTTLED:
                delay = retry.after_throttle(parse_retry_after(response.headers.get("Retry-After")))
                self.stats.add(throttled=1)
            elif reason == RETRY_FAILED and retry_safe:
                delay = retry.after_failure()
            else:
                return response
            if delay is None:
                return response
            self.stats.add(retries=1)
            self._sleep(delay)

    def _send(self, url, body, headers, retry_safe, retry, describe, cmdlets=1):
        """One HTTP attempt; None when a connection failure should be retried."""
        self.stats.add(http_requests=1, batch_requests=0 if "X-CmdletName" in headers else 1)
        try:
            prepared = self._session.prepare_request(requests.Request("POST", url, data=body, headers=headers))
            return self._session.send(prepared, timeout=self._timeout, **self._environment(url))
        except requests.exceptions.SSLError as exc:
            self.load.answered(cmdlets, None)
            raise tls_error(url, exc)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            self.load.answered(cmdlets, None)
            reached = not isinstance(exc, requests.exceptions.ConnectTimeout) and not _refused(exc)
            delay = retry.after_failure() if (retry_safe or not reached) else None
            if delay is None:
                raise self._connection_error(url, exc, describe, reached)
            self.stats.add(retries=1)
            self._sleep(delay)
            return None

    def _environment(self, url):
        """Proxies and CA bundle from the environment, as Session.post would merge them, looked up once per host:
        requests does it on every request, which costs more CPU than the rest of the request."""
        origin = _origin(url)
        settings = self._environments.get(origin)
        if settings is None:
            settings = self._session.merge_environment_settings(url, {}, None, self._verify, None)
            self._environments[origin] = settings
        return settings

    def error_for(self, status, content, command, headers=None):
        request_id = (headers or {}).get("request-id")
        return error_from_fault(parse_fault(status, content, headers), command.cmdlet, command.identity, request_id)

    def _connection_error(self, url, exc, describe, reached):
        what = describe.cmdlet if isinstance(describe, Command) else describe
        if reached:
            message = ("%s: the connection to %s failed after the request was sent (%s); the service may or may not "
                       "have run it. Rerun the task: it reads the current state first." % (what, _origin(url), _reason(exc)))
        else:
            message = "%s: cannot reach %s (%s). Check api_url, environment and the network (proxy settings)." % (
                what, _origin(url), _reason(exc))
        return TransientError(message, cmdlet=getattr(describe, "cmdlet", None))

    # ---- Rate-Limit headers -------------------------------------------------------------------

    def _note_rate_limit(self, headers, cmdlets=1):
        if not self.load.answered(cmdlets, headers) or headers.get("Rate-Limit-Remaining") != "0":
            return
        reset = _parse_time(headers.get("Rate-Limit-Reset"))
        if reset is not None:
            with self._pause_lock:
                self._paused_until = max(self._paused_until, min(reset, time.time() + 60.0))

    def _wait_for_rate_limit(self):
        delay = self._paused_until - time.time()
        if delay > 0:
            self._sleep(delay)


def _collect(pages):
    result = CommandResult()
    for page in pages:
        result.value.extend(page.value)
        result.warnings.extend(page.warnings)
    return result


def _page_warnings(page, complete=False):
    """The "more results" warning is noise on a page whose link is followed, or once every row asked for is in."""
    if page.next_link or complete:
        return without_more_results(page.warnings)
    return page.warnings


def without_more_results(warnings):
    return [w for w in warnings if not w.startswith(MORE_RESULTS_WARNING)]


def _json_body(response):
    try:
        return json.loads(response.content or b"{}")
    except ValueError:
        raise ExchangeError("Exchange Online answered HTTP 200 with a body that is not JSON (%d bytes)" % len(response.content))


def _origin(url):
    parts = urlsplit(url)
    return "%s://%s" % (parts.scheme, parts.netloc)


def _refused(exc):
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text or "Name or service not known" in text


def _reason(exc):
    """The innermost cause of a requests/urllib3 error, without the wrappers' names, quotes and parentheses."""
    text = str(_innermost(exc))
    for marker in ("Caused by ", "): ", "] "):
        if marker in text:
            text = text.rsplit(marker, 1)[1]
    text = text.strip().lstrip("('\" ")
    while text and text[-1] in "'\" )" and (text[-1] != ")" or text.count(")") > text.count("(")):
        text = text[:-1]
    return text.rstrip(". ")[:200]


def _innermost(exc):
    """requests wraps urllib3's error, which wraps the socket's or ssl's (as .reason or as its last argument)."""
    for _depth in range(6):
        inner = getattr(exc, "reason", None)
        if not isinstance(inner, BaseException):
            inner = exc.args[-1] if exc.args and isinstance(exc.args[-1], BaseException) else None
        if inner is None:
            return exc
        exc = inner
    return exc


def _parse_time(value):
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
