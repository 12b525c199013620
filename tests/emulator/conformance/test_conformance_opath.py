"""OPATH -Filter: operators, quoting, injection attempts, syntax errors, special properties."""

import pytest

from conformance_support import DOMAIN


def _filter(api, text, cmdlet="Get-Mailbox"):
    return {r["Name"] for r in api.rows(cmdlet, {"Filter": text, "ResultSize": "Unlimited"}, select=["Name"])}


def _filter_error(api, text):
    response = api.invoke("Get-Mailbox", {"Filter": text})
    assert response.status_code == 400, text
    return response.json()["error"]["innererror"]["internalexception"]["message"]


def test_comparison_operators(api):
    assert _filter(api, "Alias -eq 'archive.admin'") == {"archive.admin"}
    assert _filter(api, "alias -EQ ARCHIVE.ADMIN") == {"archive.admin"}
    assert _filter(api, "DisplayName -like 'Alex*'") >= {"alex.martin", "alex.martin2"}
    assert _filter(api, "Name -like 'j*.smith'") == {"john.smith", "jane.smith"}
    assert "ceo" not in _filter(api, "Name -notlike 'c*'")
    assert _filter(api, "RecipientTypeDetails -ne 'UserMailbox' -and RecipientTypeDetails -ne 'SharedMailbox'") == \
        _filter(api, "RecipientTypeDetails -eq 'RoomMailbox' -or RecipientTypeDetails -eq 'EquipmentMailbox'")


def test_logic_parentheses_and_not(api):
    assert _filter(api, "(Alias -eq 'ceo' -or Alias -eq 'helpdesk') -and Department -eq 'IT'") == {"helpdesk"}
    assert _filter(api, "Alias -eq 'ceo' -or Alias -eq 'helpdesk' -and Department -eq 'IT'") == {"ceo", "helpdesk"}
    assert "ceo" not in _filter(api, "-not (Alias -eq 'ceo')")
    assert _filter(api, "-not(Alias -ne 'ceo')") == {"ceo"}


def test_quoting_and_apostrophes(api):
    assert _filter(api, "DisplayName -eq 'O''Brien & Sons'") == {"O'Brien & Sons"}
    assert _filter(api, 'DisplayName -eq "Pat O\'Neil"') == {"pat.o'neil"}
    assert _filter(api, "DisplayName -eq 'Zoë Müller'") == {"zoe.muller"}
    assert _filter(api, "DisplayName -eq '王小明'") == {"wang.xiaoming"}


def test_injection_attempts_stay_inside_quotes(api):
    escaped = "x'' -or Name -like ''*"
    assert _filter(api, "Name -eq '%s'" % escaped) == set()
    unescaped = "x' -or Name -like '*"
    assert len(_filter(api, "Name -eq '%s'" % unescaped)) > 50
    assert _filter(api, "Name -eq 'ceo'' -or ''1'' -eq ''1'") == set()
    _filter_error(api, "Name -eq 'ceo")
    _filter_error(api, "Name -eq ceo' -or Name -like '*")
    _filter_error(api, "Name -eq 'a'; Remove-Mailbox x")


def test_booleans_null_and_dates(api):
    unlicensed = _filter(api, "SKUAssigned -eq $false -and RecipientTypeDetails -eq 'UserMailbox'")
    assert "nolicense.admin" in unlicensed and "archive.admin" not in unlicensed
    assert "archive.admin" in _filter(api, "SKUAssigned -eq 'True'")
    assert "archive.admin" in _filter(api, "CustomAttribute1 -eq $null")
    assert _filter(api, "WhenCreated -gt '01/01/2000'") == _filter(api, "Name -like '*'")
    assert _filter(api, "WhenCreated -lt '01/01/2000'") == set()
    assert _filter(api, "HiddenFromAddressListsEnabled -eq $true") <= _filter(api, "Name -like '*'")


def test_multi_valued_and_member_of_group(api):
    assert _filter(api, "EmailAddresses -eq 'smtp:jsmith@%s'" % DOMAIN) == {"john.smith"}
    assert _filter(api, "EmailAddresses -eq 'jsmith@%s'" % DOMAIN) == {"john.smith"}
    assert _filter(api, "EmailAddresses -like '*@contoso.mail.onmicrosoft.com'") == _filter(api, "Name -like '*'")
    dn = api.rows("Get-Group", {"Identity": "Finance"}, select=["DistinguishedName"])[0]["DistinguishedName"]
    assert _filter(api, "MemberOfGroup -eq '%s'" % dn, "Get-Recipient") == {"ceo", "alex.martin", "Finance EMEA"}
    assert _filter(api, "MemberOfGroup -eq 'Archive Operators'") == {"archive.admin"}


@pytest.mark.parametrize("text,position", [("Name -eq", 9), ("Name 'ceo'", 6), ("(Name -eq 'ceo'", 16),
                                           ("Name -eq 'ceo' -and", 20), ("Name -equals 'x'", 6),
                                           ("Name -eq $maybe", 10), ("", 1)])
def test_syntax_errors_name_the_position(api, text, position):
    message = _filter_error(api, text)
    assert "Invalid filter syntax" in message
    assert message.endswith('"%s" at position %d."' % (text, position)), message


def test_unknown_property_and_bad_values(api):
    assert "'Colour' is not a recognized filterable property" in _filter_error(api, "Colour -eq 'red'")
    assert "could not be converted" in _filter_error(api, "RecipientTypeDetails -eq 'Mailboxx'")
    assert "System.Boolean" in _filter_error(api, "SKUAssigned -eq 'maybe'")
