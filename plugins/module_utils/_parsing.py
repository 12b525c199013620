# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tolerant readers for InvokeCommand responses.

The admin API is undocumented and its shapes vary between captures, so each
reader accepts every shape seen in the wild and never trusts a single one.
"""

import re

_SNAKE_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class Page:
    """One response of InvokeCommand: rows, warnings and the link to the next page."""

    __slots__ = ("rows", "warnings", "next_link")

    def __init__(self, rows, warnings, next_link):
        self.rows = rows
        self.warnings = warnings
        self.next_link = next_link


def parse_envelope(body):
    """Split a response body into a Page; rows lose their @odata sidecar keys."""
    if not isinstance(body, dict):
        return Page([], [], None)
    value = body.get("value")
    if value is None:
        rows = []
    elif isinstance(value, list):
        rows = [clean_row(row) for row in value]
    else:
        rows = [clean_row(value)]
    warnings = [str(w) for w in as_list(body.get("@adminapi.warnings"))]
    return Page(rows, warnings, body.get("@odata.nextLink") or body.get("odata.nextLink"))


def clean_row(row):
    """Drop OData annotations ('X@odata.type', '@odata.id', ...) from a row."""
    if not isinstance(row, dict):
        return row
    return dict((key, value) for key, value in row.items() if "@" not in key)


def as_list(value):
    """A list from a list, a {"value": [...]} wrapper, a single value or None."""
    if value is None:
        return []
    if isinstance(value, dict) and "value" in value:
        return as_list(value["value"])
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def as_names(value):
    """Names from every shape AccessRights takes: "A, B", ["A, B"], ["A", "B"], {"value": [...]}."""
    names = []
    for item in as_list(value):
        for name in str(item).split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    return names


def as_bool(value):
    """A bool from true/false, "True"/"False" or a switch object {"IsPresent": bool}."""
    if isinstance(value, dict):
        return as_bool(value.get("IsPresent"))
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def snake_case(name):
    """RecipientTypeDetails -> recipient_type_details, SKUAssigned -> sku_assigned."""
    return _SNAKE_BOUNDARY.sub("_", name).lower()
