# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""App-only authentication with msal: client secret, PEM or PFX certificate.

One token per process: acquired on first use, shared by every thread,
renewed shortly before it expires and once more when the service answers 401.
"""

import datetime
import os
import re
import threading
import time

try:
    import msal
    from msal.exceptions import MsalServiceError
except ImportError:
    msal = None
    MsalServiceError = None

try:
    from requests.exceptions import RequestException
except ImportError:
    RequestException = None

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
except ImportError:
    x509 = None

from ansible_collections.m365.exchange.plugins.module_utils._errors import (
    AuthenticationError,
    ConfigurationError,
    TransientError,
)

# What msal lets escape when the token endpoint answers 5xx (its raise_for_status()).
_HTTP_ERRORS = tuple(error for error in (MsalServiceError, RequestException) if error is not None)
_HTTP_STATUS = re.compile(r"HTTP Error: (\d{3})")

# Entra ID error codes (AADSTS...) and what the user should check.
_AADSTS_HINTS = {
    "7000215": "the client secret is wrong: check client_secret / EXO_CLIENT_SECRET (the secret's value, not its ID)",
    "7000222": "the client secret has expired or was revoked: create a new one and update client_secret / "
               "EXO_CLIENT_SECRET",
    "700016": "no application with this client_id exists in the tenant: check client_id and tenant",
    "90002": "the tenant was not found: check tenant and environment (the cloud)",
    "900023": "the tenant is not a valid tenant name or ID: check tenant",
    "500011": "Exchange Online was not found for this tenant in this cloud: check environment",
    "700027": "Entra ID rejected the certificate: upload its public key to this app registration (client_id), or renew "
              "it if it expired",
    "700024": "the certificate assertion is outside its valid time range: check the clock of the host running the module",
    "7000112": "the application is disabled in the tenant",
}


def load_certificate(path, password=None):
    """Read a PEM (key + certificate) or PFX file into msal's client_credential form."""
    if x509 is None:
        raise ConfigurationError("certificate authentication needs the Python package 'cryptography'")
    data = _read_file(path)
    secret = password.encode("utf-8") if password else None
    if b"-----BEGIN" in data:
        key, certificate = _load_pem(path, data, secret)
    else:
        key, certificate = _load_pfx(path, data, secret)
    _check_pair(path, key, certificate)
    _check_validity(path, certificate)
    return {
        "private_key": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii"),
        "thumbprint": certificate.fingerprint(hashes.SHA1()).hex().upper(),  # nosec - SHA-1 is what x5t is defined as
        "public_certificate": certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    }


def _read_file(path):
    if not os.path.isfile(path):
        raise ConfigurationError("certificate_path '%s' does not exist or is not a file: give a PEM file (private key + "
                                 "certificate) or a PFX/PKCS#12 file" % path)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigurationError("certificate_path '%s' cannot be read: %s" % (path, exc.strerror))


def _load_pem(path, data, password):
    try:
        certificate = x509.load_pem_x509_certificate(_pem_block(data, b"CERTIFICATE"))
    except ValueError:
        raise ConfigurationError("certificate_path '%s' holds no PEM certificate; it needs the private key and the "
                                 "certificate (-----BEGIN CERTIFICATE-----) in one file, or use a PFX" % path)
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError:
        if password:
            raise ConfigurationError("the private key in '%s' is not encrypted: remove certificate_password" % path)
        raise ConfigurationError("the private key in '%s' is encrypted: set certificate_password "
                                 "(or EXO_CERTIFICATE_PASSWORD)" % path)
    except ValueError:
        if password:
            raise ConfigurationError("cannot decrypt the private key in '%s': certificate_password is wrong" % path)
        raise ConfigurationError("certificate_path '%s' holds no readable PEM private key; it needs the private key and "
                                 "the certificate in one PEM file, or use a PFX" % path)
    return key, certificate


def _pem_block(data, label):
    begin = b"-----BEGIN " + label + b"-----"
    end = b"-----END " + label + b"-----"
    start = data.find(begin)
    stop = data.find(end, start)
    if start < 0 or stop < 0:
        return b""
    return data[start:stop + len(end)]


def _load_pfx(path, data, password):
    try:
        key, certificate, _chain = pkcs12.load_key_and_certificates(data, password)
    except ValueError:
        if password:
            raise ConfigurationError("cannot open '%s' as a PFX/PKCS#12 file: the certificate_password is wrong, or the "
                                     "file is neither PFX nor PEM (private key + certificate)" % path)
        raise ConfigurationError("cannot open '%s' as a PFX/PKCS#12 file: it is protected by a password (set "
                                 "certificate_password or EXO_CERTIFICATE_PASSWORD), or it is neither PFX nor PEM "
                                 "(private key + certificate)" % path)
    if key is None or certificate is None:
        raise ConfigurationError("the PFX file '%s' must contain both the private key and the certificate" % path)
    return key, certificate


def _check_pair(path, key, certificate):
    public_format = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*public_format) != certificate.public_key().public_bytes(*public_format):
        raise ConfigurationError("the private key in '%s' does not belong to its certificate" % path)


def _check_validity(path, certificate):
    now = datetime.datetime.now(datetime.timezone.utc)
    not_after = _utc(getattr(certificate, "not_valid_after_utc", None) or certificate.not_valid_after)
    not_before = _utc(getattr(certificate, "not_valid_before_utc", None) or certificate.not_valid_before)
    if not_after < now:
        raise ConfigurationError("the certificate in '%s' expired on %s: create a new one and upload it to the app "
                                 "registration" % (path, not_after.strftime("%Y-%m-%d %H:%M UTC")))
    if not_before > now:
        raise ConfigurationError("the certificate in '%s' is not valid before %s" % (
            path, not_before.strftime("%Y-%m-%d %H:%M UTC")))


def _utc(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


class TokenProvider:
    """Hands out the app's access token for Exchange Online, thread-safe."""

    def __init__(self, settings, http_client):
        if msal is None:
            raise ConfigurationError("the Python package 'msal' is required")
        self._settings = settings
        self._http_client = http_client
        self._lock = threading.Lock()
        self._application = None
        self._token = None
        self._renew_at = 0.0
        self.acquired = 0

    def token(self):
        """A valid access token, acquiring or renewing it when needed."""
        with self._lock:
            if self._token is None or time.time() >= self._renew_at:
                self._acquire()
            return self._token

    def invalidate(self, token):
        """Forget the token the service refused, so the next call acquires a new one."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _acquire(self):
        application = self._app()
        # msal keeps its own cache; bypass it, because we only get here when our copy must be replaced.
        application.remove_tokens_for_client()
        try:
            result = application.acquire_token_for_client(scopes=[self._settings.scope])
        except Exception as exc:  # pylint: disable=broad-except
            if isinstance(exc, _HTTP_ERRORS):
                raise self._http_error(exc)
            raise
        if "access_token" not in result:
            raise self._error(result)
        lifetime = float(result.get("expires_in") or 3599)
        # renew ahead of expiry: 5 minutes, or a tenth of a short lifetime
        self._renew_at = time.time() + lifetime - min(300.0, lifetime / 10.0)
        self._token = result["access_token"]
        self.acquired += 1

    def _app(self):
        if self._application is None:
            settings = self._settings
            if settings.uses_certificate:
                credential = load_certificate(settings.certificate_path, settings.certificate_password)
            else:
                credential = settings.client_secret
            try:
                self._application = msal.ConfidentialClientApplication(
                    settings.client_id,
                    client_credential=credential,
                    authority="%s/%s" % (settings.authority_url, settings.tenant),
                    http_client=self._http_client,
                    instance_discovery=False,
                    azure_region=None,
                    token_cache=msal.TokenCache(),
                )
            except ValueError as exc:
                raise AuthenticationError(self._authority_message(exc))
        return self._application

    def _authority_message(self, exc):
        settings = self._settings
        return ("Cannot use the Entra ID authority %s/%s (tenant '%s', environment %s): %s. Check tenant, environment "
                "and authority_url." % (settings.authority_url, settings.tenant, settings.tenant,
                                        settings.environment, _first_line(str(exc)).rstrip(". ")))

    def _http_error(self, exc):
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status is None:
            match = _HTTP_STATUS.search(str(exc))
            status = int(match.group(1)) if match else None
        return TransientError(
            "Entra ID failed to issue a token for app '%s' in tenant '%s' (environment %s)%s: a failure of the login "
            "service, usually temporary. Nothing was changed by this request; rerun the task." % (
                self._settings.client_id, self._settings.tenant, self._settings.environment,
                " with HTTP %s" % status if status else ""), status=status)

    def _error(self, result):
        description = _first_line(result.get("error_description") or result.get("error") or "no token returned")
        codes = [str(code) for code in result.get("error_codes") or []]
        hints = [_AADSTS_HINTS[code] for code in codes if code in _AADSTS_HINTS]
        message = "Entra ID refused a token for app '%s' in tenant '%s' (environment %s): %s" % (
            self._settings.client_id, self._settings.tenant, self._settings.environment, description)
        if hints:
            message += " (%s)" % "; ".join(hints)
        return AuthenticationError(message, status=result.get("error"))


def _first_line(text):
    return text.strip().splitlines()[0] if text and text.strip() else text
