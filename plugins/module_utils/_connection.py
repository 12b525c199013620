# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Connection options shared by every module: argument spec, clouds, validated settings."""

import os
import re
from urllib.parse import urlsplit

from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.m365.exchange.plugins.module_utils._admin_api import ADMIN_APIS, INVOKE_COMMAND
from ansible_collections.m365.exchange.plugins.module_utils._errors import ConfigurationError

# (login host, Exchange Online host) per ExchangeEnvironmentName; the token scope is "<Exchange host>/.default".
# GCC High: both of Microsoft's sources agree. DoD: outlook-dod.office365.us, the host of Microsoft's Exchange
# Online Admin API documentation (learn.microsoft.com/exchange/reference/admin-api-get-started) and of Microsoft's
# DoD endpoint list; Connect-ExchangeOnline documents webmail.apps.mil. 21Vianet: partner.outlook.cn, where the
# ExchangeOnlineManagement module reaches the adminapi/beta endpoint this collection calls; the Admin API
# documentation gives outlook.office365.cn for adminapi/v2.0. api_url overrides the host (doc_fragments/connection.py).
CLOUDS = {
    "O365Default": ("https://login.microsoftonline.com", "https://outlook.office365.com"),
    "O365USGovGCCHigh": ("https://login.microsoftonline.us", "https://outlook.office365.us"),
    "O365USGovDoD": ("https://login.microsoftonline.us", "https://outlook-dod.office365.us"),
    "O365China": ("https://login.chinacloudapi.cn", "https://partner.outlook.cn"),
}


def env_fallback(*names):
    """The first of these environment variables that is set and not empty.

    Unlike Ansible's env_fallback, an empty variable counts as unset: AWX injects every variable of a
    credential type, also those whose field was left empty.
    """
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise AnsibleFallbackNotFound


CONNECTION_ARGUMENT_SPEC = dict(
    tenant=dict(type="str", fallback=(env_fallback, ["EXO_TENANT", "AZURE_TENANT"])),
    client_id=dict(type="str", fallback=(env_fallback, ["EXO_CLIENT_ID", "AZURE_CLIENT_ID"])),
    client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["EXO_CLIENT_SECRET", "AZURE_SECRET"])),
    certificate_path=dict(type="path", fallback=(env_fallback, ["EXO_CERTIFICATE_PATH"])),
    certificate_password=dict(type="str", no_log=True, fallback=(env_fallback, ["EXO_CERTIFICATE_PASSWORD"])),
    environment=dict(type="str", choices=sorted(CLOUDS), default="O365Default", fallback=(env_fallback, ["EXO_ENVIRONMENT"])),
    authority_url=dict(type="str", fallback=(env_fallback, ["EXO_AUTHORITY_URL"])),
    api_url=dict(type="str", fallback=(env_fallback, ["EXO_API_URL"])),
    ca_path=dict(type="path", fallback=(env_fallback, ["EXO_CA_PATH"])),
    validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["EXO_VALIDATE_CERTS"])),
    admin_api=dict(type="str", choices=list(ADMIN_APIS), default=INVOKE_COMMAND,
                   fallback=(env_fallback, ["EXO_ADMIN_API"])),
)

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.IGNORECASE)


class ConnectionSettings:
    """Validated connection settings; the secret is kept out of repr()."""

    def __init__(self, tenant, client_id, client_secret=None, certificate_path=None, certificate_password=None,
                 environment="O365Default", authority_url=None, api_url=None, ca_path=None, validate_certs=True,
                 admin_api=INVOKE_COMMAND):
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = client_secret
        self.certificate_path = certificate_path
        self.certificate_password = certificate_password
        self.environment = environment
        login_url, outlook_url = CLOUDS[environment]
        self.authority_url = (authority_url or login_url).rstrip("/")
        self.api_url = (api_url or outlook_url).rstrip("/")
        # The token audience belongs to the cloud, not to an api_url override.
        self.scope = outlook_url + "/.default"
        self.ca_path = ca_path
        self.validate_certs = validate_certs
        self.admin_api = admin_api  # which cmdlets go to the Admin API v2.0 (_admin_api)

    def __repr__(self):
        return "ConnectionSettings(tenant=%r, client_id=%r, environment=%r, api_url=%r)" % (
            self.tenant, self.client_id, self.environment, self.api_url)

    @property
    def verify(self):
        """The value for requests' verify=: a CA path, True or False."""
        if not self.validate_certs:
            return False
        return self.ca_path or True

    @property
    def uses_certificate(self):
        return bool(self.certificate_path)

    @classmethod
    def from_params(cls, params):
        """Build settings from module parameters, naming every problem found."""
        problems = []
        tenant = _stripped(params.get("tenant"))
        client_id = _stripped(params.get("client_id"))
        secret = params.get("client_secret") or None
        certificate = params.get("certificate_path") or None
        environment = params.get("environment") or "O365Default"
        if not tenant:
            problems.append("tenant is required (or set EXO_TENANT / AZURE_TENANT): the tenant ID (a GUID) "
                            "or its initial domain, for example contoso.onmicrosoft.com")
        elif not (_GUID.match(tenant) or _DOMAIN.match(tenant)):
            problems.append("tenant '%s' is neither a GUID nor a domain name; use the tenant ID or a domain "
                            "such as contoso.onmicrosoft.com" % tenant)
        if not client_id:
            problems.append("client_id is required (or set EXO_CLIENT_ID / AZURE_CLIENT_ID): the application "
                            "(client) ID of the app registration")
        elif not _GUID.match(client_id):
            problems.append("client_id '%s' is not a GUID: use the Application (client) ID from the Overview page of "
                            "the app registration, such as 00000000-0000-0000-0000-000000000000" % client_id)
        if secret and certificate:
            problems.append("client_secret and certificate_path are mutually exclusive: authenticate with one "
                            "of them (check EXO_CLIENT_SECRET / AZURE_SECRET in the environment)")
        elif not secret and not certificate:
            problems.append("either client_secret (EXO_CLIENT_SECRET / AZURE_SECRET) or certificate_path "
                            "(EXO_CERTIFICATE_PATH) is required")
        if environment not in CLOUDS:
            problems.append("environment '%s' is not one of %s" % (environment, ", ".join(sorted(CLOUDS))))
        for option in ("authority_url", "api_url"):
            url = params.get(option)
            if url and not url.lower().startswith("https://"):
                problems.append("%s '%s' must be an https:// URL" % (option, url))
            elif url and not urlsplit(url).hostname:
                problems.append("%s '%s' has no host name: use an https:// URL such as https://outlook.office365.com"
                                % (option, url))
        ca_path = params.get("ca_path")
        if ca_path and not os.path.exists(ca_path):
            problems.append("ca_path '%s' does not exist: give a PEM file (or a directory) of the CA certificates that "
                            "issued the TLS certificates of the login and Exchange hosts" % ca_path)
        if problems:
            raise ConfigurationError("Invalid connection settings: " + "; ".join(problems))
        return cls(
            tenant=tenant,
            client_id=client_id,
            client_secret=secret,
            certificate_path=certificate,
            certificate_password=params.get("certificate_password") or None,
            environment=environment,
            authority_url=params.get("authority_url"),
            api_url=params.get("api_url"),
            ca_path=params.get("ca_path"),
            validate_certs=params.get("validate_certs", True),
            admin_api=params.get("admin_api") or INVOKE_COMMAND,
        )


def _stripped(value):
    return value.strip() if isinstance(value, str) else value
