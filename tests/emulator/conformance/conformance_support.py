"""Helpers for the conformance tests: a raw-HTTP client of the emulator (tokens, InvokeCommand, $batch)."""

import json

import msal
import requests

SCOPE = "https://outlook.office365.com/.default"
NOT_FOUND_TYPE = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"
AMBIGUOUS_TYPE = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException"
DOMAIN = "contoso.onmicrosoft.com"
OTHER_DOMAIN = "fabrikam.onmicrosoft.com"


def session_for(ca_path):
    """A requests session that really uses our CA (REQUESTS_CA_BUNDLE would override Session.verify)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = ca_path
    return session


class Api:
    """Raw HTTP against one emulator: tokens, InvokeCommand, $batch."""

    def __init__(self, emulator):
        self.server = emulator
        self.http = session_for(emulator.ca_path)
        self._tokens = {}

    @property
    def conn(self):
        return self.server.connection

    def record(self, tenant=None):
        if tenant is None:
            return self.conn
        return next(t for t in self.conn["tenants"] if tenant in (t["tenant"], t["tenant_id"]))

    def token_response(self, tenant=None, client_id=None, secret=None, scope=SCOPE, **form):
        record = self.record(tenant)
        data = {"grant_type": "client_credentials", "client_id": client_id or record["client_id"],
                "client_secret": secret or record["client_secret"], "scope": scope}
        data.update(form)
        data = {k: v for k, v in data.items() if v is not None}
        segment = tenant or record["tenant_id"]
        return self.http.post("%s/%s/oauth2/v2.0/token" % (self.conn["authority_url"], segment), data=data,
                              verify=self.server.ca_path)

    def token(self, tenant=None, app=None, fresh=False):
        key = (tenant, app)
        if fresh or key not in self._tokens:
            record = self.record(tenant)
            creds = record["apps"][app] if app else record
            response = self.token_response(tenant, creds["client_id"], creds["client_secret"])
            assert response.status_code == 200, response.text
            self._tokens[key] = response.json()["access_token"]
        return self._tokens[key]

    def url(self, tenant=None, endpoint="InvokeCommand"):
        record = self.record(tenant)
        return "%s/adminapi/beta/%s/%s" % (self.conn["api_url"], tenant or record["tenant_id"], endpoint)

    def headers(self, token=None, tenant=None, **extra):
        headers = {"Authorization": "Bearer " + (token or self.token(tenant)), "Content-Type": "application/json"}
        headers.update(extra)
        return headers

    def post(self, url, body, token=None, tenant=None, headers=None, raw=None):
        merged = self.headers(token, tenant)
        merged.update(headers or {})
        data = raw if raw is not None else json.dumps(body)
        return self.http.post(url, data=data, headers=merged, verify=self.server.ca_path)

    def invoke(self, cmdlet, parameters=None, select=None, tenant=None, token=None, headers=None):
        url = self.url(tenant)
        if select:
            url += "?$select=" + ",".join(select)
        body = {"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters if parameters is not None else {}}}
        return self.post(url, body, token, tenant, headers)

    def ok(self, cmdlet, parameters=None, **kwargs):
        response = self.invoke(cmdlet, parameters, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def rows(self, cmdlet, parameters=None, **kwargs):
        return [strip(r) for r in self.ok(cmdlet, parameters, **kwargs)["value"]]

    def all_pages(self, cmdlet, parameters, page_size=None, select=None):
        headers = {"Prefer": "odata.maxpagesize=%d" % page_size} if page_size else {}
        body = {"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}}
        url = self.url() + ("?$select=" + ",".join(select) if select else "")
        pages = []
        while url:
            response = self.post(url, body, headers=headers)
            assert response.status_code == 200, response.text
            pages.append(response.json())
            url = pages[-1].get("@odata.nextLink")
        return pages

    def batch(self, requests_, headers=None, tenant=None):
        merged = {"Prefer": "odata.continue-on-error"}
        merged.update(headers or {})
        return self.post(self.url(tenant, "$batch"), {"requests": requests_}, tenant=tenant, headers=merged)

    def msal_app(self, credential, tenant=None, client_id=None):
        record = self.record(tenant)
        return msal.ConfidentialClientApplication(
            client_id or record["client_id"], client_credential=credential,
            authority="%s/%s" % (self.conn["authority_url"], tenant or record["tenant_id"]),
            instance_discovery=False, azure_region=False, http_client=session_for(self.server.ca_path))


def strip(row):
    """A row without its @odata.type sidecars."""
    return {k: v for k, v in row.items() if "@" not in k}


def sub_request(request_id, cmdlet, parameters, url="InvokeCommand"):
    return {"id": str(request_id), "method": "POST", "url": url,
            "body": {"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}},
            "headers": {"Content-Type": "application/json"}}


def detail(body):
    """(error id, exception type, text) of an error body's first detail, in either live format: "Id|Type|Text"
    or a JSON string {"Message", "TypeName"} (the error id is None there)."""
    message = body["error"]["details"][0]["message"]
    if message.startswith("{"):
        data = json.loads(message)
        return None, data["TypeName"], data["Message"]
    error_id, exc_type, text = message.split("|", 2)
    return error_id, exc_type, text


def is_not_found(response):
    """A not-found in any of its live shapes: 404 or 500, detail in either format."""
    if response.status_code not in (404, 500):
        return False
    _error_id, exc_type, text = detail(response.json())
    return exc_type == NOT_FOUND_TYPE and "couldn't be found" in text


def is_missing(response):
    """Any not-found answer of the service: 404, or 500 with ManagementObjectNotFoundException (live shape)."""
    if response.status_code == 404:
        return True
    return response.status_code == 500 and NOT_FOUND_TYPE.rsplit(".", 1)[-1] in response.text
