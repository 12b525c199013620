# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which identities the modules refuse before sending anything, and what they say about them."""

import pytest

from ansible_collections.m365.exchange.plugins.module_utils._mailboxes import identity_problem


@pytest.mark.parametrize("identity", [
    "ceo@contoso.com",
    "  ceo@contoso.com  ",  # surrounding spaces are stripped, not refused
    "SMTP:ceo@contoso.com",
    "Calvin Bergin",  # a name: left to Exchange
    "first last@contoso.com",  # an @ with a space is a display name, not an address
    "first\u00a0last@contoso.com",  # a no-break space counts as a space too
    "9feb0000-0000-0000-0000-000000000001",
])
def test_identities_exchange_may_know_pass(identity):
    assert identity_problem(identity, "identity[0]") is None


@pytest.mark.parametrize("identity, expected", [
    ("", "identity[3] is empty"),
    ("   ", "identity[3] is empty"),
    (None, "identity[3] is empty"),
    ("ceo\t@contoso.com", "identity[3] 'ceo\\t@contoso.com' contains control characters"),
    ("ceo@contoso.com\x7f", "identity[3] 'ceo@contoso.com\\x7f' contains control characters"),
    ("ceo@@contoso.com", "identity[3] 'ceo@@contoso.com' is not a valid address"),
    ("ceo@contoso", "identity[3] 'ceo@contoso' is not a valid address"),
])
def test_identities_that_cannot_be_meant_are_named(identity, expected):
    assert identity_problem(identity, "identity[3]").startswith(expected)
