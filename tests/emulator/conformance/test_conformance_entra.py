"""Entra ID: discovery, client credentials (secret, certificate), AADSTS errors, token lifetime."""

import base64
import time
import uuid

import jwt

from conformance_support import DOMAIN, SCOPE


def _error(response, status, error, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith("AADSTS%d: " % code)
    for key in ("timestamp", "trace_id", "correlation_id"):
        assert body[key]
    return body


def test_openid_configuration_by_domain_and_guid(api):
    for segment in (DOMAIN, api.conn["tenant_id"]):
        response = api.http.get("%s/%s/v2.0/.well-known/openid-configuration" % (api.conn["authority_url"], segment),
                                verify=api.server.ca_path)
        assert response.status_code == 200
        config = response.json()
        base = "%s/%s" % (api.conn["authority_url"], api.conn["tenant_id"])
        assert config["token_endpoint"] == base + "/oauth2/v2.0/token"
        assert config["authorization_endpoint"] == base + "/oauth2/v2.0/authorize"
        assert config["issuer"] == base + "/v2.0"
        assert config["jwks_uri"] == base + "/discovery/v2.0/keys"


def test_unknown_tenant_is_aadsts90002(api):
    response = api.http.get("%s/nowhere.onmicrosoft.com/v2.0/.well-known/openid-configuration"
                            % api.conn["authority_url"], verify=api.server.ca_path)
    body = _error(response, 400, "invalid_tenant", 90002)
    assert "Tenant 'nowhere.onmicrosoft.com' not found" in body["error_description"]


def test_secret_token_claims(api):
    response = api.token_response()
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == body["ext_expires_in"] == 3599
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "https://outlook.office365.com"
    assert claims["tid"] == api.conn["tenant_id"]
    assert claims["appid"] == api.conn["client_id"]
    assert claims["roles"] == ["Exchange.ManageAsApp", "Exchange.ManageAsAppV2"]
    assert claims["exp"] - claims["iat"] == 3599
    assert api.server.counters()["tokens_issued"] == 1


def test_msal_secret_pfx_pem_and_encrypted_pem(api):
    conn = api.conn
    with open(conn["certificate_path"], encoding="ascii") as handle:
        pem = handle.read()
    with open(conn["certificate_encrypted_path"], encoding="ascii") as handle:
        encrypted = handle.read()
    credentials = [
        conn["client_secret"],
        {"private_key_pfx_path": conn["certificate_pfx_path"], "passphrase": conn["certificate_password"]},
        {"private_key": pem, "thumbprint": conn["certificate_thumbprint"]},
        {"private_key": encrypted, "thumbprint": conn["certificate_thumbprint"],
         "passphrase": conn["certificate_password"]},
    ]
    for credential in credentials:
        result = api.msal_app(credential).acquire_token_for_client(scopes=[SCOPE])
        assert "access_token" in result, result
        claims = jwt.decode(result["access_token"], options={"verify_signature": False})
        assert claims["appidacr"] == ("1" if isinstance(credential, str) else "2")


def test_wrong_secret_unknown_client_no_credentials(api):
    body = _error(api.token_response(secret="wrong"), 401, "invalid_client", 7000215)
    assert api.conn["client_id"] in body["error_description"]
    unknown = str(uuid.uuid4())
    body = _error(api.token_response(client_id=unknown), 400, "unauthorized_client", 700016)
    assert unknown in body["error_description"]
    response = api.http.post("%s/%s/oauth2/v2.0/token" % (api.conn["authority_url"], DOMAIN), verify=api.server.ca_path,
                             data={"grant_type": "client_credentials", "client_id": api.conn["client_id"],
                                   "scope": SCOPE})
    _error(response, 401, "invalid_client", 7000218)


def test_revoked_secret_is_aadsts7000222(api):
    api.server.update_app(api.conn["client_id"], revoke_secret=True)
    _error(api.token_response(), 401, "invalid_client", 7000222)


def test_scope_of_another_cloud_or_without_default(api):
    body = _error(api.token_response(scope="https://outlook.office365.us/.default"), 400, "invalid_resource", 500011)
    assert "https://outlook.office365.us" in body["error_description"]
    _error(api.token_response(scope="https://outlook.office365.com/Exchange.Manage"), 400, "invalid_scope", 1002012)
    assert api.token_response(scope="00000002-0000-0ff1-ce00-000000000000/.default").status_code == 200


def test_expired_certificate_assertion(api):
    app = api.conn["apps"]["expired_certificate"]
    result = api.msal_app({"private_key_pfx_path": app["certificate_pfx_path"],
                           "passphrase": app["certificate_password"]},
                          client_id=app["client_id"]).acquire_token_for_client(scopes=[SCOPE])
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700027]
    assert "The key used is expired" in result["error_description"]


def test_certificate_not_registered_on_app(api):
    other = api.conn["apps"]["no_app_role"]
    result = api.msal_app({"private_key_pfx_path": other["certificate_pfx_path"],
                           "passphrase": other["certificate_password"]}).acquire_token_for_client(scopes=[SCOPE])
    assert result["error_codes"] == [700027]
    assert "The key was not found" in result["error_description"]


def _assertion(api, key_path, thumbprint_of, **claims):
    conn = api.conn
    with open(key_path, "rb") as handle:
        key = handle.read()
    now = int(time.time())
    payload = {"aud": "%s/%s/oauth2/v2.0/token" % (conn["authority_url"], conn["tenant_id"]),
               "iss": conn["client_id"], "sub": conn["client_id"], "exp": now + 600, "iat": now,
               "jti": str(uuid.uuid4())}
    payload.update(claims)
    x5t = base64.urlsafe_b64encode(bytes.fromhex(thumbprint_of)).decode().rstrip("=")
    return jwt.encode(payload, key, algorithm="RS256", headers={"x5t": x5t})


def _assert_with(api, assertion):
    return api.http.post("%s/%s/oauth2/v2.0/token" % (api.conn["authority_url"], api.conn["tenant_id"]),
                         verify=api.server.ca_path,
                         data={"grant_type": "client_credentials", "client_id": api.conn["client_id"],
                               "scope": SCOPE, "client_assertion": assertion,
                               "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})


def test_assertion_signed_by_wrong_key_aud_or_expired(api):
    conn = api.conn
    forged = _assertion(api, conn["apps"]["no_app_role"]["certificate_path"], conn["certificate_thumbprint"])
    body = _error(_assert_with(api, forged), 401, "invalid_client", 700027)
    assert "signature validation" in body["error_description"]
    wrong_aud = _assertion(api, conn["certificate_path"], conn["certificate_thumbprint"], aud="https://elsewhere")
    _error(_assert_with(api, wrong_aud), 401, "invalid_client", 700027)
    expired = _assertion(api, conn["certificate_path"], conn["certificate_thumbprint"], exp=int(time.time()) - 3600)
    _error(_assert_with(api, expired), 401, "invalid_client", 700024)
    wrong_issuer = _assertion(api, conn["certificate_path"], conn["certificate_thumbprint"], iss="someone-else")
    _error(_assert_with(api, wrong_issuer), 401, "invalid_client", 700021)
    good = _assertion(api, conn["certificate_path"], conn["certificate_thumbprint"])
    assert _assert_with(api, good).status_code == 200


def test_token_expiry_mid_run_gives_401_invalid_token(api):
    api.server.set_faults(token_lifetime=1)
    token = api.token(fresh=True)
    assert api.invoke("Get-Mailbox", {"Identity": "ceo"}, token=token).status_code == 200
    time.sleep(1.1)
    response = api.invoke("Get-Mailbox", {"Identity": "ceo"}, token=token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "expired" in response.json()["error"]["message"]


def test_app_role_revoked_at_run_time_affects_new_tokens_only(api):
    old = api.token(fresh=True)
    api.server.update_app(api.conn["client_id"], app_role=False)
    assert api.invoke("Get-Mailbox", {"Identity": "ceo"}, token=old).status_code == 200
    new = api.token(fresh=True)
    assert api.invoke("Get-Mailbox", {"Identity": "ceo"}, token=new).status_code == 401
