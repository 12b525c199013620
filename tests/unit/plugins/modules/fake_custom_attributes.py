# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fake Exchange of fake_exchange.py with CustomAttribute1-15: Get-Mailbox rows carry them, Set-Mailbox sets them
(null clears), and a Set-Mailbox that changes nothing is answered with 200 and the live "no settings ... modified"
warning."""

from ansible_collections.m365.exchange.plugins.module_utils._client import CommandResult

from fake_exchange import FakeExchange  # pylint: disable=import-error

ATTRIBUTES = tuple("CustomAttribute%d" % number for number in range(1, 16))


class FakeCustomAttributes(FakeExchange):
    """FakeExchange plus the custom attributes of mailboxes."""

    def __init__(self):
        super().__init__()
        self.custom = {}  # mailbox name -> {CustomAttributeN: value}
        self.ignore_sets = set()  # mailbox names whose Set-Mailbox is answered without being applied

    def value(self, mailbox, attribute):
        return self.custom.get(mailbox.name, {}).get(attribute, "")

    def _mailbox_row(self, recipient):
        row = super()._mailbox_row(recipient)
        for attribute in ATTRIBUTES:
            row[attribute] = self.value(recipient, attribute)
        return row

    def _set_mailbox(self, parameters):
        mailbox = self.find(parameters["Identity"], mailbox_only=True)
        values = self.custom.setdefault(mailbox.name, {})
        changed = False
        for attribute in ATTRIBUTES:
            if attribute in parameters:
                wanted = parameters[attribute] or ""
                changed = changed or values.get(attribute, "") != wanted
                if mailbox.name not in self.ignore_sets:
                    values[attribute] = wanted
        if not changed or mailbox.name in self.ignore_sets:
            return CommandResult([], ["The command completed successfully but no settings of '%s' have been "
                                      "modified." % mailbox.name])
        return CommandResult([])
