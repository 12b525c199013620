# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Give AnsibleModule its arguments in a unit test, on every ansible-core the collection is tested with.

ansible-core 2.19 and later have ``ansible.module_utils.testing.patch_module_args`` (and refuse a bare
``basic._ANSIBLE_ARGS``: "No serialization profile was specified"); 2.16 to 2.18 have no such helper and read
``basic._ANSIBLE_ARGS``. Use::

    from ansible_collections.m365.exchange.tests.unit.compat.module_args import module_args

    with module_args({"identity": ["info@contoso.com"], "user": "archive.admin@contoso.com"}):
        mailbox_permission.main()
"""

import contextlib
import json

from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19
    patch_module_args = None


@contextlib.contextmanager
def module_args(args=None):
    """Expose args to the AnsibleModule instances created within this context."""
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    saved = basic._ANSIBLE_ARGS  # pylint: disable=protected-access
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode("utf-8")  # pylint: disable=protected-access
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = saved  # pylint: disable=protected-access
