# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks of task input that need no request: every problem is named at once, before anything is sent.

Each check appends to a Problems list; the module raises once with all of them, so an admin fixes a task
in one round instead of one error at a time.
"""

import os

from ansible_collections.m365.exchange.plugins.module_utils._errors import InvalidInputError
from ansible_collections.m365.exchange.plugins.module_utils._mailboxes import IDENTITY_FORMS, identity_problem

MAX_CONCURRENCY = 64


class Problems:
    """What is wrong with a task's input."""

    def __init__(self):
        self.items = []

    def add(self, problem):
        if problem:
            self.items.append(problem)

    def __bool__(self):
        return bool(self.items)

    __nonzero__ = __bool__

    def raise_if_any(self, prefix="Invalid input, nothing was changed"):
        if self.items:
            raise InvalidInputError("%s: %s" % (prefix, "; ".join(self.items)))


def identities(values, problems, option="identity", required=True):
    """The identities to process, in order, without repeats (same string in any letter case).

    Repeats that are different names of one mailbox are found later, by the object the service resolves them to.
    """
    if values is None and not required:
        return None
    result = []
    seen = set()
    bad = False
    for position, identity in enumerate(values or []):
        problem = identity_problem(identity, "%s[%d]" % (option, position))
        if problem:
            problems.add(problem)
            bad = True
            continue
        identity = identity.strip()
        if identity.lower() not in seen:
            seen.add(identity.lower())
            result.append(identity)
    if bad:
        problems.add("each %s must be %s; an empty identity is never sent, because Exchange would take it as every "
                     "mailbox" % (option, IDENTITY_FORMS))
    if not values:
        problems.add("%s is an empty list (did the selection that produced it match nothing?): name at least one "
                     "mailbox%s" % (option, "" if required else " or leave %s out" % option))
    return result


def concurrency(value, problems):
    if value is not None and not 1 <= value <= MAX_CONCURRENCY:
        problems.add("concurrency %d is out of range: use 1 to %d" % (value, MAX_CONCURRENCY))


def journal(path, problems):
    """The journal's directory must exist; the file is created when missing."""
    if not path:
        return
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        problems.add("journal '%s' is a directory: give the path of a file (it is created if missing)" % path)
    elif not os.path.isdir(directory):
        problems.add("journal '%s': the directory %s does not exist; create it or give the path of a file in an "
                     "existing directory" % (path, directory))


def bulk_options(params, problems):
    """The checks every bulk module makes on its shared options; returns the identities."""
    targets = identities(params["identity"], problems)
    concurrency(params["concurrency"], problems)
    journal(params.get("journal"), problems)
    return targets


def choice_list(values, allowed, option, problems, separators=","):
    """Names as admins type them in PowerShell: any letter case, several in one comma-joined string.

    Returns the canonical names in the order given, without repeats; names that are not allowed are refused one
    by one, with the list of valid names.
    """
    canonical = dict((name.lower(), name) for name in allowed)
    result = []
    refused = False
    for value in values or []:
        for part in str(value).split(separators):
            name = part.strip()
            if not name:
                continue
            known = canonical.get(name.lower())
            if known is None:
                refused = True
                problems.add("%s '%s' is not valid%s: use %s" % (
                    option, name, " (in '%s')" % value if name != str(value).strip() else "", ", ".join(allowed)))
            elif known not in result:
                result.append(known)
    if not result and not refused:
        problems.add("%s is empty: name at least one of %s" % (option, ", ".join(allowed)))
    return result
