"""Envelope, headers, sidecars, $select, request validation and every error body shape."""

import json

import pytest

from conformance_support import AMBIGUOUS_TYPE, DOMAIN, NOT_FOUND_TYPE, detail, is_not_found

ODATA_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"


def test_envelope_keys_and_headers(api):
    response = api.invoke("Get-Mailbox", {"Identity": "ceo"}, headers={"client-request-id": "abc-123"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == ODATA_JSON
    for header in ("Rate-Limit-Limit", "Rate-Limit-Remaining", "Rate-Limit-Reset", "X-Concurrencycount",
                   "request-id"):
        assert header in response.headers
    assert response.headers["client-request-id"] == "abc-123"
    assert response.headers["X-Concurrencycount"] == "0"
    assert response.headers["Rate-Limit-Reset"].endswith("Z")
    body = response.json()
    assert list(body)[:3] == ["@odata.context", "adminapi.warnings@odata.type", "@adminapi.warnings"]
    assert body["@odata.context"].endswith("/$metadata#Collection(Exchange.GenericHashTable)")
    assert body["adminapi.warnings@odata.type"] == "#Collection(String)"
    assert body["@adminapi.warnings"] == []
    assert "@odata.nextLink" not in body
    assert len(body["value"]) == 1


def test_wide_mailbox_row(api):
    row = api.ok("Get-Mailbox", {"Identity": "archive.admin@" + DOMAIN})["value"][0]
    assert len([k for k in row if "@" not in k]) > 100
    assert row["Identity"] == row["Name"] == "archive.admin"
    assert row["EmailAddresses@odata.type"] == "#Collection(String)"
    assert "SMTP:archive.admin@" + DOMAIN in row["EmailAddresses"]
    assert row["Guid@odata.type"] == "#Guid"
    assert row["ExchangeGuid@odata.type"] == "#Guid"
    assert row["RecipientTypeDetails"] == "UserMailbox" and row["RecipientType"] == "UserMailbox"
    assert row["SKUAssigned"] is True and row["IsInactiveMailbox"] is False
    assert row["DistinguishedName"].startswith("CN=archive.admin,OU=" + DOMAIN)
    assert row["ProhibitSendQuota"].endswith("bytes)")
    assert row["CustomAttribute1"] == "" and row["ForwardingAddress"] == ""
    assert None not in row.values()


def test_select_trims_rows_case_insensitively(api):
    row = api.ok("Get-Mailbox", {"Identity": "ceo"}, select=["name", "EmailAddresses", "Guid", "NoSuchProperty"])
    assert row["value"] == [{"Name": "ceo", "EmailAddresses@odata.type": "#Collection(String)",
                             "EmailAddresses": row["value"][0]["EmailAddresses"], "Guid@odata.type": "#Guid",
                             "Guid": row["value"][0]["Guid"]}]


def test_request_validation(api):
    url = api.url()
    for raw in ("{not json", json.dumps({"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": None}}),
                json.dumps({"CmdletInput": {"CmdletName": "Get-Mailbox"}}), json.dumps({"Cmdlet": "x"})):
        response = api.post(url, None, raw=raw)
        assert response.status_code == 400, raw
        assert response.json()["error"]["code"] == "BadRequest"


@pytest.mark.parametrize("shape, status, code, json_detail", [
    ("404", 404, "NotFound", False), ("404-json", 404, "NotFound", True),
    ("500", 500, "InternalServerError", False), ("500-json", 500, "InternalServerError", True)])
def test_not_found_bodies(api, shape, status, code, json_detail):
    api.server.set_faults(not_found_shape=shape)
    response = api.invoke("Get-Mailbox", {"Identity": "nobody@" + DOMAIN})
    assert response.status_code == status
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"] == "Error executing cmdlet"
    assert body["error"]["details"][0]["code"] == "Client"
    message = body["error"]["details"][0]["message"]
    assert message.startswith("{") is json_detail
    if json_detail:
        assert set(json.loads(message)) == {"Message", "TypeName"}
    error_id, exc_type, text = detail(body)
    assert error_id == (None if json_detail else "Ex6F9304")
    assert exc_type == NOT_FOUND_TYPE
    assert text.startswith("The operation couldn't be performed because object 'nobody@%s' couldn't be found on '"
                           % DOMAIN)
    assert body["error"]["innererror"]["internalexception"]["type"] == exc_type


def test_not_found_shapes_are_mixed_and_stable_per_seed(api):
    """The default mixes the four shapes, one per seed, cmdlet and identity: the same call always gets the same."""
    names = ["nobody%d@%s" % (number, DOMAIN) for number in range(40)]
    first = [_shape(api.invoke("Get-Mailbox", {"Identity": name})) for name in names]
    assert set(first) == {(404, False), (404, True), (500, False), (500, True)}
    assert [_shape(api.invoke("Get-Mailbox", {"Identity": name})) for name in names] == first
    api.server.set_faults(seed=7)
    assert [_shape(api.invoke("Get-Mailbox", {"Identity": name})) for name in names] != first


def _shape(response):
    assert is_not_found(response)
    return response.status_code, response.json()["error"]["details"][0]["message"].startswith("{")


def test_ambiguous_identity_body(api):
    response = api.invoke("Get-Mailbox", {"Identity": "jsmith"})
    assert response.status_code == 404  # typed as not-found by default (PS365 capture)
    _error_id, exc_type, text = detail(response.json())
    assert exc_type == NOT_FOUND_TYPE
    assert text == "The operation couldn't be performed because 'jsmith' matches multiple entries."
    api.server.set_faults(ambiguous_shape="ambiguous")
    response = api.invoke("Get-Mailbox", {"Identity": "jsmith"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["details"][0]["code"] == "Context"
    _error_id, exc_type, text = detail(body)
    assert exc_type == AMBIGUOUS_TYPE
    assert text == "The operation couldn't be performed because 'jsmith' matches multiple entries."


def test_unknown_parameter_body(api):
    response = api.invoke("Get-Mailbox", {"Identity": "ceo", "BogusParameter": 1})
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "BadRequest" and body["error"]["message"] == "Invalid Operation"
    _error_id, exc_type, text = detail(body)
    assert exc_type == "Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException"
    assert text.endswith("Invalid cmdlet parameters specified. BogusParameter")


def test_parameter_names_are_case_insensitive(api):
    assert api.rows("Get-Mailbox", {"identity": "ceo", "RESULTSIZE": 1})[0]["Name"] == "ceo"


def test_invalid_enum_values(api):
    cases = [("Add-MailboxPermission", {"Identity": "ceo", "User": "helpdesk", "AccessRights": ["FullAccess", "Owner"]},
              "AccessRights", "ChangeOwner, ChangePermission, DeleteItem, ExternalAccount, FullAccess, ReadPermission"),
             ("Add-MailboxPermission", {"Identity": "ceo", "User": "helpdesk", "AccessRights": "FullAccess",
                                        "InheritanceType": "Everything"}, "InheritanceType", "SelfAndChildren"),
             ("Get-Mailbox", {"RecipientTypeDetails": "Mailbox"}, "RecipientTypeDetails", "SharedMailbox")]
    for cmdlet, params, name, listed in cases:
        response = api.invoke(cmdlet, params)
        assert response.status_code == 400
        error = response.json()["error"]
        assert "details" not in error
        inner = error["innererror"]["internalexception"]
        assert inner["type"] == "Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException"
        assert "Cannot process argument transformation on parameter '%s'" % name in inner["message"]
        assert listed in inner["message"]


def test_empty_or_null_identity_is_rejected(api):
    for value, what in (("", "an empty string"), (None, "null")):
        response = api.invoke("Get-MailboxPermission", {"Identity": value})
        assert response.status_code == 400
        assert "because it is %s" % what in response.json()["error"]["innererror"]["internalexception"]["message"]


def test_unknown_cmdlet_is_403_nul_body(api):
    response = api.invoke("Set-CASMailbox", {"Identity": "ceo"})
    assert response.status_code == 403
    assert len(response.content) == 4096 and set(response.content) == {0}


def test_app_without_exchange_role_is_403_nul_body(api):
    response = api.invoke("Get-Mailbox", {"Identity": "ceo"}, token=api.token(app="no_exchange_role"))
    assert response.status_code == 403
    assert response.content == b"\x00" * 4096


def test_app_without_app_role_is_401(api):
    response = api.invoke("Get-Mailbox", {"Identity": "ceo"}, token=api.token(app="no_app_role"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_missing_or_foreign_token_is_401(api):
    response = api.http.post(api.url(), json={"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {}}},
                             verify=api.server.ca_path)
    assert response.status_code == 401
    other = api.token(tenant="fabrikam.onmicrosoft.com")
    assert api.invoke("Get-Mailbox", {"Identity": "ceo"}, token=other).status_code == 401
    assert api.invoke("Get-Mailbox", {"Identity": "ceo"}, token="abc.def.ghi").status_code == 401


def test_tenant_addressed_by_domain_or_guid(api):
    assert api.rows("Get-Mailbox", {"Identity": "ceo"}, tenant=DOMAIN)[0]["Name"] == "ceo"
    assert api.rows("Get-Mailbox", {"Identity": "ceo"}, tenant="fabrikam.onmicrosoft.com")[0]["Name"] == "ceo"
    contoso = api.rows("Get-Mailbox", {"Identity": "ceo"}, select=["Guid"])[0]["Guid"]
    fabrikam = api.rows("Get-Mailbox", {"Identity": "ceo"}, select=["Guid"], tenant="fabrikam.onmicrosoft.com")
    assert contoso != fabrikam[0]["Guid"]
