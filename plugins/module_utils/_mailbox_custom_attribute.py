# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The mailbox_custom_attribute module: its options, their checks, and the bulk run of the CustomAttribute
delegation."""

from ansible_collections.m365.exchange.plugins.module_utils._argspec import BULK, STATE, merged
from ansible_collections.m365.exchange.plugins.module_utils._bulk import BulkRun
from ansible_collections.m365.exchange.plugins.module_utils._custom_attribute import (
    CUSTOM_ATTRIBUTES,
    MAX_LENGTH,
    CustomAttribute,
    canonical_attribute,
)
from ansible_collections.m365.exchange.plugins.module_utils._validation import Problems, bulk_options

ARGUMENT_SPEC = merged(
    BULK, STATE,
    attribute=dict(type="str", required=True),
    value=dict(type="str", required=True),
    overwrite=dict(type="bool", default=False),
    restore=dict(type="dict"),
)


def _length_problem(value, option):
    if len(value) > MAX_LENGTH:
        return "%s has %d characters: Exchange keeps at most %d in a custom attribute" % (option, len(value), MAX_LENGTH)
    return None


def validated(params, problems):
    """The attribute's canonical name, the value and the restore values; every problem at once."""
    attribute = canonical_attribute(params["attribute"])
    if attribute is None:
        problems.add("attribute '%s' is not a custom attribute of a mailbox: use one of %s" % (
            params["attribute"], ", ".join(CUSTOM_ATTRIBUTES)))
    value = params["value"]
    if not value.strip():
        problems.add("value is empty: give the value to set (state=present) or to take away (state=absent); an empty "
                     "value would match every mailbox whose attribute is not set")
    elif value != value.strip():
        problems.add("value '%s' starts or ends with spaces, which Exchange does not keep: remove them" % value)
    else:
        problems.add(_length_problem(value, "value"))
    restore = params["restore"] or {}
    if restore and params["state"] != "absent":
        problems.add("restore is for state=absent (the values to put back where the value is taken away)")
    for key, previous in sorted(restore.items()):
        if previous is not None and not isinstance(previous, str):
            problems.add("restore['%s'] is not a string: give the value to put back, or an empty string to clear the "
                         "attribute" % key)
        elif previous:
            problems.add(_length_problem(previous, "restore['%s']" % key))
    return attribute, value.strip(), restore


def run(module):
    params = module.params
    problems = Problems()
    identities = bulk_options(params, problems)
    attribute, value, restore = validated(params, problems)
    problems.raise_if_any()
    delegation = CustomAttribute(attribute, value, params["state"], overwrite=params["overwrite"], restore=restore)
    BulkRun(module, delegation).run(identities)
