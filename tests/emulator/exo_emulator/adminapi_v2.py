"""The documented Exchange Online Admin API (preview): ``POST /adminapi/v2.0/{tenant}/{Endpoint}``.

Same ``CmdletInput`` body, envelope, paging and cost as InvokeCommand (it runs through ExchangeApi's pipeline:
``_spend_budget``, ``_prepare``, ``_complete``, ``_end_service``, ``_reply``), but each endpoint allows only its
documented cmdlets and parameters, and the token must carry the app role Exchange.ManageAsAppV2.
"""

import time
from urllib.parse import parse_qs, unquote, urlsplit

from . import errors
from .entra import APP_ROLE_V2, TokenRejected
from .errors import ExchangeError
from .exchange import Call, Outcome, Reply, parse_cmdlet_input, parse_page_size, parse_select
from .tenant import CLOUDS, EXO_RESOURCE_APP_ID

_CONFIRM = ("Confirm",)
# endpoint -> (canonical name, {cmdlet: allowed parameters}), after learn.microsoft.com/exchange/reference/
# admin-api-endpoints-* request bodies (Confirm accepted everywhere: assumed).
ENDPOINTS = {
    "mailbox": ("Mailbox", {
        "get-mailbox": ("Identity", "ResultSize", "IncludeGrantSendOnBehalfToWithDisplayNames"),
        "set-mailbox": ("Identity", "GrantSendOnBehalfTo") + _CONFIRM}),
    "mailboxfolderpermission": ("MailboxFolderPermission", {
        "get-mailboxfolderpermission": ("Identity", "User", "ResultSize"),
        "add-mailboxfolderpermission": ("Identity", "User", "AccessRights", "SharingPermissionFlags",
                                        "SendNotificationToUser") + _CONFIRM,
        "set-mailboxfolderpermission": ("Identity", "User", "AccessRights", "SharingPermissionFlags",
                                        "SendNotificationToUser") + _CONFIRM,
        "remove-mailboxfolderpermission": ("Identity", "User") + _CONFIRM}),
    "organizationconfig": ("OrganizationConfig", {"get-organizationconfig": ()}),
    "distributiongroupmember": ("DistributionGroupMember", {
        "get-distributiongroupmember": ("Identity", "ResultSize")}),
}


CANONICAL = {c.lower(): c for c in ("Get-Mailbox", "Set-Mailbox", "Get-MailboxFolderPermission",
                                    "Add-MailboxFolderPermission", "Set-MailboxFolderPermission",
                                    "Remove-MailboxFolderPermission", "Get-OrganizationConfig",
                                    "Get-DistributionGroupMember")}


def forbidden(reason):
    return ExchangeError(403, {"error": {"code": "Forbidden", "message": reason}})


def _not_found(endpoint):
    return ExchangeError(404, {"error": {"code": "NotFound",
                                         "message": "The endpoint '%s' does not exist." % endpoint}})


class AdminApiV2:
    """Serves /adminapi/v2.0/{tenant}/{Endpoint} for every tenant of the emulator."""

    def __init__(self, app):
        self.app = app

    def invoke(self, req, segment, endpoint):
        api = self.app.exchange
        tenant = self.app.find_tenant(segment)
        self.app.counters.stamp_api_request(tenant.tenant_id if tenant else None)
        try:
            app = self._authenticate(req, tenant)
            known = ENDPOINTS.get(endpoint.lower())
            if known is None:
                raise _not_found(endpoint)
            name, parameters = parse_cmdlet_input(req.body)
            allowed = known[1].get(name.lower())
            if allowed is None:
                raise errors.bad_request("The cmdlet '%s' isn't available on the %s endpoint. Available: %s."
                                         % (name, known[0], ", ".join(CANONICAL[c] for c in known[1])))
            for key in parameters:
                if str(key).lower() not in {a.lower() for a in allowed}:
                    raise errors.unknown_parameter(key)
        except ExchangeError as exc:
            return api._reply(tenant, req, Outcome.from_error(exc))  # pylint: disable=protected-access
        req.log["cmdlet"] = name
        query = parse_qs(urlsplit(req.path).query, keep_blank_values=True)
        skiptoken = (query.get("$skiptoken") or query.get("%24skiptoken") or [None])[0]
        call = Call(tenant, app, segment, (name, parameters), parse_select(query), skiptoken,
                    parse_page_size(req.headers.get("Prefer")), "invoke")
        req.finish_round_trip()
        api._prepare(call)  # pylint: disable=protected-access
        if call.drop_before:
            return Reply(drop=True)
        if call.outcome is None:
            started = time.monotonic()
            try:
                api._complete(call)  # pylint: disable=protected-access
            finally:
                api._end_service(started, [call])  # pylint: disable=protected-access
        outcome = call.outcome
        self._rewrite(outcome, segment, known[0])
        reply = api._reply(tenant, req, outcome)  # pylint: disable=protected-access
        reply.drop = outcome.drop_after
        return reply

    def _rewrite(self, outcome, segment, endpoint):
        """The envelope InvokeCommand built, with the v2.0 context and nextLink."""
        body = outcome.body
        if not isinstance(body, dict) or "@odata.context" not in body:
            return
        base = "%s/adminapi/v2.0/%s" % (self.app.base_url, segment)
        body["@odata.context"] = base + "/$metadata#Collection(Exchange.GenericHashTable)"
        link = body.get("@odata.nextLink")
        if link:
            body["@odata.nextLink"] = "%s/%s?%s" % (base, endpoint, link.split("?", 1)[1])

    def _authenticate(self, req, tenant):
        api = self.app.exchange
        header = req.headers.get("Authorization") or ""
        if not header[:7].lower() == "bearer ":
            raise api._unauthorized("The request has no bearer token.")  # pylint: disable=protected-access
        try:
            claims = self.app.entra.validate(header[7:].strip())
        except TokenRejected as exc:
            raise api._unauthorized(str(exc)) from None  # pylint: disable=protected-access
        if tenant is None or claims.get("tid") != tenant.tenant_id:
            raise api._unauthorized("The access token was issued for another tenant.")  # pylint: disable=protected-access
        if claims.get("aud") not in ("https://" + CLOUDS[tenant.environment][0], EXO_RESOURCE_APP_ID):
            raise api._unauthorized("The access token has the wrong audience.")  # pylint: disable=protected-access
        app = tenant.apps.get(claims.get("appid", "").lower())
        if app is None:
            raise api._unauthorized("The application of the access token does not exist.")  # pylint: disable=protected-access
        if APP_ROLE_V2 not in claims.get("roles", ()):
            raise forbidden("The access token does not carry the %s application permission the Exchange Online Admin "
                            "API requires." % APP_ROLE_V2)
        return app


def classify(method, parts):
    """(endpoint kind, tenant segment, endpoint name) for ``/adminapi/v2.0/{tenant}/{Endpoint}``, else None."""
    lowered = [p.lower() for p in parts]
    if len(parts) == 4 and lowered[:2] == ["adminapi", "v2.0"]:
        return ("v2" if method == "POST" else "method"), parts[2], unquote(parts[3])
    return None
