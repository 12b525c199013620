# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RBAC for Applications helpers: roles, filter checks, filter comparison (the scope filter of a mailbox set,
evaluated by the emulator's OPATH engine, is tested in tests/emulated/plugins/module_utils/test_rbac_filters.py)."""

import pytest

from ansible_collections.m365.exchange.plugins.module_utils._rbac import (
    canonical_role,
    filter_problems,
    in_scope_value,
    normalized_filter,
)
from ansible_collections.m365.exchange.plugins.module_utils._validation import Problems


@pytest.mark.parametrize("given, expected", [
    ("Application Mail.Read", "Application Mail.Read"),
    ("application mail.read", "Application Mail.Read"),
    ("  Mail.Read ", "Application Mail.Read"),
    ("EWS.AccessAsApp", "Application EWS.AccessAsApp"),
    ("mail full access", "Application Mail Full Access"),
])
def test_roles_are_taken_as_exchange_takes_them(given, expected):
    problems = Problems()
    assert canonical_role(given, problems) == expected and not problems


@pytest.mark.parametrize("given", ["Mail Recipients", "Application Mail.Reed", "", "ApplicationImpersonation"])
def test_other_roles_are_refused_naming_the_valid_ones(given):
    problems = Problems()
    assert canonical_role(given, problems) is None
    assert "is not an Application role" in problems.items[0] and "Application Mail.ReadBasic" in problems.items[0]


@pytest.mark.parametrize("text, problem", [
    ("Department -eq 'Legal'", None),
    ("(A -eq 'x(') -and (B -eq ')')", None),  # parentheses inside values do not count
    ("Name -eq 'O''Brien'", None),
    ("Name -eq 'O'Brien'", "unterminated quoted value"),
    ("((A -eq 'x')", "leaves 1 parenthesis open"),
    ("(((A -eq 'x'", "leaves 3 parentheses open"),
    ("A -eq 'x')", "closes a parenthesis that was not opened"),
    ("", "is empty"),
])
def test_filter_problems(text, problem):
    problems = Problems()
    filter_problems(text, problems)
    if problem is None:
        assert not problems
    else:
        assert problem in problems.items[0]


@pytest.mark.parametrize("left, right, same", [
    ("Department -eq 'Legal'", "department -EQ  'Legal'", True),
    ("Department -eq 'Legal'", "(Department -eq \"Legal\")", True),
    ("(A -eq 'x') -or (B -eq 'y')", "A -eq 'x' -or B -eq 'y'", False),  # outer parentheses of parts are kept
    ("Department -eq 'Legal'", "Department -eq 'legal'", False),
    ("Name -eq 'O''Brien'", "Name -eq \"O'Brien\"", True),
])
def test_normalized_filter(left, right, same):
    assert (normalized_filter(left) == normalized_filter(right)) is same


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), ("True", True), ("false", False), ("Not Run", None), (None, None)])
def test_in_scope_value(value, expected):
    assert in_scope_value(value) is expected
