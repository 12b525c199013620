# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # Connection options of every module of the collection.
    # Modules cannot document 'env:'; the environment variables are named in the descriptions.
    DOCUMENTATION = r"""
options:
  tenant:
    description:
      - The Microsoft 365 tenant, as its ID (a GUID) or a domain such as V(contoso.onmicrosoft.com).
      - If not set, the environment variable E(EXO_TENANT) is used, then E(AZURE_TENANT).
      - Required, from the option or the environment.
    type: str
  client_id:
    description:
      - The application (client) ID of the app registration the modules authenticate as (app-only).
      - The app needs the V(Exchange.ManageAsApp) application permission of Office 365 Exchange Online, admin consent,
        and an Exchange role (for example Exchange Administrator, or a role group with the Mail Recipients role).
      - If not set, the environment variable E(EXO_CLIENT_ID) is used, then E(AZURE_CLIENT_ID).
      - Required, from the option or the environment.
    type: str
  client_secret:
    description:
      - A client secret of the app registration.
      - If not set, the environment variable E(EXO_CLIENT_SECRET) is used, then E(AZURE_SECRET)
        (the variable the AWX Microsoft Azure credential injects).
      - Mutually exclusive with O(certificate_path); one of them is required. Certificates are preferred.
    type: str
  certificate_path:
    description:
      - Path to the certificate of the app registration, on the host that runs the module.
      - Either a PEM file holding the private key and the certificate, or a PFX/PKCS#12 file.
      - The thumbprint is derived from the certificate; it is not typed by hand.
      - If not set, the environment variable E(EXO_CERTIFICATE_PATH) is used.
    type: path
  certificate_password:
    description:
      - The password of the PFX file, or of an encrypted PEM private key.
      - If not set, the environment variable E(EXO_CERTIFICATE_PASSWORD) is used.
    type: str
  environment:
    description:
      - The Microsoft 365 cloud, named as the ExchangeEnvironmentName of the ExchangeOnlineManagement module.
      - It selects the Entra ID login host, the Exchange Online host and the token scope.
      - V(O365Default) (also GCC) uses C(login.microsoftonline.com) and C(outlook.office365.com);
        V(O365USGovGCCHigh) C(login.microsoftonline.us) and C(outlook.office365.us);
        V(O365USGovDoD) C(login.microsoftonline.us) and C(outlook-dod.office365.us);
        V(O365China) (21Vianet) C(login.chinacloudapi.cn) and C(partner.outlook.cn).
      - For DoD the host is the one Microsoft's Exchange Online Admin API documentation names (the
        ExchangeOnlineManagement module documents C(webmail.apps.mil)). For 21Vianet it is the host the
        ExchangeOnlineManagement module uses for the same C(adminapi/beta) endpoint this collection calls (the Admin
        API documentation names C(outlook.office365.cn) for its C(adminapi/v2.0) endpoints). If your tenant answers
        on the other host, set O(api_url) to it; the token scope stays the one of O(environment).
      - If not set, the environment variable E(EXO_ENVIRONMENT) is used, then V(O365Default).
    type: str
    choices: [O365China, O365Default, O365USGovDoD, O365USGovGCCHigh]
    default: O365Default
  authority_url:
    description:
      - Overrides the Entra ID login host of O(environment), for example V(https://login.microsoftonline.com).
      - Used to reach the collection's emulator or a proxy. The token scope still follows O(environment).
      - If not set, the environment variable E(EXO_AUTHORITY_URL) is used.
    type: str
  api_url:
    description:
      - Overrides the Exchange Online host of O(environment), for example V(https://outlook.office365.com), or
        V(https://outlook.office365.cn) or V(https://webmail.apps.mil) (see O(environment)). The token scope still
        follows O(environment).
      - If not set, the environment variable E(EXO_API_URL) is used.
    type: str
  ca_path:
    description:
      - A PEM file of CA certificates used to verify the TLS certificates of the login and Exchange hosts.
      - Takes precedence over E(REQUESTS_CA_BUNDLE).
      - If not set, the environment variable E(EXO_CA_PATH) is used.
    type: path
  validate_certs:
    description:
      - Whether to verify TLS certificates. Turning it off is insecure and is reported as a warning.
      - If not set, the environment variable E(EXO_VALIDATE_CERTS) is used.
    type: bool
    default: true
  admin_api:
    description:
      - Which Exchange Online API the cmdlets go to.
      - V(invoke_command) sends every cmdlet to C(adminapi/beta/{tenant}/InvokeCommand), the REST endpoint the
        ExchangeOnlineManagement v3 module uses. The app needs the V(Exchange.ManageAsApp) application permission and an
        Exchange role (see O(client_id)).
      - V(v2) sends the cmdlets that the documented Exchange Online Admin API v2.0 (preview) has an endpoint for to
        C(adminapi/v2.0/{tenant}/Mailbox) (C(Get-Mailbox), C(Set-Mailbox -GrantSendOnBehalfTo)) and
        C(adminapi/v2.0/{tenant}/MailboxFolderPermission) (C(Get/Add/Set/Remove-MailboxFolderPermission)), one request
        per cmdlet (that API has no C($batch)); every other cmdlet, and any call with a parameter the endpoint does not
        document, still goes to InvokeCommand. For those endpoints the app needs the V(Exchange.ManageAsAppV2)
        application permission of Office 365 Exchange Online (admin consent) and an Exchange role that allows the cmdlet
        (for example Recipient Management). It keeps V(Exchange.ManageAsApp) for the rest (trustees and identities are
        looked up with C(Get-Recipient) and C(Get-User), which only InvokeCommand has; FullAccess and SendAs have no
        Admin API v2.0 endpoint).
      - If not set, the environment variable E(EXO_ADMIN_API) is used, then V(invoke_command).
    type: str
    choices: [invoke_command, v2]
    default: invoke_command
requirements:
  - msal >= 1.24.0
  - requests >= 2.25.0
notes:
  - The modules run on the host of the task, usually the controller with a local connection; the Python packages
    and the certificate file must be there, and the environment variables are read there.
  - All modules of the collection belong to the action group C(m365.exchange.exchange), so the connection options can
    be set once with C(module_defaults) for C(group/m365.exchange.exchange).
  - One access token is acquired per module run and reused for every call the task makes.
"""

    # The attribute every module of the collection shares: membership of the action group.
    ACTION_GROUP = r"""
attributes:
  action_group:
    description: Use C(group/m365.exchange.exchange) in C(module_defaults) to set the options of this module.
    support: full
    membership:
      - m365.exchange.exchange
"""
