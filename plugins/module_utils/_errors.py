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


def parse_fault(status, body):
    """Read an Exchange error body (JSON, text, or the NUL-filled 403 body)."""
    error = _error_object(body)
    if error is None:
        text = _printable_text(body)
        return Fault(status, text=text or None)
    fault = Fault(status, code=error.get("code"), text=error.get("message"))
    if not _read_detail(fault, error.get("details")):
        _read_inner_error(fault, error.get("innererror"))
    return fault


def _read_detail(fault, details):
    """details[].message is "ErrorId|FullExceptionType|Text"; either prefix may be empty."""
    for detail in details or []:
        if isinstance(detail, dict) and detail.get("message"):
            parts = detail["message"].split("|", 2)
            if len(parts) == 3:
                fault.error_id, fault.error_type, fault.text = parts[0] or None, parts[1] or None, parts[2]
            else:
                fault.text = detail["message"]
            return True
    return False


def _read_inner_error(fault, inner):
    """Without details, the cmdlet's exception is the innermost innererror.internalexception."""
    deepest = None
    while isinstance(inner, dict):
        deepest = inner
        inner = inner.get("internalexception")
    if deepest is not None and deepest.get("message"):
        fault.text = deepest["message"]
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
    where = _where(cmdlet, identity)
    text = fault.text or ""
    error_type = fault.error_type or ""
    lowered = text.lower()
    if "ManagementObjectNotFoundException" in error_type or (fault.status == 404 and not error_type):
        return NotFoundError, "%s: %s" % (where, text or "the object could not be found")
    if "ManagementObjectAmbiguousException" in error_type or "matches multiple entries" in lowered:
        return AmbiguousIdentityError, (
            "%s: %s Use an identity that is unique, such as the primary SMTP address, the GUID or the "
            "ExternalDirectoryObjectId." % (where, text or "the identity matches several objects.")
        )
    if "maximum allowed access control entries" in lowered:
        return AclLimitError, (
            "%s: %s Remove stale entries (for example orphaned S-1-5-21-... trustees) from the mailbox "
            "before granting more access." % (where, text)
        )
    if "pagination request" in lowered:
        return PagingExpiredError, (
            "%s: %s The result was not read completely; run the task again." % (where, text)
        )
    if fault.status == 401:
        return AuthenticationError, "%s: Exchange Online rejected the token (HTTP 401): %s.%s" % (
            where, PERMISSION_HELP, _service_says(text))
    if fault.status == 403:
        return AuthorizationError, (
            "%s: Exchange Online refused the call (HTTP 403): %s. An unknown cmdlet is refused the same way.%s"
            % (where, ROLE_HELP, _service_says(text))
        )
    if fault.status == 429:
        return ThrottledError, "%s: Exchange Online is still throttling the tenant (HTTP 429) after every retry.%s" % (
            where, _service_says(text))
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
