# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake Exchange Online for module unit tests: no server, no HTTP, cmdlets answered from a small tenant in memory.

The modules see it through the two seams every module uses: ExchangeModule.client (invoke) and
ExchangeModule.pipeline (run), both patched by the `run_module` fixture in conftest.py. It answers like the live
service where that matters to the module logic (rows without InheritanceType, a Remove that misses answered with
200 and a warning, errors as the client's typed exceptions); everything else about the wire (envelopes, paging,
batches, throttling) is the emulator's job and is tested there.
"""

import copy

from ansible_collections.m365.exchange.plugins.module_utils._client import ClientStats, CommandResult
from ansible_collections.m365.exchange.plugins.module_utils._errors import (
    AclLimitError,
    AmbiguousIdentityError,
    ExchangeError,
    NotAttemptedError,
    NotFoundError,
    TransientError,
)

SELF_SID = "S-1-5-10"
DOMAIN = "contoso.com"


def sid(number):
    return "S-1-5-21-1000-2000-3000-%d" % number


class Recipient:
    def __init__(self, name, kind="UserMailbox", number=0, names=(), alias=None):
        self.name = name
        self.kind = kind
        self.guid = "00000000-0000-4000-8000-%012d" % number
        self.sid = sid(number)
        self.address = "%s@%s" % (name, DOMAIN)
        self.alias = alias or name
        self.names = set(n.lower() for n in (self.name, self.guid, self.address, self.alias) + tuple(names))
        # explicit and inherited entries: [sid, [rights], deny, inheritance, inherited]
        self.acl = [[SELF_SID, ["FullAccess", "ReadPermission"], False, "All", False]]

    @property
    def has_mailbox(self):
        return self.kind.endswith("Mailbox")


class FakeExchange:
    """A tenant, the cmdlets the modules send, and a record of every call."""

    def __init__(self):
        self.recipients = []
        self.calls = []  # (cmdlet, parameters) in the order received
        self.stats = ClientStats()
        self.faults = {}  # (cmdlet, identity) -> ExchangeError to raise once, instead of running the cmdlet
        self.faults_after = {}  # (cmdlet, identity) -> ExchangeError to raise once, after running the cmdlet
        self.show_inheritance = False  # live rows carry no InheritanceType
        self.on_call = None  # callable(cmdlet, parameters) run before each answer (tests change the tenant there)
        self.number = 1000

    # ---- the tenant -----------------------------------------------------------------------------

    def add(self, name, kind="UserMailbox", names=(), alias=None):
        self.number += 1
        recipient = Recipient(name, kind, self.number, names, alias)
        self.recipients.append(recipient)
        return recipient

    def find(self, identity, mailbox_only=False):
        text = str(identity).lower()
        if text.startswith("s-1-"):
            found = [r for r in self.recipients if r.sid.lower() == text]
        else:
            found = [r for r in self.recipients if text in r.names]
        if mailbox_only:
            found = [r for r in found if r.has_mailbox]
        if not found:
            raise NotFoundError("The operation couldn't be performed because object '%s' couldn't be found." % identity)
        if len(found) > 1:
            raise AmbiguousIdentityError("The operation couldn't be performed because '%s' matches multiple entries."
                                         % identity)
        return found[0]

    def grant(self, mailbox, trustee, rights=("FullAccess",), deny=False, inheritance="All", inherited=False):
        trustee_sid = trustee if isinstance(trustee, str) else trustee.sid
        mailbox.acl.append([trustee_sid, list(rights), deny, inheritance, inherited])

    def rights(self, mailbox, trustee, deny=False):
        trustee_sid = trustee if isinstance(trustee, str) else trustee.sid
        held = set()
        for ace_sid, rights, ace_deny, _inheritance, inherited in mailbox.acl:
            if ace_sid == trustee_sid and ace_deny == deny and not inherited:
                held.update(rights)
        return held

    def writes(self):
        return [call for call in self.calls if not call[0].startswith("Get-")]

    # ---- the client's interface -------------------------------------------------------------------

    def invoke(self, cmdlet, parameters=None, select=None):  # pylint: disable=unused-argument
        result = self.answer(cmdlet, dict(parameters or {}))
        if isinstance(result, ExchangeError):
            raise result
        return result

    def execute(self, command, consume=None, max_rows=None):
        """Client.execute: the command's pages (one page here) handed to consume; at most max_rows rows."""
        result = self.invoke(command.cmdlet, command.parameters, command.select)
        if max_rows is not None:
            result = CommandResult(result.value[:max_rows], result.warnings)
        if consume is None:
            return result
        return consume(iter([result]))

    def answer(self, cmdlet, parameters):
        """A CommandResult, or the ExchangeError the client would raise."""
        self.calls.append((cmdlet, copy.deepcopy(parameters)))
        self.stats.add(cmdlets=1)
        if self.on_call is not None:
            self.on_call(cmdlet, parameters)
        fault = self.faults.pop((cmdlet, parameters.get("Identity")), None)
        if fault is not None:
            return fault
        handler = getattr(self, "_" + cmdlet.replace("-", "_").lower())
        try:
            result = handler(parameters)
        except ExchangeError as exc:
            return exc
        return self.faults_after.pop((cmdlet, parameters.get("Identity")), result)

    # ---- cmdlets ----------------------------------------------------------------------------------

    def _get_recipient(self, parameters):
        recipient = self.find(parameters["Identity"])
        return CommandResult([{"Identity": recipient.name, "Name": recipient.name, "Guid": recipient.guid,
                               "PrimarySmtpAddress": recipient.address, "RecipientTypeDetails": recipient.kind,
                               "ExternalDirectoryObjectId": recipient.guid}])

    def _mailbox_row(self, recipient):
        return {"Identity": recipient.name, "Name": recipient.name, "DisplayName": recipient.name.title(),
                "Alias": recipient.alias, "UserPrincipalName": recipient.address,
                "PrimarySmtpAddress": recipient.address, "RecipientTypeDetails": recipient.kind,
                "ExternalDirectoryObjectId": recipient.guid, "Guid": recipient.guid}

    def _get_mailbox(self, parameters):
        if "Identity" in parameters:
            found = [self.find(parameters["Identity"], mailbox_only=True)]
            if found[0].kind == "GroupMailbox" and not parameters.get("GroupMailbox"):
                raise NotFoundError("'%s' couldn't be found" % parameters["Identity"])
        else:
            kinds = parameters.get("RecipientTypeDetails")
            found = [r for r in self.recipients if r.has_mailbox and (not kinds or r.kind in kinds)
                     and (r.kind == "GroupMailbox") == bool(parameters.get("GroupMailbox"))]
        size = parameters.get("ResultSize", "Unlimited")
        if size != "Unlimited":
            found = found[:size]
        return CommandResult([self._mailbox_row(r) for r in found])

    def _get_user(self, parameters):
        recipient = self.find(parameters["Identity"])
        if recipient.kind.endswith("Group"):
            raise NotFoundError("'%s' couldn't be found" % parameters["Identity"])
        return CommandResult([{"Name": recipient.name, "Guid": recipient.guid, "Sid": recipient.sid,
                               "RecipientTypeDetails": recipient.kind}])

    def _get_group(self, parameters):
        recipient = self.find(parameters["Identity"])
        if not recipient.kind.endswith("Group"):
            raise NotFoundError("'%s' couldn't be found" % parameters["Identity"])
        return CommandResult([{"Name": recipient.name, "Guid": recipient.guid, "Sid": recipient.sid,
                               "RecipientTypeDetails": recipient.kind}])

    def _get_mailboxpermission(self, parameters):
        mailbox = self.find(parameters["Identity"], mailbox_only=True)
        wanted = self.find(parameters["User"]).sid if "User" in parameters else None
        rows = []
        for ace_sid, rights, deny, inheritance, inherited in mailbox.acl:
            if wanted and ace_sid != wanted:
                continue
            row = {"Identity": mailbox.name, "User": self._display(ace_sid), "UserSid": ace_sid,
                   "AccessRights": [", ".join(rights)], "IsInherited": inherited, "Deny": deny}
            if self.show_inheritance:
                row["InheritanceType"] = inheritance
            rows.append(row)
        return CommandResult(rows)

    def _display(self, ace_sid):
        if ace_sid == SELF_SID:
            return "NT AUTHORITY\\SELF"
        for recipient in self.recipients:
            if recipient.sid == ace_sid:
                return recipient.address
        return ace_sid

    def _trustee_sid(self, user):
        if str(user).upper().startswith("S-1-"):
            return str(user).upper()
        return self.find(user).sid

    def _add_mailboxpermission(self, parameters):
        mailbox = self.find(parameters["Identity"], mailbox_only=True)
        trustee_sid = self._trustee_sid(parameters["User"])
        deny = parameters.get("Deny", False)
        inheritance = parameters.get("InheritanceType", "All")
        for ace in mailbox.acl:
            if ace[0] == trustee_sid and ace[2] == deny and ace[3] == inheritance and not ace[4]:
                if set(parameters["AccessRights"]) <= set(ace[1]):
                    return CommandResult(warnings=["The appropriate access control entry is already present on the "
                                                   "object \"%s\" for account \"%s\"." % (mailbox.name, trustee_sid)])
                ace[1] = sorted(set(ace[1]) | set(parameters["AccessRights"]))
                return CommandResult([{"Identity": mailbox.name}])
        if sum(1 for ace in mailbox.acl if not ace[4]) >= 500:
            raise AclLimitError("'%s' has reached the limit of maximum allowed access control entries of 500"
                                % mailbox.name)
        mailbox.acl.append([trustee_sid, list(parameters["AccessRights"]), deny, inheritance, False])
        return CommandResult([{"Identity": mailbox.name}])

    def _remove_mailboxpermission(self, parameters):
        mailbox = self.find(parameters["Identity"], mailbox_only=True)
        trustee_sid = self._trustee_sid(parameters["User"])
        deny = parameters.get("Deny", False)
        inheritance = parameters.get("InheritanceType", "All")
        for ace in list(mailbox.acl):
            if ace[0] == trustee_sid and ace[2] == deny and ace[3] == inheritance and not ace[4]:
                remaining = [r for r in ace[1] if r not in parameters["AccessRights"]]
                if remaining:
                    ace[1] = remaining
                else:
                    mailbox.acl.remove(ace)
                return CommandResult()
        return CommandResult(warnings=["Can't remove the access control entry on the object \"%s\" for account \"%s\" "
                                       "because the ACE doesn't exist on the object." % (mailbox.name, trustee_sid)])


class FakePipeline:
    """Pipeline.run without threads or HTTP: commands answered in order by the fake tenant."""

    def __init__(self, exchange, stop_on_error=False, watch=None):
        self.exchange = exchange
        self.stop_on_error = stop_on_error
        self.stopped = None
        self.watch = watch

    def stop(self, reason):
        self.stopped = self.stopped or reason

    def run(self, commands, keep=None):
        results = []
        for command in commands:
            if self.watch is not None:
                self.watch.tick()
            if self.stopped:
                results.append(NotAttemptedError("not attempted: %s" % self.stopped))
                continue
            result = self.exchange.answer(command.cmdlet, command.parameters)
            if isinstance(result, ExchangeError):
                if self.stop_on_error and not isinstance(result, TransientError):
                    self.stopped = "the run stopped after an earlier failure: %s" % result
            elif keep is not None:
                result = keep(result)
            results.append(result)
        return results


class FakeWatch:
    """A controller watch the test fires: after `after` more commands, or never."""

    def __init__(self, after=None):
        self.after = after
        self.gone = None
        self._handlers = []

    def on_gone(self, handler):
        self._handlers.append(handler)

    def tick(self):
        if self.after is None or self.gone:
            return
        self.after -= 1
        if self.after < 0:
            self.gone = "the process that started this module (ansible-playbook, PID 4242) is gone"
            for handler in self._handlers:
                handler(self.gone)
