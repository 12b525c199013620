"""Fault injection, the cost model (latency, concurrency cap), counters and rate-limit budgets."""

import collections
import random
import threading
import time

from .slots import FREED, REFUSED, TAKEN, SlotRecord, summarize

DEFAULTS = {
    "latency_ms": 0.0,              # L: service time per cmdlet, slept while holding a concurrency slot
    "http_latency_ms": 0.0,         # H: per HTTP request, slept outside the slot
    "concurrency_limit": 0,         # C: cmdlets a tenant runs at once (0 = unlimited)
    "concurrency_retry_after": "1",
    "throttle_rate": 0.0,
    "throttle_retry_after": "1",
    "error_rate": 0.0,
    "error_statuses": [500, 502, 503, 504],
    "reset_rate": 0.0,
    "reset_after_write_rate": 0.0,
    "token_lifetime": 3599,
    "page_expiry": 1800.0,
    "nextlink_broken": False,       # every nextLink fails at once (what graph2otel saw live)
    "default_page_size": 1000,      # page size without Prefer: odata.maxpagesize; 0 = no paging (unknown live)
    "rate_limit": 0,                # cmdlets per rolling window, enforced with 429; 0 = shown from the cost model
    "rate_limit_window": 16.0,      # W: the rolling window of Rate-Limit-* (Reset ~16 s after Date live)
    "rate_headers": True,           # Rate-Limit-* and X-Concurrencycount on responses (False: none, like graph2otel)
    # The live service's shapes (README, behaviour table); the kinder shapes stay reachable for tests.
    "row_shapes": {"access_rights": "joined", "deny": "bool", "inheritance_type": "absent", "self": "twice"},
    "not_found_shape": "mixed",     # 404 | 404-json | 500 | 500-json | mixed (per seed, cmdlet and identity)
    "ambiguous_shape": "not_found",  # not_found (typed ManagementObjectNotFoundException, 404) | ambiguous | mixed
    "result_size_link": True,       # -ResultSize N truncating: N rows + nextLink + warning (False: no nextLink)
    "permission_requires_identity": True,  # Get-MailboxPermission without -Identity: 400 (False: every mailbox)
    "seed": 0,
}
FAULT_KINDS = frozenset(("throttle", "error", "reset", "reset_after_write", "expire_page", "nul403"))
ENDPOINTS = frozenset(("invoke", "batch", "token", "openid"))
SHAPES = {"access_rights": ("joined", "list", "string"), "deny": ("bool", "ispresent"),
          "inheritance_type": ("absent", "present"), "self": ("twice", "once")}
CHOICES = {"not_found_shape": ("404", "404-json", "500", "500-json", "mixed"),
           "ambiguous_shape": ("not_found", "ambiguous", "mixed")}


class FaultRule:
    """A scripted one-shot fault: ``{"match": {...}, "fault": kind, "status", "retry_after", "times"}``."""

    __slots__ = ("cmdlet", "identity", "endpoint", "fault", "status", "retry_after", "times")

    def __init__(self, data):
        match = data.get("match") or {}
        unknown = set(match) - {"cmdlet", "identity", "endpoint"}
        if unknown:
            raise ValueError("unknown match keys: %s" % ", ".join(sorted(unknown)))
        self.cmdlet = (match.get("cmdlet") or "").lower() or None
        self.identity = (match.get("identity") or "").lower() or None
        self.endpoint = (match.get("endpoint") or "").lower() or None
        if self.endpoint and self.endpoint not in ENDPOINTS:
            raise ValueError("endpoint must be one of %s" % ", ".join(sorted(ENDPOINTS)))
        self.fault = data.get("fault")
        if self.fault not in FAULT_KINDS:
            raise ValueError("fault must be one of %s" % ", ".join(sorted(FAULT_KINDS)))
        self.status = int(data.get("status", 429 if self.fault == "throttle" else 503))
        self.retry_after = str(data.get("retry_after", "1"))
        self.times = int(data.get("times", 1))

    @property
    def cmdlet_level(self):
        return bool(self.cmdlet or self.identity) or self.fault == "expire_page"

    def to_json(self):
        return {"match": {k: v for k, v in (("cmdlet", self.cmdlet), ("identity", self.identity),
                                            ("endpoint", self.endpoint)) if v},
                "fault": self.fault, "status": self.status, "retry_after": self.retry_after, "times": self.times}


def _convert(key, value):
    default = DEFAULTS[key]
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if isinstance(default, list):
        return [int(v) for v in (value if isinstance(value, list) else str(value).split(","))]
    return type(default)(value)


def _validate(settings):
    for key in ("throttle_rate", "error_rate", "reset_rate", "reset_after_write_rate"):
        if not 0.0 <= float(settings[key]) <= 1.0:
            raise ValueError("%s must be between 0 and 1" % key)
    for key, allowed in SHAPES.items():
        if settings["row_shapes"].get(key, allowed[0]) not in allowed:
            raise ValueError("row_shapes.%s must be one of %s" % (key, ", ".join(allowed)))
    for key, allowed in CHOICES.items():
        if settings[key] not in allowed:
            raise ValueError("%s must be one of %s" % (key, ", ".join(allowed)))
    if int(settings["concurrency_limit"]) < 0:
        raise ValueError("concurrency_limit must be >= 0")
    for key in ("concurrency_retry_after", "throttle_retry_after"):
        float(settings[key])


class Faults:
    """Thread-safe fault settings, scripted rules and the random source behind the rates."""

    def __init__(self, settings=None):
        self._lock = threading.Lock()
        self.settings = {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
                         for k, v in DEFAULTS.items()}
        self.rules = []
        self._rng = random.Random(0)
        if settings:
            self.update(settings)

    def update(self, changes):
        unknown = set(changes) - set(DEFAULTS)
        if unknown:
            raise ValueError("unknown fault settings: %s" % ", ".join(sorted(unknown)))
        with self._lock:
            merged = dict(self.settings)
            for key, value in changes.items():
                if key == "row_shapes":
                    merged[key] = dict(merged[key], **(value or {}))
                else:
                    merged[key] = _convert(key, value)
            _validate(merged)
            self.settings = merged
            if "seed" in changes:
                self._rng = random.Random(merged["seed"])
        return self.snapshot()

    def snapshot(self):
        data = dict(self.settings)
        data["rules"] = [r.to_json() for r in self.rules]
        return data

    def get(self, key):
        return self.settings[key]

    def roll(self, key):
        rate = self.settings[key]
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def choice(self, values):
        with self._lock:
            return self._rng.choice(values)

    def add_rules(self, rules, replace=False):
        parsed = [FaultRule(r) for r in rules]
        with self._lock:
            if replace:
                self.rules = []
            self.rules.extend(parsed)
        return [r.to_json() for r in self.rules]

    def clear_rules(self):
        with self._lock:
            self.rules = []

    def take_http_rule(self, endpoint):
        """Consume the first request-level rule for ``endpoint`` (rules without cmdlet/identity)."""
        return self._take(lambda r: not r.cmdlet_level and (r.endpoint is None or r.endpoint == endpoint))

    def take_cmdlet_rule(self, cmdlet, identity, endpoint, follow_up):
        """Consume the first cmdlet-level rule matching this execution (``expire_page`` only on follow-ups)."""
        cmdlet = (cmdlet or "").lower()
        identity = (identity or "").lower() if isinstance(identity, str) else ""

        def matches(rule):
            if not rule.cmdlet_level:
                return False
            if rule.fault == "expire_page" and not follow_up:
                return False
            if rule.endpoint and rule.endpoint != endpoint:
                return False
            if rule.cmdlet and rule.cmdlet != cmdlet:
                return False
            return not rule.identity or rule.identity == identity
        return self._take(matches)

    def _take(self, predicate):
        if not self.rules:
            return None
        with self._lock:
            for rule in self.rules:
                if rule.times > 0 and predicate(rule):
                    rule.times -= 1
                    if rule.times == 0:
                        self.rules.remove(rule)
                    return rule
        return None


COUNTER_KEYS = ("http_requests", "batch_requests", "token_requests", "tokens_issued", "writes", "throttled",
                "errors_injected", "resets", "pages_served", "max_concurrency_seen", "executions")


class Counters:
    """Global and per-tenant counters."""

    def __init__(self):
        self._lock = threading.Lock()
        self._global = self._blank()
        self._tenants = {}

    @staticmethod
    def _blank():
        data = {key: 0 for key in COUNTER_KEYS}
        data["cmdlets"] = {}
        data["cmdlet_attempts"] = {}
        data["first_api_request_at"] = None  # epoch seconds of the first and last InvokeCommand/$batch request
        data["last_api_request_at"] = None
        return data

    def _scopes(self, tenant_id):
        scopes = [self._global]
        if tenant_id:
            scope = self._tenants.get(tenant_id)
            if scope is None:
                scope = self._tenants[tenant_id] = self._blank()
            scopes.append(scope)
        return scopes

    def add(self, key, tenant_id=None, amount=1):
        with self._lock:
            for scope in self._scopes(tenant_id):
                scope[key] += amount

    def add_cmdlet(self, key, cmdlet, tenant_id):
        with self._lock:
            for scope in self._scopes(tenant_id):
                scope[key][cmdlet] = scope[key].get(cmdlet, 0) + 1

    def stamp_api_request(self, tenant_id, moment=None):
        """Remember when the admin API was used first and last (benchmarks: client start-up and wind-down)."""
        moment = time.time() if moment is None else moment
        with self._lock:
            for scope in self._scopes(tenant_id):
                if scope["first_api_request_at"] is None:
                    scope["first_api_request_at"] = moment
                scope["last_api_request_at"] = moment

    def observe_concurrency(self, value, tenant_id):
        with self._lock:
            for scope in self._scopes(tenant_id):
                if value > scope["max_concurrency_seen"]:
                    scope["max_concurrency_seen"] = value

    def snapshot(self, tenant_id=None):
        with self._lock:
            if tenant_id:
                return _copy(self._tenants.get(tenant_id) or self._blank())
            data = _copy(self._global)
            data["tenants"] = {tid: _copy(v) for tid, v in self._tenants.items()}
            return data

    def reset(self):
        with self._lock:
            self._global = self._blank()
            self._tenants = {}


def _copy(data):
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}


class Gate:
    """Per-tenant concurrency slots: a cmdlet over the cap is refused at once, never queued."""

    def __init__(self):
        self._lock = threading.Lock()
        self.active = 0
        self._record = None  # a SlotRecord while one is being kept

    def try_acquire(self, limit):
        with self._lock:
            if limit and self.active >= limit:
                self._note(REFUSED)
                return None
            self.active += 1
            self._note(TAKEN)
            return self.active

    def release(self, count=1):
        with self._lock:
            self.active -= count
            self._note(FREED, count)

    def _note(self, kind, count=1):
        if self._record is not None:
            self._record.add(kind, count)

    def record(self, capacity):
        """Start a new record of the slots (the previous one is dropped)."""
        with self._lock:
            self._record = SlotRecord(capacity)

    def stop_recording(self):
        with self._lock:
            self._record = None

    def slot_summary(self):
        with self._lock:
            record = self._record
            events = list(record.events) if record is not None else None
        if record is None:
            return {"recording": False}
        return dict(summarize(events, record.capacity, truncated=record.dropped), recording=True)

    @property
    def current(self):
        return self.active


class RateBudget:
    """Behind Rate-Limit-*: the cmdlet executions of a tenant in a rolling window of W seconds.

    Limit: ``rate_limit`` when set (then enforced), else what the tenant's C slots serve in W at L ms each
    (C*W/L), else 30000 (the value of the live capture). Remaining: Limit minus the executions that started in
    the last W seconds. Reset: when the whole budget is back if nothing more runs (the last execution + W;
    now when none is in the window). See README, "Rate headers".
    """

    DISPLAY_LIMIT = 30000

    def __init__(self):
        self._lock = threading.Lock()
        self._starts = collections.deque()

    def _expire(self, now, window):
        horizon = now - window
        while self._starts and self._starts[0] <= horizon:
            self._starts.popleft()

    def record(self, window, now=None):
        """One cmdlet execution started (it took a slot)."""
        now = time.time() if now is None else now
        with self._lock:
            self._expire(now, window)
            self._starts.append(now)

    def refusal(self, limit, window, now=None):
        """Seconds until the enforced budget has room again, or None when it has room (or is not enforced)."""
        if not limit:
            return None
        now = time.time() if now is None else now
        with self._lock:
            self._expire(now, window)
            if len(self._starts) < limit:
                return None
            return max(0.001, self._starts[0] + window - now)

    def state(self, limit, window, now=None):
        """(limit shown, remaining, reset epoch)."""
        now = time.time() if now is None else now
        with self._lock:
            self._expire(now, window)
            used = len(self._starts)
            reset = self._starts[-1] + window if used else now
        return limit, max(0, limit - used), reset


def shown_limit(settings):
    """Rate-Limit-Limit for the settings: rate_limit, else C*W/L from the cost model, else the live 30000."""
    if int(settings["rate_limit"]):
        return int(settings["rate_limit"])
    slots, latency = int(settings["concurrency_limit"]), float(settings["latency_ms"])
    if slots and latency > 0:
        return max(1, int(slots * float(settings["rate_limit_window"]) * 1000.0 / latency))
    return RateBudget.DISPLAY_LIMIT
