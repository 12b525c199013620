"""The documented Admin API: POST /adminapi/v2.0/{tenant}/{Endpoint}, Exchange.ManageAsAppV2, paging."""

import jwt
import pytest

HASHTABLE = "#Exchange.GenericHashTable"


def _url(api, endpoint, tenant=None):
    return "%s/adminapi/v2.0/%s/%s" % (api.conn["api_url"], tenant or api.conn["tenant_id"], endpoint)


def _call(api, endpoint, cmdlet, parameters, app=None, headers=None, url=None):
    body = {"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}}
    return api.post(url or _url(api, endpoint), body, token=api.token(app=app), headers=headers)


def test_tokens_carry_the_v2_role_per_app(api):
    roles = {}
    for app in (None, "admin_api_only", "no_app_role", "no_exchange_role"):
        claims = jwt.decode(api.token(app=app), options={"verify_signature": False})
        roles[app] = claims.get("roles", [])
    assert roles == {None: ["Exchange.ManageAsApp", "Exchange.ManageAsAppV2"],
                     "admin_api_only": ["Exchange.ManageAsAppV2"], "no_app_role": [],
                     "no_exchange_role": ["Exchange.ManageAsApp"]}


@pytest.mark.parametrize("app", [None, "admin_api_only"])
def test_mailbox_endpoint_get_and_set_send_on_behalf(api, app):
    response = _call(api, "Mailbox", "Get-Mailbox", {"Identity": "ceo", "IncludeGrantSendOnBehalfTowithDisplayNames":
                                                     True}, app=app)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"].startswith(api.conn["api_url"] + "/adminapi/v2.0/")
    assert body["value"][0]["GrantSendOnBehalfTo"] == ["helpdesk"]
    assert body["value"][0]["GrantSendOnBehalfToWithDisplayNames"] == ["Helpdesk"]
    edit = _call(api, "Mailbox", "Set-Mailbox", {"Identity": "ceo", "GrantSendOnBehalfTo": {
        "@odata.type": HASHTABLE, "add": ["archive.admin"]}}, app=app)
    assert edit.status_code == 200
    assert api.rows("Get-Mailbox", {"Identity": "ceo"}, select=["GrantSendOnBehalfTo"])[0][
        "GrantSendOnBehalfTo"] == ["helpdesk", "archive.admin"]


def test_folder_permission_endpoint(api):
    identity = "zoe.muller:\\Kalender"
    added = _call(api, "MailboxFolderPermission", "Add-MailboxFolderPermission", {
        "Identity": identity, "User": "archive.admin", "AccessRights": ["Reviewer"]}, app="admin_api_only")
    assert added.status_code == 200 and added.json()["value"][0]["User"] == "Archive Admin"
    again = _call(api, "MailboxFolderPermission", "Add-MailboxFolderPermission", {
        "Identity": identity, "User": "archive.admin", "AccessRights": ["Reviewer"]}, app="admin_api_only")
    assert again.status_code == 400 and "UserAlreadyExistsInPermissionEntryException" in again.text
    for cmdlet, params in (("Set-MailboxFolderPermission", {"AccessRights": "Editor",
                                                            "SharingPermissionFlags": "Delegate"}),
                           ("Remove-MailboxFolderPermission", {"Confirm": False})):
        params = dict({"Identity": identity, "User": "archive.admin"}, **params)
        response = _call(api, "MailboxFolderPermission", cmdlet, params)
        assert response.status_code == 200, response.text
    rows = _call(api, "MailboxFolderPermission", "Get-MailboxFolderPermission", {"Identity": identity}).json()["value"]
    assert [r["User"] for r in rows] == ["Default", "Anonymous", "José Núñez"]


def test_only_the_documented_cmdlets_and_parameters(api):
    wrong_cmdlet = _call(api, "Mailbox", "Get-MailboxPermission", {"Identity": "ceo"})
    assert wrong_cmdlet.status_code == 400
    assert "Get-Mailbox, Set-Mailbox" in wrong_cmdlet.json()["error"]["innererror"]["internalexception"]["message"]
    wrong_parameter = _call(api, "Mailbox", "Get-Mailbox", {"Filter": "Name -eq 'ceo'"})
    assert wrong_parameter.status_code == 400 and "Filter" in wrong_parameter.json()["error"]["details"][0]["message"]
    missing = _call(api, "MailboxPermission", "Get-MailboxPermission", {"Identity": "ceo"})
    assert missing.status_code == 404
    get = api.http.get(_url(api, "Mailbox"), headers=api.headers(), verify=api.server.ca_path)
    assert get.status_code == 405
    config = _call(api, "OrganizationConfig", "Get-OrganizationConfig", {})
    assert config.status_code == 200 and config.json()["value"][0]["EwsEnabled"] is None


def test_v2_role_is_required(api):
    for app in ("no_app_role", "no_exchange_role", "expired_certificate"):
        response = _call(api, "Mailbox", "Get-Mailbox", {"Identity": "ceo"}, app=app)
        assert response.status_code == 403, app
        assert "Exchange.ManageAsAppV2" in response.json()["error"]["message"]
    api.server.update_app(api.conn["client_id"], app_role_v2=False)
    token = api.token(fresh=True)
    assert api.post(_url(api, "Mailbox"), {"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {}}},
                    token=token).status_code == 403
    assert api.invoke("Get-Mailbox", {"Identity": "ceo"}, token=token).status_code == 200
    # The documented API's app cannot use the beta InvokeCommand (no Exchange.ManageAsApp).
    assert api.invoke("Get-Mailbox", {"Identity": "ceo"}, token=api.token(app="admin_api_only")).status_code == 401
    no_token = api.http.post(_url(api, "Mailbox"), json={"CmdletInput": {"CmdletName": "Get-Mailbox",
                                                                         "Parameters": {}}},
                             verify=api.server.ca_path)
    assert no_token.status_code == 401


def test_paging_follows_v2_links(big_api):
    api = big_api
    body = {"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {"ResultSize": "Unlimited"}}}
    url, names, pages = _url(api, "Mailbox") + "?$select=Name", [], 0
    while url:
        response = api.post(url, body, token=api.token(app="admin_api_only"), headers={"Prefer": "odata.maxpagesize=1000"})
        assert response.status_code == 200, response.text
        page = response.json()
        names.extend(r["Name"] for r in page["value"])
        url = page.get("@odata.nextLink")
        assert url is None or url.startswith(_url(api, "Mailbox") + "?")
        pages += 1
    assert pages == 3 and len(names) == len(set(names)) > 2000
    counters = api.server.counters()
    assert counters["cmdlets"]["Get-Mailbox"] == 1 and counters["executions"] == 3


def test_v2_cmdlets_cost_one_execution_each(api):
    api.token()
    api.server.reset_counters()
    _call(api, "MailboxFolderPermission", "Get-MailboxFolderPermission", {"Identity": "ceo:\\Calendar"})
    _call(api, "Mailbox", "Set-Mailbox", {"Identity": "ceo", "GrantSendOnBehalfTo": []})
    counters = api.server.counters()
    assert counters["executions"] == 2 and counters["writes"] == 1 and counters["http_requests"] == 2
