# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scope filter of a campaign's mailbox set, evaluated by the emulator's OPATH engine (the one
Test-ServicePrincipalAuthorization uses)."""

from ansible_collections.m365.exchange.plugins.module_utils._rbac import filter_problems, recipient_filter
from ansible_collections.m365.exchange.plugins.module_utils._validation import Problems

from exo_emulator import opath  # pylint: disable=import-error
from exo_emulator.cmdlets import FILTER_PROPERTIES  # pylint: disable=import-error


class Recipient:  # the attributes the emulator's filter properties read
    def __init__(self, rtd, department="", edoid="", marks=None):
        self.rtd = rtd
        self.department = department
        self.edoid = edoid
        self.marks = marks or {}

    def custom_attribute(self, number):
        return self.marks.get(number, "")


def evaluated(text):
    return opath.compile_filter(text, FILTER_PROPERTIES, None)


def test_a_campaign_filter_selects_its_types_and_filter_minus_the_exclusions():
    text = recipient_filter(["UserMailbox", "SharedMailbox"], "Department -eq 'Legal'", exclude=["id-2"])
    assert text == ("(RecipientTypeDetails -eq 'UserMailbox' -or RecipientTypeDetails -eq 'SharedMailbox') -and "
                    "(Department -eq 'Legal') -and (ExternalDirectoryObjectId -ne 'id-2')")
    test = evaluated(text)
    assert test(Recipient("UserMailbox", "Legal", "id-1"))
    assert test(Recipient("SharedMailbox", "Legal", "id-3"))
    assert not test(Recipient("UserMailbox", "Legal", "id-2"))  # excluded
    assert not test(Recipient("RoomMailbox", "Legal", "id-4"))  # another type
    assert not test(Recipient("UserMailbox", "Sales", "id-5"))


def test_without_types_every_type_but_group_mailboxes_as_get_mailbox_selects():
    test = evaluated(recipient_filter(opath="Department -eq 'Legal' -or Department -eq 'HR'"))
    assert test(Recipient("RoomMailbox", "HR")) and not test(Recipient("GroupMailbox", "HR"))
    assert not test(Recipient("UserMailbox", "Sales"))


def test_a_campaign_mark_and_a_value_with_a_quote():
    text = recipient_filter(["UserMailbox"], mark=("CustomAttribute12", "archive 'O''Brien' case"))
    test = evaluated(text)
    assert test(Recipient("UserMailbox", marks={12: "archive 'O''Brien' case"}))
    assert not test(Recipient("UserMailbox", marks={12: "archive"}))
    problems = Problems()
    filter_problems(text, problems)
    assert not problems
