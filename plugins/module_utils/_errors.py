# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Typed errors of the Exchange Online client, built from the service's error bodies.

Every message names the object and the cmdlet involved and says what to fix.
No message ever contains a token or a secret: they are built only from the
cmdlet name, the identity and the service's own error text.
"""

import json
import re

PERMISSION_HELP = (
    "the app lacks the Exchange.ManageAsApp application permission or admin consent for it "
    "(Entra ID > App registrations > API permissions > Office 365 Exchange Online)"
)
ROLE_HELP = (
    "the service principal has no Exchange role: assign it the Exchange Administrator role "
    "or an Exchange role group / RBAC for Applications role that includes the cmdlet"
)


_NUL_BASE64 = re.compile(r"^A{16,}={0,2}$")


class ExchangeError(Exception):
    """Base class of every error raised by the client."""

    def __init__(self, message, cmdlet=None, identity=None, status=None, error_type=None, request_id=None):
        super().__init__(message)
        self.message = message
        self.cmdlet = cmdlet
        self.identity = identity
        self.status = status
        self.error_type = error_type
        self.request_id = request_id

    def __str__(self):
        return self.message

    def to_dict(self):
        """A small, secret-free description for module results."""
        data = {"error": type(self).__name__, "message": self.message}
        for key in ("cmdlet", "identity", "status", "error_type", "request_id"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


class ConfigurationError(ExchangeError):
    """Bad or missing connection settings, detected before any request."""


class InvalidInputError(ExchangeError):
    """Task input the collection refuses before changing anything (bad identities, bad trustee, ...)."""


class AuthenticationError(ExchangeError):
    """Entra ID refused a token, or Exchange refused the token (HTTP 401)."""


class AuthorizationError(ExchangeError):
    """Exchange refused the call (HTTP 403)."""


class NotFoundError(ExchangeError):
    """The object does not exist (ManagementObjectNotFoundException)."""


class AmbiguousIdentityError(ExchangeError):
    """The identity matches several objects (ManagementObjectAmbiguousException)."""


class InvalidParameterError(ExchangeError):
    """The service rejected a parameter or its value (HTTP 400)."""


class AclLimitError(ExchangeError):
    """The mailbox already holds the maximum of 500 access control entries."""


class ThrottledError(ExchangeError):
    """Still throttled (HTTP 429) after every retry the policy allows."""


class TransientError(ExchangeError):
    """A server or connection failure that outlived the retries."""


class PagingExpiredError(ExchangeError):
    """A @odata.nextLink expired before it was followed."""


class ServiceError(ExchangeError):
    """Any other failure reported by the service."""


class NotAttemptedError(ExchangeError):
    """The command was not sent because the run stopped at an earlier failure."""


class Fault:
    """The parts of an error body: HTTP status, code, exception type and text."""

    __slots__ = ("status", "code", "error_type", "text", "error_id")

    def __init__(self, status, code=None, error_type=None, text=None, error_id=None):
        self.status = status
        self.code = code
        self.error_type = error_type
        self.text = text
        self.error_id = error_id

    @property
    def kind(self):
        """What the body says happened, whatever the HTTP status (see fault_kind)."""
        return fault_kind(self)


# What an error body says, read from its exception type and text before its HTTP status: the service sends a
# not-found as 404 or as 500, an ambiguous name typed as ManagementObjectNotFoundException, and its concurrency
# refusal in plain text with more than one status (reference, "Round 2").
AMBIGUOUS = "ambiguous"
NOT_FOUND = "not_found"
THROTTLED = "throttled"
ACL_LIMIT = "acl_limit"
PAGING_EXPIRED = "paging_expired"
BAD_PARAMETER = "bad_parameter"
# Kinds that no retry can change: never worth another attempt, whatever the status.
FINAL_KINDS = frozenset((AMBIGUOUS, NOT_FOUND, ACL_LIMIT, PAGING_EXPIRED, BAD_PARAMETER))

_AMBIGUOUS_TEXT = re.compile(r"matches multiple entries", re.IGNORECASE)
_NOT_FOUND_TEXT = re.compile(r"couldn't be found|could not be found|couldn't find object|could not find object",
                             re.IGNORECASE)
_THROTTLED_TEXT = re.compile(r"maximum number of concurrent requests|too many concurrent requests", re.IGNORECASE)
_PARAMETER_TYPES = ("ParameterBindingException", "ParameterTransformationException",
                    "AmbiguousParameterSetException")


def fault_kind(fault):
    """AMBIGUOUS, NOT_FOUND, THROTTLED, ACL_LIMIT, PAGING_EXPIRED, BAD_PARAMETER or None (decide by status).

    The text decides before the type: "'x' matches multiple entries" typed as ManagementObjectNotFoundException
    is an ambiguous name, not a missing object.
    """
    text = fault.text or ""
    error_type = fault.error_type or ""
    if _AMBIGUOUS_TEXT.search(text) or "ManagementObjectAmbiguousException" in error_type:
        return AMBIGUOUS
    if "ManagementObjectNotFoundException" in error_type or _NOT_FOUND_TEXT.search(text):
        return NOT_FOUND
    if _THROTTLED_TEXT.search(text) or "ThrottlingException" in error_type:
        return THROTTLED
    if "maximum allowed access control entries" in text.lower():
        return ACL_LIMIT
    if "pagination request" in text.lower():
        return PAGING_EXPIRED
    if any(name in error_type for name in _PARAMETER_TYPES):
        return BAD_PARAMETER
    if fault.status == 404 and not error_type:
        return NOT_FOUND
    return None


# What a caller does with a failed attempt.
RETRY_THROTTLED = "throttled"  # wait for Retry-After (or back off) and send again; counts as throttled
RETRY_FAILED = "failed"  # back off and send again, if the command is safe to send twice


def retry_kind(fault):
    """RETRY_THROTTLED, RETRY_FAILED or None (the answer is final) for a response that is not a success.

    The body decides first: a not-found is never worth a retry, also as HTTP 500; the plain-text concurrency
    refusal is throttling whatever the status. Then the status: 429 is throttling, 5xx a failure.
    """
    kind = fault_kind(fault)
    if kind in FINAL_KINDS:
        return None
    if kind == THROTTLED or fault.status == 429:
        return RETRY_THROTTLED
    if fault.status is not None and fault.status >= 500:
        return RETRY_FAILED
    return None


def parse_fault(status, body, headers=None):
    """Read an Exchange error body (JSON, text, or the NUL-filled 403 body); `headers` may add x-ExceptionType."""
    error = _error_object(body)
    if error is None:
        text = _printable_text(body)
        fault = Fault(status, text=text or None)
    else:
        fault = Fault(status, code=error.get("code"), text=error.get("message"))
        has_detail = _read_detail(fault, error.get("details"))
        _read_inner_error(fault, error.get("innererror"), take_text=not has_detail)
    if not fault.error_type and headers:
        fault.error_type = _header(headers, "x-ExceptionType") or None
    return fault


def _header(headers, name):
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if str(key).lower() == lowered:
                return candidate
    return value


def _read_detail(fault, details):
    """details[].message is "ErrorId|FullExceptionType|Text" (either prefix may be empty) or a JSON string
    {"Message": ..., "TypeName": ...}."""
    for detail in details or []:
        if isinstance(detail, dict) and detail.get("message"):
            message = detail["message"]
            if _read_json_detail(fault, message):
                return True
            parts = message.split("|", 2)
            if len(parts) == 3:
                fault.error_id, fault.error_type, fault.text = parts[0] or None, parts[1] or None, parts[2]
            else:
                fault.text = message
            return True
    return False


def _read_json_detail(fault, message):
    if not isinstance(message, str) or not message.lstrip().startswith("{"):
        return False
    try:
        data = json.loads(message)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    fields = dict((str(key).lower(), value) for key, value in data.items())
    text = fields.get("message")
    if not isinstance(text, str) or not text:
        return False
    fault.text = text
    error_type = fields.get("typename") or fields.get("type") or fields.get("exceptiontype")
    fault.error_type = error_type if isinstance(error_type, str) and error_type else None
    error_id = fields.get("errorid") or fields.get("id")
    fault.error_id = error_id if isinstance(error_id, str) and error_id else None
    return True


def _read_inner_error(fault, inner, take_text):
    """The cmdlet's exception is the innermost innererror.internalexception: its text when the body had no
    details, its type when the details named none."""
    deepest = None
    while isinstance(inner, dict):
        deepest = inner
        inner = inner.get("internalexception")
    if deepest is None or not deepest.get("message"):
        return
    if take_text:
        fault.text = deepest["message"]
    if not fault.error_type:
        fault.error_type = deepest.get("type") or None


def _error_object(body):
    if isinstance(body, dict):
        data = body
    else:
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        try:
            data = json.loads(body) if body else None
        except ValueError:
            return None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return data["error"]
    return None


def _printable_text(body):
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str):
        return ""
    text = "".join(ch for ch in body if ch.isprintable()).strip()
    if _NUL_BASE64.match(text):
        # the NUL-filled 403 body as a $batch sub-response carries it (base64 of zero bytes): no text
        return ""
    return text[:300]


def error_from_fault(fault, cmdlet=None, identity=None, request_id=None):
    """Turn a parsed fault into the matching ExchangeError subclass with a clear message."""
    error_class, message = _classify(fault, cmdlet, identity)
    return error_class(
        message,
        cmdlet=cmdlet,
        identity=identity,
        status=fault.status,
        error_type=fault.error_type,
        request_id=request_id,
    )


def _classify(fault, cmdlet, identity):
    """The body first (fault_kind), then the HTTP status."""
    where = _where(cmdlet, identity)
    text = fault.text or ""
    kind = fault_kind(fault)
    if kind == AMBIGUOUS:
        return AmbiguousIdentityError, (
            "%s: %s Use an identity that is unique, such as the primary SMTP address, the GUID or the "
            "ExternalDirectoryObjectId." % (where, text or "the identity matches several objects.")
        )
    if kind == NOT_FOUND:
        return NotFoundError, "%s: %s" % (where, text or "the object could not be found")
    if kind == ACL_LIMIT:
        return AclLimitError, (
            "%s: %s Remove stale entries (for example orphaned S-1-5-21-... trustees) from the mailbox "
            "before granting more access." % (where, text)
        )
    if kind == PAGING_EXPIRED:
        return PagingExpiredError, (
            "%s: %s The result was not read completely; run the task again." % (where, text)
        )
    if kind == THROTTLED or fault.status == 429:
        return ThrottledError, "%s: Exchange Online is still throttling the tenant (HTTP %s) after every retry.%s" % (
            where, fault.status, _service_says(text))
    if kind == BAD_PARAMETER:
        return InvalidParameterError, "%s: the service rejected a parameter: %s" % (where, text)
    if fault.status == 401:
        return AuthenticationError, "%s: Exchange Online rejected the token (HTTP 401): %s.%s" % (
            where, PERMISSION_HELP, _service_says(text))
    if fault.status == 403:
        return AuthorizationError, (
            "%s: Exchange Online refused the call (HTTP 403): %s. An unknown cmdlet is refused the same way.%s"
            % (where, ROLE_HELP, _service_says(text))
        )
    if fault.status is not None and fault.status >= 500:
        return TransientError, "%s: Exchange Online failed with HTTP %s after every retry.%s" % (
            where, fault.status, _service_says(text))
    if fault.status == 400:
        return InvalidParameterError, "%s: the service rejected a parameter: %s" % (where, text or "HTTP 400")
    return ServiceError, "%s: %s" % (where, text or "HTTP %s" % fault.status)


def name_the_app(error, client_id, tenant):
    """A 401 or 403 from Exchange is about the app registration: say which one (never its credentials)."""
    if (isinstance(error, (AuthenticationError, AuthorizationError)) and error.status in (401, 403) and client_id
            and client_id not in error.message):
        error.message = "%s (app '%s' in tenant '%s')" % (error.message, client_id, tenant)
    return error


def _where(cmdlet, identity):
    if cmdlet and identity:
        return "%s '%s'" % (cmdlet, identity)
    return cmdlet or "Exchange Online"


def _service_says(text):
    return " The service said: %s" % text if text else ""
