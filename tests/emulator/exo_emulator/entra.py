"""Entra ID side: OpenID discovery, JWKS, the client-credentials token endpoint, token validation."""

import base64
import binascii
import datetime
import hashlib
import threading
import time
import uuid

import jwt
from jwt import algorithms as jwt_algorithms

from .errors import EntraError, entra_tenant_not_found
from .tenant import CLOUDS, EXO_RESOURCE_APP_ID

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
APP_ROLE = "Exchange.ManageAsApp"
APP_ROLE_V2 = "Exchange.ManageAsAppV2"
EXCHANGE_ADMIN_ROLE = "29232cdf-9323-42fd-ade2-1d097af3e4de"
RESERVED_SCOPES = frozenset(("openid", "profile", "offline_access"))
PORTAL_HINT = ("Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app "
               "Id '%s'.")


class TokenRejected(Exception):
    """An access token the admin API does not accept (the reason goes into the 401)."""


def _missing(name):
    return EntraError(400, "invalid_request", 900144,
                      "The request body must contain the following parameter: '%s'." % name)


def _hex_thumbprint(value):
    padded = value + "=" * (-len(value) % 4)
    try:
        return base64.urlsafe_b64decode(padded).hex().upper()
    except (binascii.Error, ValueError):
        return ""


def _us_time(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%m/%d/%Y %H:%M:%S")


class Entra:
    """Token authority for every emulated tenant."""

    def __init__(self, app):
        self.app = app
        self.signing_key = app.pki.signing_key
        public_pem = self.signing_key.public_key()
        digest = hashlib.sha1(repr(public_pem.public_numbers().n).encode()).digest()
        self.key_id = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        self._public_key = public_pem
        self._valid_tokens = {}
        self._lock = threading.Lock()

    # -- discovery -----------------------------------------------------------------
    def _tenant(self, segment, error="invalid_tenant"):
        tenant = self.app.find_tenant(segment)
        if tenant is None:
            err = entra_tenant_not_found(segment)
            err.error = error
            raise err
        return tenant

    def openid_configuration(self, segment):
        tenant = self._tenant(segment)
        base = "%s/%s" % (self.app.base_url, tenant.tenant_id)
        return {
            "token_endpoint": base + "/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": base + "/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": base + "/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": self.app.base_url + "/oidc/userinfo",
            "authorization_endpoint": base + "/oauth2/v2.0/authorize",
            "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": base + "/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
                                 "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
                                 "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "kerberos_endpoint": base + "/kerberos",
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }

    def jwks(self, segment):
        self._tenant(segment)
        jwk = jwt_algorithms.RSAAlgorithm.to_jwk(self._public_key, as_dict=True)
        jwk.update({"kid": self.key_id, "x5t": self.key_id, "use": "sig", "issuer": "https://sts.windows.net/{tenantid}/"})
        return {"keys": [jwk]}

    # -- token endpoint ----------------------------------------------------------------
    def token(self, segment, form, authorization=None):
        tenant = self._tenant(segment, error="invalid_request")
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            client_id, secret = self._basic(authorization)
        grant = form.get("grant_type")
        if not grant:
            raise _missing("grant_type")
        if grant != "client_credentials":
            raise EntraError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'."
                             % grant)
        if not client_id:
            raise _missing("client_id")
        app = tenant.apps.get(client_id.lower())
        if app is None:
            raise EntraError(400, "unauthorized_client", 700016,
                             "Application with identifier '%s' was not found in the directory '%s'. This can happen if "
                             "the application has not been installed by the administrator of the tenant or consented "
                             "to by any user in the tenant. You may have sent your authentication request to the "
                             "wrong tenant." % (client_id, tenant.name))
        self._check_scope(tenant, form.get("scope"))
        if form.get("client_assertion"):
            self._check_assertion(tenant, app, form)
            acr = "2"
        elif secret:
            self._check_secret(app, secret)
            acr = "1"
        else:
            raise EntraError(401, "invalid_client", 7000218, "The request body must contain the following parameter: "
                             "'client_assertion' or 'client_secret'.")
        return self._issue(tenant, app, acr)

    @staticmethod
    def _basic(authorization):
        try:
            decoded = base64.b64decode(authorization.split(None, 1)[1]).decode()
        except (binascii.Error, UnicodeDecodeError, IndexError):
            return None, None
        client_id, _colon, secret = decoded.partition(":")
        return client_id, secret

    @staticmethod
    def _check_scope(tenant, scope):
        if not scope:
            raise _missing("scope")
        resources = [s for s in scope.split() if s.lower() not in RESERVED_SCOPES]
        if len(resources) != 1 or not resources[0].endswith("/.default"):
            raise EntraError(400, "invalid_scope", 1002012,
                             "The provided value for scope %s is not valid. Client credential flows must have a scope "
                             "value with /.default suffixed to the resource identifier (application ID URI)." % scope)
        resource = resources[0][:-len("/.default")].rstrip("/")
        host = CLOUDS[tenant.environment][0]
        if resource.lower() not in ("https://" + host, EXO_RESOURCE_APP_ID):
            raise EntraError(400, "invalid_resource", 500011,
                             "The resource principal named %s was not found in the tenant named %s. This can happen "
                             "if the application has not been installed by the administrator of the tenant or "
                             "consented to by any user in the tenant. You might have sent your authentication request "
                             "to the wrong tenant." % (resource, tenant.name))

    @staticmethod
    def _check_secret(app, secret):
        for entry in app.secrets:
            if entry.get("value") != secret:
                continue
            expires = entry.get("expires")
            if entry.get("revoked") or (expires and float(expires) < time.time()):
                raise EntraError(401, "invalid_client", 7000222,
                                 "The provided client secret keys for app '%s' are expired. Visit the Azure portal to "
                                 "create new keys for your app: https://aka.ms/NewClientSecret, or consider using "
                                 "certificate credentials for added security: https://aka.ms/certCreds." %
                                 app.client_id)
            return
        raise EntraError(401, "invalid_client", 7000215,
                         "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                         "secret value, not the client secret ID, for a secret added to app '%s'." % app.client_id)

    def _token_endpoints(self, tenant):
        return ["%s/%s/oauth2/v2.0/token" % (self.app.base_url, seg) for seg in (tenant.tenant_id, tenant.domain)]

    def _check_assertion(self, tenant, app, form):
        if form.get("client_assertion_type") != JWT_BEARER:
            raise EntraError(400, "invalid_request", 900144, "The request body must contain the following parameter: "
                             "'client_assertion_type'.")
        assertion = form["client_assertion"]
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise EntraError(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from None
        if header.get("alg") not in ("RS256", "PS256"):
            raise _bad_assertion("Client assertion failed signature validation. [Reason - The provided signature "
                                 "algorithm is not supported.]")
        cert, thumbprint = self._find_certificate(app, header)
        if cert is None:
            raise _bad_assertion("Client assertion failed signature validation. [Reason - The key was not found., "
                                 "Thumbprint of key used by client: '%s', %s]" % (thumbprint, PORTAL_HINT % app.client_id))
        if cert.not_after < time.time() or cert.not_before > time.time():
            raise _bad_assertion("Client assertion contains an invalid signature. [Reason - The key used is expired., "
                                 "Thumbprint of key used by client: '%s', Found key 'Start=%s, End=%s', %s]" % (
                                     thumbprint, _us_time(cert.not_before), _us_time(cert.not_after),
                                     PORTAL_HINT % app.client_id))
        claims = self._verify_assertion(assertion, cert, header["alg"], tenant)
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            raise EntraError(401, "invalid_client", 700021, "Client assertion application identifier doesn't match "
                             "'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/"
                             "active-directory/develop/active-directory-certificate-credentials .")

    @staticmethod
    def _find_certificate(app, header):
        sha256 = _hex_thumbprint(header.get("x5t#S256", "")) if header.get("x5t#S256") else ""
        sha1 = _hex_thumbprint(header.get("x5t", "")) if header.get("x5t") else ""
        for cert in app.certificate_objects:
            if (sha256 and cert.sha256 == sha256) or (sha1 and cert.sha1 == sha1):
                return cert, sha256 or sha1
        return None, sha256 or sha1

    def _verify_assertion(self, assertion, cert, alg, tenant):
        try:
            return jwt.decode(assertion, cert.public_key, algorithms=[alg], audience=self._token_endpoints(tenant),
                              options={"require": ["exp", "aud", "iss", "sub"]}, leeway=300)
        except jwt.ExpiredSignatureError:
            raise EntraError(401, "invalid_client", 700024, "Client assertion is not within its valid time range. "
                             "Current time: %s. Review the documentation at https://learn.microsoft.com/entra/"
                             "identity-platform/certificate-credentials ." % _us_time(time.time())) from None
        except jwt.InvalidAudienceError:
            raise _bad_assertion("The audience claim of the client assertion is not valid for this token endpoint. "
                                 "Expected '%s'." % self._token_endpoints(tenant)[0]) from None
        except jwt.PyJWTError:
            raise _bad_assertion("Client assertion failed signature validation.") from None

    def _issue(self, tenant, app, acr):
        lifetime = int(self.app.faults.get("token_lifetime"))
        now = int(time.time())
        host = CLOUDS[tenant.environment][0]
        issuer = "https://sts.windows.net/%s/" % tenant.tenant_id
        oid = str(uuid.uuid5(uuid.NAMESPACE_URL, tenant.tenant_id + app.client_id))
        claims = {"aud": "https://" + host, "iss": issuer, "iat": now, "nbf": now, "exp": now + lifetime,
                  "aio": uuid.uuid4().hex, "app_displayname": app.display_name, "appid": app.client_id,
                  "appidacr": acr, "idp": issuer, "idtyp": "app", "oid": oid, "rh": "0.emulator.", "sub": oid,
                  "tid": tenant.tenant_id, "uti": uuid.uuid4().hex[:22], "ver": "1.0"}
        roles = ([APP_ROLE] if app.app_role else []) + ([APP_ROLE_V2] if getattr(app, "app_role_v2", False) else [])
        if roles:
            claims["roles"] = roles
        if app.exchange_role:
            claims["wids"] = [EXCHANGE_ADMIN_ROLE]
        token = jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": self.key_id, "x5t": self.key_id})
        return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}

    @staticmethod
    def service_principal_object_id(tenant, app):
        """The object ID of an app's service principal in the tenant (the ``oid`` of its tokens)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, tenant.tenant_id + app.client_id))

    # -- validation for the admin API ---------------------------------------------------
    def validate(self, token):
        """Claims of a token this emulator issued; raises TokenRejected."""
        claims = self._valid_tokens.get(token)
        if claims is None:
            try:
                claims = jwt.decode(token, self._public_key, algorithms=["RS256"],
                                    options={"verify_aud": False, "verify_exp": False})
            except jwt.PyJWTError:
                raise TokenRejected("The access token is malformed or its signature is invalid.") from None
            with self._lock:
                if len(self._valid_tokens) > 50000:
                    self._valid_tokens.clear()
                self._valid_tokens[token] = claims
        if claims["exp"] <= time.time():
            raise TokenRejected("The access token has expired. Acquire a new token and try again.")
        return claims


def _bad_assertion(text):
    return EntraError(401, "invalid_client", 700027, text)
