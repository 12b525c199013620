"""Exchange admin API: InvokeCommand and $batch, auth, envelopes, paging cursors, faults per cmdlet."""

import base64
import json
import math
import secrets
import threading
import time
import uuid
import zlib
from urllib.parse import parse_qs, unquote, urlsplit

from . import errors
from .cmdlets import CMDLETS, Invocation
from .entra import APP_ROLE, TokenRejected
from .errors import ExchangeError
from .faults import shown_limit
from .params import bind
from .tenant import CLOUDS, EXO_RESOURCE_APP_ID

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
MAX_PAGE_SIZE = 1000
MAX_BATCH = 10
WARNINGS_TYPE = "#Collection(String)"
PAGE_WARNING = ("There are more results available than are currently displayed. To view them, increase the value "
                "for the ResultSize parameter.")
WWW_AUTHENTICATE = ('Bearer client_id="%s", trusted_issuers="00000001-0000-0000-c000-000000000000@*", '
                    'token_types="app_asserted_user_v1 service_asserted_app_v1", '
                    'authorization_uri="%s/common/oauth2/authorize", error="invalid_token"')


class Reply:
    """An HTTP answer; ``drop`` closes the connection without one (after ``body`` effects, if any)."""

    __slots__ = ("status", "headers", "body", "drop")

    def __init__(self, status=200, headers=None, body=b"", drop=False):
        self.status = status
        self.headers = headers or {}
        self.body = body
        self.drop = drop


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Cursor:
    """A snapshot of one result for nextLink paging."""

    __slots__ = ("cursor_id", "tenant_id", "cmdlet", "result", "select", "page_size", "expires")

    def __init__(self, tenant_id, cmdlet, result, select, page_size, expires):
        self.cursor_id = secrets.token_urlsafe(12)
        self.tenant_id = tenant_id
        self.cmdlet = cmdlet
        self.result = result
        self.select = select
        self.page_size = page_size
        self.expires = expires


class Outcome:
    """What one cmdlet execution produced: a status and a JSON body (or the NUL 403)."""

    __slots__ = ("status", "body", "headers", "nul", "drop_after")

    def __init__(self, status, body=None, headers=None, nul=False, drop_after=False):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.nul = nul
        self.drop_after = drop_after

    @classmethod
    def from_error(cls, exc):
        return cls(exc.status, exc.body, dict(exc.headers))


class Call:
    """One cmdlet call on its way through the pipeline (single InvokeCommand or a $batch sub-request)."""

    __slots__ = ("tenant", "app", "segment", "cmdlet_input", "select", "skiptoken", "page_size", "endpoint",
                 "spec", "params", "outcome", "slot", "reset_after_write", "drop_before")

    def __init__(self, tenant, app, segment, cmdlet_input, select, skiptoken, page_size, endpoint):
        self.tenant = tenant
        self.app = app
        self.segment = segment
        self.cmdlet_input = cmdlet_input
        self.select = select
        self.skiptoken = skiptoken
        self.page_size = page_size
        self.endpoint = endpoint
        self.spec = None
        self.params = None
        self.outcome = None
        self.slot = False
        self.reset_after_write = False
        self.drop_before = False


def parse_select(query):
    values = query.get("$select") or query.get("%24select")
    if not values:
        return None
    return [s.strip() for s in values[0].split(",") if s.strip()]


def parse_page_size(prefer):
    for part in (prefer or "").split(","):
        part = part.strip()
        if part.lower().startswith("odata.maxpagesize="):
            try:
                return max(1, min(MAX_PAGE_SIZE, int(part.split("=", 1)[1])))
            except ValueError:
                return MAX_PAGE_SIZE
    return None


def parse_cmdlet_input(body):
    """``{"CmdletInput": {"CmdletName": ..., "Parameters": {...}}}`` -> (name, parameters); raises 400s."""
    if isinstance(body, (bytes, bytearray)):
        try:
            body = json.loads(body.decode("utf-8-sig") or "null")
        except (UnicodeDecodeError, ValueError):
            raise errors.bad_request("The request body is not valid JSON.") from None
    if not isinstance(body, dict) or not isinstance(body.get("CmdletInput"), dict):
        raise errors.bad_request("The request body must contain a CmdletInput object.")
    cmdlet_input = body["CmdletInput"]
    name = cmdlet_input.get("CmdletName")
    if not isinstance(name, str) or not name.strip():
        raise errors.bad_request("CmdletInput.CmdletName is required.")
    parameters = cmdlet_input.get("Parameters")
    if not isinstance(parameters, dict):
        raise errors.bad_request("CmdletInput.Parameters must be an object; send {} when the cmdlet takes none.")
    return name.strip(), parameters


class ExchangeApi:
    """Serves /adminapi/beta/{tenant}/InvokeCommand and /$batch for every tenant of the emulator."""

    def __init__(self, app):
        self.app = app
        self.cursors = {}
        self._cursor_lock = threading.Lock()
        self._cursor_created = 0

    # -- entry points ---------------------------------------------------------------------
    def invoke(self, req, segment):
        tenant = self.app.find_tenant(segment)
        self.app.counters.stamp_api_request(tenant.tenant_id if tenant else None)
        try:
            app = self._authenticate(req, tenant)
            name, parameters = parse_cmdlet_input(req.body)
        except ExchangeError as exc:
            return self._reply(tenant, req, Outcome.from_error(exc))
        req.log["cmdlet"] = name
        query = parse_qs(urlsplit(req.path).query, keep_blank_values=True)
        call = Call(tenant, app, segment, (name, parameters), parse_select(query), _skiptoken(query),
                    parse_page_size(req.headers.get("Prefer")), "invoke")
        req.finish_round_trip()
        self._prepare(call)
        if call.drop_before:
            return Reply(drop=True)
        if call.outcome is None:
            started = time.monotonic()
            try:
                self._complete(call)
            finally:
                self._end_service(started, [call])
        outcome = call.outcome
        reply = self._reply(tenant, req, outcome)
        reply.drop = outcome.drop_after
        return reply

    def batch(self, req, segment):
        tenant = self.app.find_tenant(segment)
        self.app.counters.add("batch_requests", tenant.tenant_id if tenant else None)
        self.app.counters.stamp_api_request(tenant.tenant_id if tenant else None)
        try:
            app = self._authenticate(req, tenant)
            requests = self._parse_batch(req.body)
        except ExchangeError as exc:
            return self._reply(tenant, req, Outcome.from_error(exc))
        calls = [self._sub_call(tenant, app, segment, sub, req) for sub in requests]
        req.log["cmdlet"] = [c.cmdlet_input[0] if c.cmdlet_input else None for c in calls]
        req.finish_round_trip()
        for call in calls:
            if call.outcome is None:
                self._prepare(call)
        if any(c.drop_before for c in calls):
            self._release_all(calls)
            return Reply(drop=True)
        continue_on_error = "odata.continue-on-error" in (req.headers.get("Prefer") or "").lower()
        started = time.monotonic()
        try:
            self._run_batch(calls, continue_on_error)
        finally:
            self._end_service(started, calls)
        responses = [self._sub_response(sub, call) for sub, call in zip(requests, calls)]
        reply = self._reply(tenant, req, Outcome(200, {"responses": responses}))
        reply.drop = any(c.outcome.drop_after for c in calls)
        req.log["sub_status"] = [r["status"] for r in responses]
        return reply

    # -- auth and budgets ---------------------------------------------------------------------
    def _authenticate(self, req, tenant):
        header = req.headers.get("Authorization") or ""
        if not header[:7].lower() == "bearer ":
            raise self._unauthorized("The request has no bearer token.")
        try:
            claims = self.app.entra.validate(header[7:].strip())
        except TokenRejected as exc:
            raise self._unauthorized(str(exc)) from None
        if tenant is None or claims.get("tid") != tenant.tenant_id:
            raise self._unauthorized("The access token was issued for another tenant.")
        if claims.get("aud") not in ("https://" + CLOUDS[tenant.environment][0], EXO_RESOURCE_APP_ID):
            raise self._unauthorized("The access token has the wrong audience.")
        if APP_ROLE not in claims.get("roles", ()):
            raise self._unauthorized("The access token does not carry the %s role." % APP_ROLE)
        app = tenant.apps.get(claims.get("appid", "").lower())
        if app is None:
            raise self._unauthorized("The application of the access token does not exist.")
        return app

    def _unauthorized(self, reason):
        exc = errors.unauthorized(reason)
        exc.headers["WWW-Authenticate"] = WWW_AUTHENTICATE % (EXO_RESOURCE_APP_ID, self.app.base_url)
        exc.headers["x-ms-diagnostics"] = '2000001;reason="%s";error_category="invalid_token"' % reason
        return exc

    # -- the pipeline -------------------------------------------------------------------------------
    def _prepare(self, call):
        """Everything before the service time: cmdlet, RBAC, scripted and random faults, the concurrency slot."""
        app, faults, counters = self.app, self.app.faults, self.app.counters
        tenant_id = call.tenant.tenant_id
        name, raw_params = call.cmdlet_input
        spec = CMDLETS.get(name.lower())
        if spec is None or not call.app.exchange_role:
            call.outcome = Outcome(403, nul=True)
            return
        call.spec = spec
        counters.add_cmdlet("cmdlet_attempts", spec.name, tenant_id)
        identity = _raw_identity(raw_params)
        rule = faults.take_cmdlet_rule(spec.name, identity, call.endpoint, bool(call.skiptoken))
        if rule is not None and self._apply_rule(call, rule):
            return
        if faults.roll("throttle_rate"):
            self._throttle(call, faults.get("throttle_retry_after"), concurrency=False)
            return
        if faults.roll("error_rate"):
            counters.add("errors_injected", tenant_id)
            call.outcome = Outcome.from_error(errors.server_error(faults.choice(faults.get("error_statuses"))))
            return
        budget, window = app.budget(call.tenant), float(faults.get("rate_limit_window"))
        wait = budget.refusal(int(faults.get("rate_limit")), window)
        if wait is not None:
            self._throttle(call, str(max(1, math.ceil(wait))), concurrency=False)
            return
        active = app.gate(call.tenant).try_acquire(int(faults.get("concurrency_limit")))
        if active is None:
            self._throttle(call, faults.get("concurrency_retry_after"), concurrency=True)
            return
        budget.record(window)
        counters.observe_concurrency(active, tenant_id)
        counters.add("executions", tenant_id)
        call.slot = True
        if spec.write and faults.roll("reset_after_write_rate"):
            call.reset_after_write = True

    def _apply_rule(self, call, rule):
        """Apply a scripted fault; True when it decided the outcome."""
        counters, tenant_id = self.app.counters, call.tenant.tenant_id
        if rule.fault == "throttle":
            self._throttle(call, rule.retry_after, concurrency=False)
        elif rule.fault == "error":
            counters.add("errors_injected", tenant_id)
            call.outcome = Outcome.from_error(errors.server_error(rule.status))
        elif rule.fault == "nul403":
            counters.add("errors_injected", tenant_id)
            call.outcome = Outcome(403, nul=True)
        elif rule.fault == "reset":
            call.drop_before = True
            counters.add("resets", tenant_id)
        elif rule.fault == "expire_page":
            call.outcome = Outcome.from_error(errors.pagination_expired(self.app.faults.get("page_expiry")))
        elif rule.fault == "reset_after_write":
            call.reset_after_write = True
            return False
        return True

    def _throttle(self, call, retry_after, concurrency):
        self.app.counters.add("throttled", call.tenant.tenant_id)
        call.outcome = Outcome.from_error(errors.throttled(retry_after, concurrency))

    def _run_batch(self, calls, continue_on_error):
        failed = False
        for call in calls:
            if failed and not continue_on_error:
                self._skip(call)
                continue
            if call.outcome is None:
                self._complete(call)
            failed = failed or call.outcome.status >= 400

    def _end_service(self, started, calls):
        """The service time: slots are held for L from the moment they were taken, the emulator's own work
        included (so L does not depend on how fast this machine is), then released."""
        latency = float(self.app.faults.get("latency_ms")) / 1000.0
        if latency > 0 and any(c.slot for c in calls):
            remaining = started + latency - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)
        self._release_all(calls)

    def _complete(self, call):
        """Run the cmdlet (or serve the next page); the slot is released by _end_service."""
        counters, tenant_id = self.app.counters, call.tenant.tenant_id
        try:
            with call.tenant.lock:
                call.outcome = self._execute(call)
        except ExchangeError as exc:
            call.outcome = Outcome.from_error(self._shaped(call, exc))
        if call.spec.write and call.outcome.status < 400 and not call.skiptoken:
            counters.add("writes", tenant_id)
        if call.reset_after_write and call.spec.write:
            counters.add("resets", tenant_id)
            call.outcome.drop_after = True

    def _skip(self, call):
        if call.slot:
            self.app.gate(call.tenant).release()
            call.slot = False
        call.outcome = Outcome(424, {"error": {"code": "FailedDependency", "message": "The request was not executed "
                                               "because an earlier request in the batch failed and "
                                               "odata.continue-on-error was not requested."}})

    def _release_all(self, calls):
        for call in calls:
            if call.slot:
                self.app.gate(call.tenant).release()
                call.slot = False

    def _shaped(self, call, exc):
        """Not-found and ambiguity in the shape the settings ask for. "mixed" picks one shape per seed, cmdlet
        and identity (a stable hash, not the random source), so a test sees the same shape on every run and
        whatever the order of concurrent requests."""
        faults = self.app.faults
        if exc.kind not in ("not_found", "ambiguous"):
            return exc
        not_found_shape = faults.get("not_found_shape")
        ambiguous_shape = faults.get("ambiguous_shape")
        if "mixed" in (not_found_shape, ambiguous_shape):
            key = "%s|%s|%s" % (faults.get("seed"), call.spec.name.lower() if call.spec else "",
                                str(exc.identity or "").lower())
            pick = zlib.crc32(key.encode("utf-8"))
            if not_found_shape == "mixed":
                not_found_shape = errors.NOT_FOUND_SHAPES[pick % len(errors.NOT_FOUND_SHAPES)]
            if ambiguous_shape == "mixed":
                ambiguous_shape = errors.AMBIGUOUS_SHAPES[(pick >> 8) % len(errors.AMBIGUOUS_SHAPES)]
        return errors.shaped(exc, not_found_shape, ambiguous_shape)

    def _execute(self, call):
        if call.skiptoken:
            return self._next_page(call)
        call.params = bind(call.spec.params, call.cmdlet_input[1])
        faults = self.app.faults
        inv = Invocation(call.tenant, call.spec.name, call.params, faults.get("row_shapes"), faults.settings)
        result = call.spec.handler(inv)
        self.app.counters.add_cmdlet("cmdlets", call.spec.name, call.tenant.tenant_id)
        if result.value_null:
            return Outcome(200, self._envelope(call, result.warnings, None))
        if result.result_size is not None:
            return self._result_size_page(call, result)
        page_size = call.page_size or self.app.faults.get("default_page_size") or max(1, len(result.items))
        if len(result.items) <= page_size:
            rows = [result.render(item, call.select) for item in result.items]
            return Outcome(200, self._envelope(call, result.warnings + result.tail_warnings, rows))
        cursor = self._store_cursor(call, result, page_size)
        return self._page(call, cursor, 0, result.warnings)

    def _result_size_page(self, call, result):
        """-ResultSize N with more than N items: N rows, a nextLink and the "more results" warning (live,
        graph2otel); the link goes on past N (a client stops by row count, as the v3 module does). Pages are at
        most N rows. With ``result_size_link`` off: the first N rows and the warning, no link."""
        size = result.result_size
        if not self.app.faults.get("result_size_link"):
            rows = [result.render(item, call.select) for item in result.items[:size]]
            return Outcome(200, self._envelope(call, result.warnings + [PAGE_WARNING], rows))
        page_size = min(size, call.page_size or self.app.faults.get("default_page_size") or size)
        return self._page(call, self._store_cursor(call, result, page_size), 0, result.warnings)

    def _store_cursor(self, call, result, page_size):
        cursor = Cursor(call.tenant.tenant_id, call.spec.name, result, call.select, page_size,
                        time.time() + float(self.app.faults.get("page_expiry")))
        with self._cursor_lock:
            self._cursor_created += 1
            if self._cursor_created % 100 == 0:
                now = time.time()
                for key in [k for k, c in self.cursors.items() if c.expires < now]:
                    del self.cursors[key]
            self.cursors[cursor.cursor_id] = cursor
        return cursor

    def _next_page(self, call):
        expired = errors.pagination_expired(self.app.faults.get("page_expiry"))
        if self.app.faults.get("nextlink_broken"):
            raise expired
        cursor_id, offset = _decode_skiptoken(call.skiptoken)
        cursor = self.cursors.get(cursor_id)
        if (cursor is None or cursor.expires < time.time() or cursor.tenant_id != call.tenant.tenant_id
                or cursor.cmdlet != call.spec.name or offset >= len(cursor.result.items)):
            raise expired
        if call.select is None:
            call.select = cursor.select
        if call.page_size is None:
            call.page_size = cursor.page_size
        return self._page(call, cursor, offset, [])

    def _page(self, call, cursor, offset, warnings):
        result = cursor.result
        size = call.page_size or cursor.page_size
        if result.result_size is not None:
            size = min(size, cursor.page_size)  # pages of a -ResultSize N result stay at most N rows
        end = offset + size
        rows = [result.render(item, call.select) for item in result.items[offset:end]]
        self.app.counters.add("pages_served", call.tenant.tenant_id)
        if end < len(result.items):
            link = "%s/adminapi/beta/%s/InvokeCommand?%%24skiptoken=%s" % (
                self.app.base_url, call.segment, _encode_skiptoken(cursor.cursor_id, end))
            return Outcome(200, self._envelope(call, warnings + [PAGE_WARNING], rows, link))
        return Outcome(200, self._envelope(call, warnings + result.tail_warnings, rows))

    def _envelope(self, call, warnings, rows, next_link=None):
        context = "%s/adminapi/beta/%s/$metadata#Collection(Exchange.GenericHashTable)" % (self.app.base_url, call.segment)
        body = {"@odata.context": context, "adminapi.warnings@odata.type": WARNINGS_TYPE,
                "@adminapi.warnings": list(warnings), "value": rows}
        if next_link:
            body["@odata.nextLink"] = next_link
        return body

    # -- $batch ---------------------------------------------------------------------------------
    @staticmethod
    def _parse_batch(raw):
        try:
            body = json.loads(raw.decode("utf-8-sig") or "null")
        except (UnicodeDecodeError, ValueError):
            raise errors.bad_request("The batch request body is not valid JSON.") from None
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            raise errors.bad_request("The batch request must contain a non-empty 'requests' array.")
        if len(requests) > MAX_BATCH:
            raise errors.bad_request("The batch request contains %d requests; a batch may contain at most %d."
                                     % (len(requests), MAX_BATCH))
        ids = [r.get("id") if isinstance(r, dict) else None for r in requests]
        if any(not isinstance(i, str) or not i for i in ids) or len(set(ids)) != len(ids):
            raise errors.bad_request("Every request in a batch needs a unique, non-empty string 'id'.")
        return requests

    def _sub_call(self, tenant, app, segment, sub, req):
        headers = {str(k).lower(): str(v) for k, v in (sub.get("headers") or {}).items()}
        prefer = headers.get("prefer") or req.headers.get("Prefer")
        call = Call(tenant, app, segment, None, None, None, parse_page_size(prefer), "batch")
        try:
            if str(sub.get("method", "")).upper() != "POST":
                raise errors.bad_request("Only POST sub-requests to InvokeCommand are supported.")
            url = urlsplit(str(sub.get("url", "")))
            if not _addresses_invoke(unquote(url.path), segment, tenant):
                raise errors.bad_request("The sub-request URL must address InvokeCommand of this tenant.")
            query = parse_qs(url.query, keep_blank_values=True)
            call.select = parse_select(query)
            call.skiptoken = _skiptoken(query)
            call.cmdlet_input = parse_cmdlet_input(sub.get("body"))
        except ExchangeError as exc:
            call.outcome = Outcome.from_error(exc)
        return call

    def _sub_response(self, sub, call):
        outcome = call.outcome
        headers = {"content-type": JSON_TYPE}
        body = outcome.body
        if outcome.nul:
            headers = {"content-type": "application/octet-stream"}
            body = errors.NUL_BODY_B64
        elif isinstance(body, bytes):
            headers = {"content-type": outcome.headers.get("Content-Type", "text/html")}
            body = base64.urlsafe_b64encode(body).decode().rstrip("=")
        for key, value in outcome.headers.items():
            if key.lower() == "retry-after":
                headers["retry-after"] = value
        return {"id": sub["id"], "status": outcome.status, "headers": headers, "body": body}

    # -- replies ------------------------------------------------------------------------------------
    def _reply(self, tenant, req, outcome):
        headers = {"request-id": str(uuid.uuid4()), "X-FEServer": "EMULATOR01FE001", "OData-Version": "4.0"}
        client_request_id = req.headers.get("client-request-id")
        if client_request_id:
            headers["client-request-id"] = client_request_id
        faults = self.app.faults
        if tenant is not None and faults.get("rate_headers"):
            settings = faults.settings
            shown, remaining, reset = self.app.budget(tenant).state(shown_limit(settings),
                                                                    float(settings["rate_limit_window"]))
            headers["Rate-Limit-Limit"] = str(shown)
            headers["Rate-Limit-Remaining"] = str(remaining)
            headers["Rate-Limit-Reset"] = _iso_ms(reset)
            # slots in use at the tenant as the response leaves (this request's own are released by now)
            headers["X-Concurrencycount"] = str(self.app.gate(tenant).current)
        page_size = parse_page_size(req.headers.get("Prefer"))
        if page_size:
            headers["Preference-Applied"] = "odata.maxpagesize=%d" % page_size
        headers.update(outcome.headers)
        if outcome.nul:
            return Reply(outcome.status, headers, errors.NUL_BODY)
        if isinstance(outcome.body, bytes):
            return Reply(outcome.status, headers, outcome.body)
        headers.setdefault("Content-Type", JSON_TYPE)
        return Reply(outcome.status, headers, dumps(outcome.body))


def _iso_ms(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + ".%03dZ" % (int(epoch * 1000) % 1000)


def _addresses_invoke(path, segment, tenant):
    parts = [p.lower() for p in path.split("/") if p]
    if not parts or parts[-1] != "invokecommand":
        return False
    if "adminapi" in parts:
        position = parts.index("adminapi")
        if len(parts) != position + 4:
            return False
        return parts[position + 2] in (segment.lower(), tenant.tenant_id, tenant.domain)
    return len(parts) == 1


def _raw_identity(raw_params):
    for key, value in raw_params.items():
        if str(key).lower() == "identity":
            return value
    return None


def _skiptoken(query):
    values = query.get("$skiptoken") or query.get("%24skiptoken")
    return values[0] if values else None


def _encode_skiptoken(cursor_id, offset):
    return base64.urlsafe_b64encode(("%s:%d" % (cursor_id, offset)).encode()).decode().rstrip("=")


def _decode_skiptoken(token):
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        cursor_id, offset = text.rsplit(":", 1)
        return cursor_id, int(offset)
    except (ValueError, UnicodeDecodeError):
        return None, 0
