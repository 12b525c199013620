# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module is its documentation and a main() that calls into module_utils (issue 16: under 120 lines of
logic each). A module that grows logic of its own fails here, naming it and its line count."""

import ast
import os

import pytest

MODULES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules")
DOCS = ("DOCUMENTATION", "EXAMPLES", "RETURN")
LIMIT = 120


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def logic_lines(source):
    """Lines that are neither documentation, comments nor blank."""
    documentation = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) in DOCS for target in node.targets):
            documentation.update(range(node.lineno, node.end_lineno + 1))
    return [line for number, line in enumerate(source.splitlines(), 1)
            if number not in documentation and line.strip() and not line.strip().startswith("#")]


def module_files():
    return sorted(name for name in os.listdir(MODULES) if name.endswith(".py") and name != "__init__.py")


@pytest.mark.parametrize("name", module_files())
def test_module_is_documentation_and_a_call(name):
    source = read(os.path.join(MODULES, name))
    lines = logic_lines(source)
    assert len(lines) < LIMIT, "%s has %d lines of logic; move them into plugins/module_utils" % (name, len(lines))
    functions = [node.name for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    if not lines:
        return  # documentation of an action plugin (archive_campaign)
    assert functions == ["main"], "%s defines %s; a module defines main() only" % (name, functions)
