# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """What the modules support, beside the descriptions of ansible.builtin.action_common_attributes."""

    # A module that changes Exchange: check mode plans, diff mode shows the planned or made change.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: all
"""

    # A module that only reads: it runs in check mode as it does otherwise, and has nothing to diff.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
"""
