"""HTTPS server, routing, the /_emulator admin API and the EmulatorServer Python API."""

import collections
import email.utils
import json
import os
import socket
import ssl
import struct
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from . import adminapi_v2, churn, errors
from .entra import Entra
from .errors import EntraError, ExchangeError
from .exchange import ExchangeApi, Reply, dumps
from .faults import Counters, Faults, Gate, RateBudget
from .generate import generate
from .pki import Pki
from .tenant import MAILBOX_TYPES, GROUP_MAILBOX, Tenant, iso, rights_to_names

LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
REASONS = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 424: "Failed Dependency", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class Request:
    __slots__ = ("method", "path", "headers", "body", "client", "log", "budget", "arrived", "round_trip_due")

    def __init__(self, method, path, headers, body, client, arrived=None):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.client = client
        self.log = {}
        self.budget = None
        self.arrived = time.monotonic() if arrived is None else arrived
        self.round_trip_due = None

    def start_round_trip(self, http_latency_ms):
        """H counts from the request's first line; finish_round_trip() sleeps what is left of it."""
        if http_latency_ms > 0:
            self.round_trip_due = self.arrived + http_latency_ms / 1000.0

    def finish_round_trip(self):
        """Sleep until H has passed since arrival (once): the emulator's own work before this point (TLS, auth,
        parsing) is part of H, so the moment a cmdlet asks for a slot does not depend on this machine's load."""
        due, self.round_trip_due = self.round_trip_due, None
        if due is not None:
            remaining = due - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)


class AdminError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _json_reply(status, data, headers=None):
    merged = {"Content-Type": "application/json; charset=utf-8"}
    merged.update(headers or {})
    return Reply(status, merged, dumps(data))


class TenantSource:
    """How to (re)build a tenant: from a JSON document, a file, or generator parameters."""

    def __init__(self, kind, value):
        self.kind = kind
        self.value = value

    def build(self):
        if self.kind == "file":
            return Tenant.load(self.value)
        if self.kind == "generate":
            return generate(**self.value)
        return Tenant.from_json(self.value)


def tenant_source(item):
    if isinstance(item, TenantSource):
        return item
    if isinstance(item, Tenant):
        return TenantSource("doc", item.to_json())
    if isinstance(item, dict):
        return TenantSource("generate", item) if "n" in item else TenantSource("doc", item)
    return TenantSource("file", os.fspath(item))


class EmulatorApp:
    """All state behind the server: tenants, faults, counters, Entra and Exchange front-ends."""

    def __init__(self, workdir, sources, faults=None):
        self.workdir = os.path.abspath(workdir)
        self.pki = Pki(os.path.join(self.workdir, "pki"))
        self.sources = sources
        self.initial_faults = dict(faults or {})
        self.faults = Faults(self.initial_faults)
        self.counters = Counters()
        self.base_url = "https://127.0.0.1"
        self.tenants = []
        self._by_segment = {}
        self._gates = {}
        self._budgets = {}
        self.request_log = collections.deque(maxlen=10000)
        self.entra = Entra(self)
        self.exchange = ExchangeApi(self)
        self.admin_api_v2 = adminapi_v2.AdminApiV2(self)
        self.load_tenants()

    # -- tenants ---------------------------------------------------------------------------
    def load_tenants(self):
        tenants = [source.build() for source in self.sources]
        by_segment = {}
        for tenant in tenants:
            for app in tenant.apps.values():
                app.certificate_objects = [self.pki.client(ref if isinstance(ref, str) else ref["name"])
                                           for ref in app.certificates]
            by_segment[tenant.tenant_id] = tenant
            by_segment[tenant.domain] = tenant
            self._gates.setdefault(tenant.tenant_id, Gate())
            self._budgets.setdefault(tenant.tenant_id, RateBudget())
        self.tenants, self._by_segment = tenants, by_segment
        self.exchange.cursors.clear()

    def find_tenant(self, segment):
        return self._by_segment.get(unquote(segment or "").lower())

    def tenant(self, name=None):
        if name is None:
            return self.tenants[0]
        tenant = self.find_tenant(name)
        if tenant is None:
            raise AdminError(404, "unknown tenant %r" % name)
        return tenant

    def gate(self, tenant):
        return self._gates[tenant.tenant_id]

    def budget(self, tenant):
        return self._budgets[tenant.tenant_id]

    # -- dispatch ----------------------------------------------------------------------------
    def dispatch(self, req):
        started = time.time()
        path = urlsplit(req.path).path
        parts = [p for p in path.split("/") if p]
        if parts and parts[0] == "_emulator":
            reply = self._admin(req, parts[1:])
        else:
            req.start_round_trip(float(self.faults.get("http_latency_ms")))
            reply = self._public(req, parts)
            req.finish_round_trip()  # when the Exchange API did not already wait before taking a slot
            self._log(req, reply, started)
        return reply

    def _public(self, req, parts):
        endpoint, segment = _classify(req.method, parts)
        tenant = self.find_tenant(segment) if segment else None
        self.counters.add("http_requests", tenant.tenant_id if tenant else None)
        req.log["tenant"] = tenant.tenant_id if tenant else segment
        if endpoint not in ("invoke", "batch", "v2"):
            req.finish_round_trip()
        if endpoint is None:
            return _json_reply(404, {"error": {"code": "NotFound", "message": "The requested resource was not found."}})
        if endpoint == "method":
            return _json_reply(405, {"error": {"code": "MethodNotAllowed", "message": "Method not allowed."}})
        early = self._http_faults(endpoint, tenant)
        if early is not None and not early.drop_after_processing:
            return early.reply
        reply = self._route(endpoint, segment, req)
        if early is not None:
            reply.drop = True
        return reply

    def _http_faults(self, endpoint, tenant):
        tenant_id = tenant.tenant_id if tenant else None
        rule = self.faults.take_http_rule(endpoint)
        if rule is None and self.faults.roll("reset_rate"):
            self.counters.add("resets", tenant_id)
            return _Early(Reply(drop=True))
        if rule is None:
            return None
        if rule.fault in ("reset", "reset_after_write"):
            self.counters.add("resets", tenant_id)
            return _Early(Reply(drop=True), rule.fault == "reset_after_write")
        if rule.fault == "throttle":
            self.counters.add("throttled", tenant_id)
            if endpoint in ("token", "openid"):
                err = EntraError(429, "temporarily_unavailable", 90055, "There are too many incoming requests. "
                                 "Please try again later.", {"Retry-After": rule.retry_after})
                return _Early(self._entra_reply(err))
            return _Early(self._exchange_error(errors.throttled(rule.retry_after, concurrency=False)))
        self.counters.add("errors_injected", tenant_id)
        if rule.fault == "nul403":
            return _Early(Reply(403, {}, errors.NUL_BODY))
        if endpoint in ("token", "openid"):
            return _Early(self._entra_reply(EntraError(rule.status, "temporarily_unavailable", 90033,
                                                       "A transient error has occurred. Please try again.")))
        return _Early(self._exchange_error(errors.server_error(rule.status)))

    def _route(self, endpoint, segment, req):
        if endpoint == "v2":
            return self.admin_api_v2.invoke(req, segment, unquote(urlsplit(req.path).path.rstrip("/").rsplit("/", 1)[1]))
        if endpoint == "invoke":
            return self.exchange.invoke(req, segment)
        if endpoint == "batch":
            return self.exchange.batch(req, segment)
        try:
            if endpoint == "openid":
                return _json_reply(200, self.entra.openid_configuration(segment))
            if endpoint == "jwks":
                return _json_reply(200, self.entra.jwks(segment))
            return self._token(req, segment)
        except EntraError as exc:
            return self._entra_reply(exc, req.headers.get("client-request-id"))

    def _token(self, req, segment):
        tenant = self.find_tenant(segment)
        self.counters.add("token_requests", tenant.tenant_id if tenant else None)
        try:
            form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8"), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            form = {}
        result = self.entra.token(segment, form, req.headers.get("Authorization"))
        self.counters.add("tokens_issued", tenant.tenant_id)
        return _json_reply(200, result, {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})

    @staticmethod
    def _entra_reply(exc, correlation_id=None):
        headers = dict(exc.headers)
        if exc.status == 401:
            headers.setdefault("WWW-Authenticate", 'Basic realm=""')
        return _json_reply(exc.status, exc.body(correlation_id), headers)

    @staticmethod
    def _exchange_error(exc):
        if isinstance(exc.body, bytes):
            return Reply(exc.status, dict(exc.headers), exc.body)
        headers = {"Content-Type": "application/json;odata.metadata=minimal;odata.streaming=true;"
                                   "IEEE754Compatible=false;charset=utf-8"}
        headers.update(exc.headers)
        return Reply(exc.status, headers, dumps(exc.body))

    def _log(self, req, reply, started):
        headers = {}
        for key, value in req.headers.items():
            headers[key] = "Bearer <redacted>" if key.lower() == "authorization" else value
        entry = {"time": iso(started), "method": req.method, "path": req.path,
                 "status": None if reply.drop else reply.status, "dropped": reply.drop,
                 "duration_ms": round((time.time() - started) * 1000, 3), "headers": headers}
        entry.update(req.log)
        self.request_log.append(entry)

    # -- admin API ----------------------------------------------------------------------------------
    def _admin(self, req, parts):
        if req.client and req.client[0] not in LOOPBACK:
            return _json_reply(403, {"error": "the admin API answers loopback clients only"})
        query = {k: v[-1] for k, v in parse_qs(urlsplit(req.path).query).items()}
        try:
            body = json.loads(req.body.decode("utf-8") or "{}") if req.method == "POST" else {}
            return _json_reply(200, self.admin_call(req.method, "/".join(parts), query, body))
        except AdminError as exc:
            return _json_reply(exc.status, {"error": str(exc)})
        except ExchangeError as exc:
            return _json_reply(exc.status, exc.body)
        except (ValueError, KeyError, TypeError) as exc:
            return _json_reply(400, {"error": str(exc)})

    def admin_call(self, method, route, query, body):
        """The admin operations, shared by the HTTP API and EmulatorServer's methods."""
        handlers = {
            ("GET", "state"): lambda: self.state(query.get("tenant")),
            ("GET", "permissions"): lambda: self.permissions(query.get("tenant"), query["identity"]),
            ("POST", "reset"): lambda: self.reset(body.get("counters", True), body.get("faults", False)),
            ("POST", "save"): lambda: self.save(body["path"], body.get("tenant")),
            ("GET", "faults"): self.faults.snapshot,
            ("POST", "faults"): lambda: self.faults.update(body),
            ("POST", "faults/script"): lambda: {"rules": self.faults.add_rules(
                body if isinstance(body, list) else body.get("rules", []),
                replace=isinstance(body, dict) and body.get("replace", False))},
            ("GET", "counters"): lambda: self.counters.snapshot(self._tenant_id(query.get("tenant"))),
            ("POST", "counters/reset"): self._reset_counters,
            ("GET", "requests"): lambda: {"requests": self.requests(int(query.get("last", 100)))},
            ("GET", "health"): lambda: {"ok": True, "tenants": [t.tenant_id for t in self.tenants]},
            ("POST", "slots"): lambda: self.record_slots(body.get("tenant"), body.get("enabled", True)),
            ("GET", "slots"): lambda: self.slots(query.get("tenant")),
        }
        handlers.update(churn.admin_handlers(self, query, body))
        if method == "POST" and route.startswith("apps/"):
            return self.update_app(route.split("/", 1)[1], body.pop("tenant", None), **body)
        handler = handlers.get((method, route))
        if handler is None:
            raise AdminError(404, "no admin operation %s /_emulator/%s" % (method, route))
        return handler()

    def _tenant_id(self, name):
        return self.tenant(name).tenant_id if name else None

    def record_slots(self, tenant=None, enabled=True):
        """Start a fresh record of a tenant's concurrency slots (enabled), or stop keeping one."""
        gate = self.gate(self.tenant(tenant))
        if enabled:
            gate.record(int(self.faults.get("concurrency_limit")))
        else:
            gate.stop_recording()
        return {"recording": bool(enabled)}

    def slots(self, tenant=None):
        return self.gate(self.tenant(tenant)).slot_summary()

    def _reset_counters(self):
        self.counters.reset()
        self.request_log.clear()
        return {"ok": True}

    def state(self, tenant=None):
        if tenant is None:
            return {"tenants": [self._state_of(t) for t in self.tenants]}
        return self._state_of(self.tenant(tenant))

    @staticmethod
    def _state_of(tenant):
        with tenant.lock:
            data = tenant.to_json()
        data["summary"] = tenant.summary()
        return data

    def permissions(self, tenant, identity):
        tenant = self.tenant(tenant)
        with tenant.lock:
            matches = tenant.resolve(identity, lambda r: r.rtd in MAILBOX_TYPES or r.rtd == GROUP_MAILBOX)
            if not matches:
                raise errors.not_found(identity, tenant.server_fqdn)
            if len(matches) > 1:
                raise errors.ambiguous(identity)
            mailbox = matches[0]
            aces = [{"trustee": tenant.trustee_display(a.sid), "trustee_sid": a.sid,
                     "access_rights": rights_to_names(a.rights), "deny": a.deny,
                     "inheritance_type": a.inheritance, "inherited": a.inherited} for a in tenant.all_aces(mailbox)]
            automapping = {tenant.trustee_display(sid): value for sid, value in (mailbox.automapping or {}).items()}
            return {"identity": mailbox.name, "guid": mailbox.guid, "primary_smtp_address": mailbox.primary_smtp,
                    "aces": aces, "automapping": automapping,
                    "automapping_by_sid": dict(mailbox.automapping or {})}

    def reset(self, counters=True, faults=False):
        self.load_tenants()
        self._budgets = {t.tenant_id: RateBudget() for t in self.tenants}
        if counters:
            self.counters.reset()
        if faults:
            self.faults = Faults(self.initial_faults)
        return {"ok": True, "tenants": [t.tenant_id for t in self.tenants]}

    def save(self, path, tenant=None):
        target = self.tenant(tenant)
        with target.lock:
            target.save(path)
        return {"ok": True, "path": os.path.abspath(path), "tenant_id": target.tenant_id}

    def update_app(self, client_id, tenant=None, revoke_secret=None, app_role=None, exchange_role=None,
                   add_secret=None, app_role_v2=None):
        candidates = [self.tenant(tenant)] if tenant else self.tenants
        for candidate in candidates:
            app = candidate.apps.get(client_id.lower())
            if app is None:
                continue
            with candidate.lock:
                if revoke_secret:
                    for secret in app.secrets:
                        secret["revoked"] = True
                if add_secret:
                    app.secrets.append({"id": client_id + ":" + str(len(app.secrets)), "value": add_secret,
                                        "expires": None, "revoked": False})
                if app_role is not None:
                    app.app_role = bool(app_role)
                if exchange_role is not None:
                    app.exchange_role = bool(exchange_role)
                if app_role_v2 is not None:
                    app.app_role_v2 = bool(app_role_v2)
            return dict(app.to_json(), tenant_id=candidate.tenant_id)
        raise AdminError(404, "no app registration with client_id %s" % client_id)

    def requests(self, last=100):
        entries = list(self.request_log)
        return entries[-last:] if last else entries

    def connection(self):
        records = [self._tenant_record(t) for t in self.tenants]
        primary = dict(records[0])
        primary.update({"api_url": self.base_url, "authority_url": self.base_url,
                        "admin_url": self.base_url + "/_emulator", "ca_path": self.pki.ca_path, "tenants": records})
        return primary

    def _tenant_record(self, tenant):
        apps = {}
        for app in tenant.apps.values():
            record = {"client_id": app.client_id, "client_secret": app.secret,
                      "service_principal_object_id": self.entra.service_principal_object_id(tenant, app)}
            if app.certificate_objects:
                record.update(app.certificate_objects[0].describe())
            apps[app.name] = record
        main = tenant.app_by_name("main") or next(iter(tenant.apps.values()))
        record = {"tenant": tenant.domain, "tenant_id": tenant.tenant_id, "domain": tenant.domain,
                  "environment": tenant.environment, "client_id": main.client_id, "client_secret": main.secret,
                  "service_principal_object_id": self.entra.service_principal_object_id(tenant, main)}
        if main.certificate_objects:
            record.update(main.certificate_objects[0].describe())
        record["apps"] = {name: value for name, value in apps.items() if name != main.name}
        return record


class _Early:
    __slots__ = ("reply", "drop_after_processing")

    def __init__(self, reply, drop_after_processing=False):
        self.reply = reply
        self.drop_after_processing = drop_after_processing


def _classify(method, parts):
    """(endpoint, tenant segment) for a public path; endpoint None = 404, "method" = 405."""
    lowered = [p.lower() for p in parts]
    if len(parts) == 4 and lowered[:2] == ["adminapi", "beta"]:
        last = unquote(lowered[3])
        if last in ("invokecommand", "$batch"):
            if method != "POST":
                return "method", parts[2]
            return ("invoke" if last == "invokecommand" else "batch"), parts[2]
    v2 = adminapi_v2.classify(method, parts)
    if v2 is not None:
        return v2[:2]
    if len(parts) == 4 and lowered[1:] == ["v2.0", ".well-known", "openid-configuration"]:
        return ("openid" if method == "GET" else "method"), parts[0]
    if len(parts) == 4 and lowered[1:] == ["oauth2", "v2.0", "token"]:
        return ("token" if method == "POST" else "method"), parts[0]
    if len(parts) == 4 and lowered[1:] == ["discovery", "v2.0", "keys"]:
        return ("jwks" if method == "GET" else "method"), parts[0]
    return None, parts[0] if parts else None


class _DateCache:
    """An RFC 7231 date, formatted at most once a second."""

    def __init__(self):
        self.second = 0
        self.value = ""

    def now(self):
        second = int(time.time())
        if second != self.second:
            self.second, self.value = second, email.utils.formatdate(second, usegmt=True)
        return self.value


_DATES = _DateCache()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""
    timeout = 300

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Silent: the request log under /_emulator/requests replaces the access log."""

    arrived = None

    def parse_request(self):
        """The request line has just been read: the moment the request arrived (H counts from here)."""
        self.arrived = time.monotonic()
        return super().parse_request()

    def do_GET(self):  # pylint: disable=invalid-name
        self._handle()

    def do_POST(self):  # pylint: disable=invalid-name
        self._handle()

    def do_DELETE(self):  # pylint: disable=invalid-name
        self._handle()

    def do_PUT(self):  # pylint: disable=invalid-name
        self._handle()

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self):
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        req = Request(self.command, self.path, self.headers, body, self.client_address, self.arrived)
        try:
            reply = self.server.app.dispatch(req)
        except Exception:  # pylint: disable=broad-except
            if os.environ.get("EXO_EMULATOR_DEBUG"):
                traceback.print_exc()
            reply = _json_reply(500, {"error": {"code": "InternalServerError",
                                                "message": "The emulator failed to process the request."}})
        if reply.drop:
            self._drop()
            return
        self._send(reply)

    def _send(self, reply):
        lines = ["HTTP/1.1 %d %s" % (reply.status, REASONS.get(reply.status, "Unknown")),
                 "Date: " + _DATES.now(), "Server: Microsoft-IIS/10.0"]
        for key, value in reply.headers.items():
            lines.append("%s: %s" % (key, value))
        lines.append("Content-Length: %d" % len(reply.body))
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        try:
            self.wfile.write(head + reply.body)
        except OSError:
            self.close_connection = True

    def _drop(self):
        """Reset the TCP connection without an HTTP response."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address, app, context):
        self.app = app
        self.ssl_context = context
        super().__init__(address, _Handler)

    def finish_request(self, request, client_address):
        """TLS handshake in the worker thread, so a slow client never blocks accept()."""
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request.settimeout(_Handler.timeout)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        """Connection-level errors (client went away, TLS alerts) are normal for an emulator."""


class EmulatorServer:
    """The emulator in-process: ``start()``, ``connection``, admin methods, ``stop()``; a context manager."""

    def __init__(self, workdir, tenants=None, faults=None, host="127.0.0.1", port=0, mailboxes=50, seed=1,
                 domain="contoso.onmicrosoft.com", connection_file=None):
        sources = [tenant_source(t) for t in tenants] if tenants else [
            TenantSource("generate", {"n": mailboxes, "seed": seed, "domain": domain})]
        self.app = EmulatorApp(workdir, sources, faults)
        self.host = host
        self.port = port
        self.connection_file = connection_file
        self._server = None
        self._thread = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.app.pki.server_cert_path, self.app.pki.server_key_path)
        self._server = _TLSServer((self.host, self.port), self.app, context)
        self.port = self._server.server_address[1]
        self.app.base_url = "https://%s:%d" % (self.host, self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="exo-emulator", daemon=True)
        self._thread.start()
        if self.connection_file:
            self.write_connection_file(self.connection_file)
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def write_connection_file(self, path):
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self.connection, handle, indent=2)
        os.replace(tmp, path)

    # -- facts ----------------------------------------------------------------------------------------
    @property
    def connection(self):
        return self.app.connection()

    @property
    def base_url(self):
        return self.app.base_url

    @property
    def ca_path(self):
        return self.app.pki.ca_path

    def tenant(self, name=None):
        return self.app.tenant(name)

    # -- admin mirror ------------------------------------------------------------------------------------
    def counters(self, tenant=None):
        return self.app.counters.snapshot(self.app.tenant(tenant).tenant_id if tenant else None)

    def reset_counters(self):
        self.app.admin_call("POST", "counters/reset", {}, {})

    def faults(self):
        return self.app.faults.snapshot()

    def set_faults(self, changes=None, **kwargs):
        return self.app.faults.update(dict(changes or {}, **kwargs))

    def add_fault_rule(self, rule=None, **kwargs):
        return self.app.faults.add_rules([rule or kwargs])

    def add_fault_rules(self, rules, replace=False):
        return self.app.faults.add_rules(rules, replace)

    def clear_fault_rules(self):
        self.app.faults.clear_rules()

    def permissions(self, tenant, identity):
        return self.app.permissions(tenant, identity)

    def state(self, tenant=None):
        return self.app.state(tenant)

    def reset(self, counters=True, faults=False):
        return self.app.reset(counters, faults)

    def save(self, path, tenant=None):
        return self.app.save(path, tenant)

    def update_app(self, client_id, tenant=None, **changes):
        return self.app.update_app(client_id, tenant, **changes)

    def requests(self, last=100):
        return self.app.requests(last)

    def record_slots(self, tenant=None, enabled=True):
        return self.app.record_slots(tenant, enabled)

    def slots(self, tenant=None):
        return self.app.slots(tenant)

    # -- churn and the newer delegations (churn.py; the same operations as POST /_emulator/churn/...) ------------------
    def rename_mailbox(self, identity, primary_smtp, tenant=None, **changes):
        """New primary SMTP address (alias/name follow; ``keep_old_address=True`` keeps the old one as a secondary)."""
        return self._churn("churn/rename", tenant, dict(changes, identity=identity, primary_smtp=primary_smtp))

    def convert_to_mail_user(self, identity, tenant=None):
        return self._churn("churn/convert-to-mail-user", tenant, {"identity": identity})

    def delete_mailbox(self, identity, tenant=None):
        return self._churn("churn/delete", tenant, {"identity": identity})

    def recreate_mailbox(self, address, tenant=None, **fields):
        return self._churn("churn/recreate", tenant, dict(fields, address=address))

    def grant_permission(self, kind, identity, user, tenant=None, **fields):
        """``kind``: full_access, send_as, send_on_behalf or folder (``folder``, ``access_rights``,
        ``sharing_permission_flags``); applied as an admin would, outside the API and its counters."""
        return self._churn("churn/grant", tenant, dict(fields, kind=kind, identity=identity, user=user))

    def set_organization_config(self, tenant=None, **settings):
        return self._churn("organization-config", tenant, settings)

    def delegations(self, tenant, identity):
        return self.app.admin_call("GET", "delegations", {"tenant": tenant, "identity": identity} if tenant else
                                   {"identity": identity}, {})

    def rbac_state(self, tenant=None):
        return self.app.admin_call("GET", "rbac", {"tenant": tenant} if tenant else {}, {})

    def _churn(self, route, tenant, body):
        if tenant:
            body["tenant"] = tenant
        return self.app.admin_call("POST", route, {}, body)
