"""RBAC for Applications: service principals, scopes, app role assignments, Test-ServicePrincipalAuthorization,
Get-OrganizationConfig."""

import pytest

from conformance_support import DOMAIN, is_missing

APP_ID = "71487acd-ec93-476d-bd0e-6c8b31831053"
OBJECT_ID = "6233fba6-0198-4277-892f-9275bf728bcc"
AUTHORIZATION_KEYS = {"RoleName", "GrantedPermissions", "AllowedResourceScope", "ScopeType", "InScope"}


def _new_app(api, display="Archive Reader"):
    return api.ok("New-ServicePrincipal", {"AppId": APP_ID, "ObjectId": OBJECT_ID, "DisplayName": display})


def _authorization(api, app, resource=None):
    params = {"Identity": app}
    if resource:
        params["Resource"] = resource
    return api.rows("Test-ServicePrincipalAuthorization", params)


def test_pre_existing_rbac_objects(api):
    principals = api.rows("Get-ServicePrincipal", {})
    assert [p["DisplayName"] for p in principals] == ["Contoso Archiver", ""]
    assert all(p["Identity"] == p["ObjectId"] for p in principals)
    assert [s["Name"] for s in api.rows("Get-ManagementScope", {})] == ["Legal Department"]
    apps = api.rows("Get-ManagementRoleAssignment", {"RoleAssigneeType": "ServicePrincipal"})
    assert {(a["Role"], a["CustomResourceScope"], a["RecipientWriteScope"]) for a in apps} == {
        ("Application Mail.Read", "Legal Department", "CustomRecipientScope"),
        ("Application Mail.ReadBasic", "", "Organization")}
    everything = api.rows("Get-ManagementRoleAssignment", {})
    assert {"RoleGroup", "ServicePrincipal"} == {a["RoleAssigneeType"] for a in everything}


def test_service_principal_lifecycle_and_identity_forms(api):
    created = _new_app(api)["value"][0]
    assert {k: created[k] for k in ("Identity", "AppId", "ObjectId", "DisplayName")} == {
        "Identity": OBJECT_ID, "AppId": APP_ID, "ObjectId": OBJECT_ID, "DisplayName": "Archive Reader"}
    for form in (APP_ID, OBJECT_ID, "archive reader", created["ExchangeObjectId"]):
        assert api.rows("Get-ServicePrincipal", {"Identity": form})[0]["AppId"] == APP_ID, form
    duplicate = api.invoke("New-ServicePrincipal", {"AppId": APP_ID, "ObjectId": OBJECT_ID})
    assert duplicate.status_code == 400 and "already exists" in duplicate.text
    api.ok("Set-ServicePrincipal", {"Identity": APP_ID, "DisplayName": "Archive Reader 2"})
    assert api.rows("Get-ServicePrincipal", {"Identity": OBJECT_ID})[0]["DisplayName"] == "Archive Reader 2"
    unchanged = api.ok("Set-ServicePrincipal", {"Identity": APP_ID, "DisplayName": "Archive Reader 2"})
    assert "no settings of" in unchanged["@adminapi.warnings"][0]
    api.ok("Remove-ServicePrincipal", {"Identity": OBJECT_ID, "Confirm": False})
    assert is_missing(api.invoke("Get-ServicePrincipal", {"Identity": APP_ID}))


def test_service_principal_input_errors(api):
    bad = api.invoke("New-ServicePrincipal", {"AppId": "not-a-guid", "ObjectId": OBJECT_ID})
    assert bad.status_code == 400 and "isn't a valid GUID" in bad.text
    missing = api.invoke("New-ServicePrincipal", {"AppId": APP_ID})
    assert missing.status_code == 400 and "Parameter set cannot be resolved" in missing.text
    legacy = api.ok("New-ServicePrincipal", {"AppId": APP_ID, "ServiceId": OBJECT_ID})
    assert legacy["value"][0]["ObjectId"] == OBJECT_ID and "ServiceId" in legacy["@adminapi.warnings"][0]
    assert legacy["value"][0]["DisplayName"] == ""


def test_management_scope_filters_are_validated(api):
    created = api.ok("New-ManagementScope", {"Name": "Campaign", "RecipientRestrictionFilter":
                                             "RecipientTypeDetails -eq 'SharedMailbox'"})["value"][0]
    assert created["RecipientFilter"] == "RecipientTypeDetails -eq 'SharedMailbox'"
    assert created["ScopeRestrictionType"] == "RecipientScope" and created["Exclusive"] is False
    for text, words in (("Colour -eq 'x'", "is not a recognized filterable property"),
                        ("Department -eq", "Invalid filter syntax"),
                        ("RecipientTypeDetails -eq 'Spaceship'", "could not be converted")):
        response = api.invoke("New-ManagementScope", {"Name": "Bad", "RecipientRestrictionFilter": text})
        assert response.status_code == 400, text
        message = response.json()["error"]["details"][0]["message"]
        assert "Cannot bind parameter 'RecipientRestrictionFilter'" in message and words in message
    assert api.invoke("New-ManagementScope", {"Name": "campaign", "RecipientRestrictionFilter":
                                              "Department -eq 'x'"}).status_code == 400
    api.ok("Set-ManagementScope", {"Identity": "Campaign", "RecipientRestrictionFilter": "Department -eq 'Legal'"})
    assert api.rows("Get-ManagementScope", {"Identity": "Campaign"})[0]["RecipientFilter"] == "Department -eq 'Legal'"
    assert api.invoke("Set-ManagementScope", {"Identity": "Campaign",
                                              "RecipientRestrictionFilter": "Nope -eq 1"}).status_code == 400


def test_assignment_errors(api):
    _new_app(api)
    for params, status in (({"App": APP_ID, "Role": "Application Mail.Nope"}, 404),
                           ({"App": "unknown app", "Role": "Application Mail.Read"}, 404),
                           ({"App": APP_ID, "Role": "Application Mail.Read", "CustomResourceScope": "Nowhere"}, 404),
                           ({"App": APP_ID}, 400)):
        response = api.invoke("New-ManagementRoleAssignment", params)
        assert is_missing(response) if status == 404 else response.status_code == status, params
    assert not api.rows("Get-ManagementRoleAssignment", {"RoleAssignee": APP_ID})


def test_scoped_assignment_and_test_service_principal_authorization(api):
    _new_app(api)
    api.ok("New-ManagementScope", {"Name": "Campaign", "RecipientRestrictionFilter":
                                   "RecipientTypeDetails -eq 'SharedMailbox' -and Name -ne 'support'"})
    created = api.ok("New-ManagementRoleAssignment", {"App": "Archive Reader", "Role": "application mail.read",
                                                      "CustomResourceScope": "Campaign"})["value"][0]
    assert created["Role"] == "Application Mail.Read" and created["RoleAssigneeType"] == "ServicePrincipal"
    assert created["RoleAssignee"] == OBJECT_ID and created["Name"] == "Application Mail.Read-" + OBJECT_ID
    api.ok("New-ManagementRoleAssignment", {"App": APP_ID, "Role": "Application Mail Full Access",
                                            "CustomResourceScope": "Campaign", "Name": "campaign-full"})
    rows = _authorization(api, APP_ID, "info@" + DOMAIN)
    assert all(set(r) == AUTHORIZATION_KEYS for r in rows)
    assert {(r["RoleName"], r["GrantedPermissions"], r["AllowedResourceScope"], r["ScopeType"], r["InScope"])
            for r in rows} == {("Application Mail.Read", "Mail.Read", "Campaign", "CustomRecipientScope", True),
                               ("Application Mail Full Access", "Mail.ReadWrite, Mail.Send", "Campaign",
                                "CustomRecipientScope", True)}
    assert {r["InScope"] for r in _authorization(api, OBJECT_ID, "support")} == {False}
    assert {r["InScope"] for r in _authorization(api, OBJECT_ID, "ceo")} == {False}
    assert {r["InScope"] for r in _authorization(api, OBJECT_ID)} == {"Not Run"}
    # The filter is evaluated live: a mailbox changed by hand moves in or out of scope at once.
    api.ok("Set-ManagementScope", {"Identity": "Campaign", "RecipientRestrictionFilter": "Name -eq 'ceo'"})
    assert {r["InScope"] for r in _authorization(api, OBJECT_ID, "ceo")} == {True}
    assert is_missing(api.invoke("Test-ServicePrincipalAuthorization", {"Identity": "unknown"}))
    assert is_missing(api.invoke("Test-ServicePrincipalAuthorization", {"Identity": APP_ID, "Resource": "nobody"}))


def test_org_wide_assignment_and_pre_existing_scope(api):
    archiver = api.rows("Get-ServicePrincipal", {"Identity": "Contoso Archiver"})[0]
    rows = _authorization(api, archiver["AppId"], "legal.hold")
    assert rows == [{"RoleName": "Application Mail.Read", "GrantedPermissions": "Mail.Read",
                     "AllowedResourceScope": "Legal Department", "ScopeType": "CustomRecipientScope",
                     "InScope": True}]
    assert _authorization(api, archiver["ObjectId"], "ceo")[0]["InScope"] is False
    backup = api.rows("Get-ServicePrincipal", {})[1]
    rows = _authorization(api, backup["AppId"], "ceo")
    assert rows[0]["ScopeType"] == "Organization" and rows[0]["AllowedResourceScope"] == "Organization"
    assert rows[0]["InScope"] is True


def test_remove_assignment_scope_and_the_order_they_need(api):
    _new_app(api)
    api.ok("New-ManagementScope", {"Name": "Campaign", "RecipientRestrictionFilter": "Department -eq 'Legal'"})
    name = api.ok("New-ManagementRoleAssignment", {"App": APP_ID, "Role": "Application Mail.Read",
                                                   "CustomResourceScope": "Campaign"})["value"][0]["Name"]
    in_use = api.invoke("Remove-ManagementScope", {"Identity": "Campaign"})
    assert in_use.status_code == 400 and name in in_use.text
    api.ok("Remove-ManagementRoleAssignment", {"Identity": name, "Confirm": False})
    api.ok("Remove-ManagementScope", {"Identity": "Campaign", "Confirm": False})
    assert is_missing(api.invoke("Get-ManagementScope", {"Identity": "Campaign"}))
    assert is_missing(api.invoke("Remove-ManagementRoleAssignment", {"Identity": name}))
    assert [s["Name"] for s in api.rows("Get-ManagementScope", {})] == ["Legal Department"]
    assert len(api.rows("Get-ManagementRoleAssignment", {"RoleAssigneeType": "ServicePrincipal"})) == 2


def test_removing_a_service_principal_takes_its_assignments(api):
    _new_app(api)
    api.ok("New-ManagementRoleAssignment", {"App": APP_ID, "Role": "Application EWS.AccessAsApp"})
    api.ok("Remove-ServicePrincipal", {"Identity": APP_ID})
    assert not [a for a in api.rows("Get-ManagementRoleAssignment", {}) if a["RoleAssignee"] == OBJECT_ID]


@pytest.mark.parametrize("role,granted", [("Application Mail.ReadBasic", "Mail.ReadBasic"),
                                          ("Application Calendars.Read", "Calendars.Read"),
                                          ("Application EWS.AccessAsApp", "EWS.AccessAsApp"),
                                          ("Application Exchange Full Access",
                                           "Mail.ReadWrite, Mail.Send, MailboxSettings.ReadWrite, "
                                           "Calendars.ReadWrite, Contacts.ReadWrite")])
def test_documented_roles(api, role, granted):
    _new_app(api)
    api.ok("New-ManagementRoleAssignment", {"App": APP_ID, "Role": role})
    assert _authorization(api, APP_ID, "ceo")[0]["GrantedPermissions"] == granted


def test_organization_config_ews_fields(api):
    row = api.ok("Get-OrganizationConfig", {})["value"][0]
    for key in ("EwsEnabled", "EwsApplicationAccessPolicy", "EwsAllowEntourage", "EwsAllowMacOutlook",
                "EwsAllowOutlook"):
        assert row[key] is None, key
    assert row["EwsAllowList"] == [] and row["EwsBlockList"] == []
    assert row["Identity"] == DOMAIN and row["OAuth2ClientProfileEnabled"] is True
    api.server.set_organization_config(EwsEnabled=False, EwsApplicationAccessPolicy="EnforceAllowList",
                                       EwsAllowList=["Archiver*"])
    row = api.rows("Get-OrganizationConfig", {}, select=["EwsEnabled", "EwsApplicationAccessPolicy", "EwsAllowList"])
    assert row == [{"EwsEnabled": False, "EwsApplicationAccessPolicy": "EnforceAllowList",
                    "EwsAllowList": ["Archiver*"]}]
