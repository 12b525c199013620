# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tolerant parsing of InvokeCommand bodies and error bodies, on the shapes the reference records."""

import pytest

from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.m365.exchange.plugins.module_utils import _errors as errors
from ansible_collections.m365.exchange.plugins.module_utils._connection import env_fallback
from ansible_collections.m365.exchange.plugins.module_utils._parsing import (
    as_bool,
    as_names,
    parse_envelope,
    snake_case,
)
from ansible_collections.m365.exchange.plugins.module_utils._permissions import permission_entry

LIVE_ENVELOPE = {
    "@odata.context": "https://outlook.office365.com/adminapi/beta/t/$metadata#Collection(Exchange.GenericHashTable)",
    "adminapi.warnings@odata.type": "#Collection(String)",
    "@adminapi.warnings": ["There are more results available than are currently displayed."],
    "@odata.nextLink": "https://outlook.office365.com/adminapi/beta/t/InvokeCommand?%24skiptoken=abc",
    "value": [{
        "Alias": "CBergin",
        "EmailAddresses@odata.type": "#Collection(String)",
        "EmailAddresses": ["smtp:c@x.onmicrosoft.com", "SMTP:c@x"],
        "Guid@odata.type": "#Guid",
        "Guid": "9feb0000-0000-0000-0000-000000000001",
    }],
}


def test_envelope_rows_lose_sidecars_and_keep_values():
    page = parse_envelope(LIVE_ENVELOPE)
    assert page.rows == [{
        "Alias": "CBergin",
        "EmailAddresses": ["smtp:c@x.onmicrosoft.com", "SMTP:c@x"],
        "Guid": "9feb0000-0000-0000-0000-000000000001",
    }]
    assert page.next_link.endswith("%24skiptoken=abc")
    assert page.warnings == ["There are more results available than are currently displayed."]


@pytest.mark.parametrize("value", [None, []])
def test_envelope_without_rows(value):
    body = {"@adminapi.warnings": [], "value": value}
    assert parse_envelope(body).rows == []


@pytest.mark.parametrize("shape, expected", [
    (["FullAccess, ReadPermission"], ["FullAccess", "ReadPermission"]),  # the live capture
    ("FullAccess", ["FullAccess"]),
    (["FullAccess", "DeleteItem"], ["FullAccess", "DeleteItem"]),
    ({"value": ["ReadPermission"]}, ["ReadPermission"]),
    (None, []),
])
def test_access_rights_shapes(shape, expected):
    assert as_names(shape) == expected


@pytest.mark.parametrize("shape, expected", [
    (True, True), (False, False), ({"IsPresent": True}, True), ({"IsPresent": False}, False), ("True", True),
    ("False", False), (None, False),
])
def test_deny_shapes(shape, expected):
    assert as_bool(shape) is expected


def test_permission_row_from_live_capture_shape():
    row = {"User": "NT AUTHORITY\\SELF", "UserSid": "S-1-5-10", "AccessRights": ["ReadPermission, FullAccess"],
           "IsInherited": False, "Deny": {"IsPresent": False}}
    assert permission_entry(row) == {"user": "NT AUTHORITY\\SELF", "user_sid": "S-1-5-10",
                                     "access_rights": ["FullAccess", "ReadPermission"], "is_inherited": False,
                                     "deny": False, "inheritance_type": None}


@pytest.mark.parametrize("name, expected", [
    ("RecipientTypeDetails", "recipient_type_details"), ("SKUAssigned", "sku_assigned"),
    ("ExternalDirectoryObjectId", "external_directory_object_id"), ("CustomAttribute15", "custom_attribute15"),
])
def test_snake_case(name, expected):
    assert snake_case(name) == expected


NOT_FOUND = (
    b'{"error":{"code":"NotFound","message":"Error executing cmdlet","details":[{"code":"Client","message":'
    b'"Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn\'t be '
    b'performed because object \'x@contoso.com\' couldn\'t be found on \'NAMPR01A001.PROD.OUTLOOK.COM\'."}],'
    b'"innererror":{"message":"Error executing cmdlet","type":"Microsoft.Exchange.Admin.OData.Core.ODataServiceException"}}}'
)
BAD_PARAMETER = (
    b'{"error":{"code":"BadRequest","message":"Invalid Operation","details":[{"code":"Client","message":"|Microsoft.'
    b'Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException|Parameter set cannot be resolved using the '
    b'specified named parameters."}]}}'
)
AMBIGUOUS = (
    b'{"error":{"code":"BadRequest","message":"Error executing cmdlet","details":[{"code":"Context","message":"Ex0A1B|'
    b'Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException|The operation couldn\'t be performed '
    b'because \'jsmith\' matches multiple entries."}]}}'
)
ENUM_TRANSFORMATION = (
    b'{"error":{"code":"BadRequest","message":"Invalid Operation","innererror":{"message":"Invalid Operation","type":'
    b'"Microsoft.Exchange.Admin.OData.Core.ODataServiceException","internalexception":{"message":"Cannot process argument '
    b'transformation on parameter \'AccessRights\'. Specify one of the following enumerator names: ChangeOwner, '
    b'FullAccess","type":"Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException"}}}}'
)
ACL_LIMIT = (
    b'{"error":{"code":"BadRequest","message":"Error executing cmdlet","details":[{"code":"Client","message":"|System.'
    b'InvalidOperationException|The mailbox full.acl has reached the limit of maximum allowed access control entries '
    b'of 500."}]}}'
)


@pytest.mark.parametrize("status, body, error_class, words", [
    (404, NOT_FOUND, errors.NotFoundError, ["Get-Mailbox 'x@contoso.com'", "couldn't be found"]),
    (400, BAD_PARAMETER, errors.InvalidParameterError, ["rejected a parameter", "Parameter set cannot be resolved"]),
    (400, ENUM_TRANSFORMATION, errors.InvalidParameterError, ["AccessRights", "FullAccess"]),
    (400, AMBIGUOUS, errors.AmbiguousIdentityError, ["matches multiple entries", "primary SMTP address"]),
    (400, ACL_LIMIT, errors.AclLimitError, ["500", "orphaned"]),
    (403, b"\x00" * 4096, errors.AuthorizationError, ["HTTP 403", "no Exchange role"]),
    (401, b"", errors.AuthenticationError, ["HTTP 401", "Exchange.ManageAsApp"]),
    (429, b'{"error":{"code":"TooManyRequests","message":"You have reached the maximum number of concurrent requests '
          b'per tenant."}}', errors.ThrottledError, ["throttling", "concurrent requests per tenant"]),
    (503, b"<html>Service Unavailable</html>", errors.TransientError, ["HTTP 503", "Service Unavailable"]),
    (400, b'{"error":{"code":"BadRequest","message":"Expired or Invalid pagination request. Default Expiry time is '
          b'00:30:00"}}', errors.PagingExpiredError, ["pagination", "run the task again"]),
])
def test_error_bodies_become_typed_errors(status, body, error_class, words):
    error = errors.error_from_fault(errors.parse_fault(status, body), "Get-Mailbox", "x@contoso.com")
    assert isinstance(error, error_class)
    for word in words:
        assert word in str(error)
    assert "\x00" not in str(error)
    assert error.to_dict()["status"] == status


def test_empty_environment_variables_count_as_unset(monkeypatch):
    monkeypatch.setenv("EXO_ENVIRONMENT", "")
    monkeypatch.setenv("EXO_TENANT", "")
    monkeypatch.setenv("AZURE_TENANT", "contoso.onmicrosoft.com")
    assert env_fallback("EXO_TENANT", "AZURE_TENANT") == "contoso.onmicrosoft.com"
    with pytest.raises(AnsibleFallbackNotFound):
        env_fallback("EXO_ENVIRONMENT")
