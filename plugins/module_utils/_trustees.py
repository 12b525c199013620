# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The trustee of a delegation (who gets or loses access), resolved once per task.

Exchange accepts some principals as trustees although the access can never work for them (a security group
that is not mail-enabled, a distribution group); they are refused here, whichever cmdlet reports them. The
trustee's SID is read too (Get-User or Get-Group), so that permission rows are matched on `UserSid`, never on
the display string in their `User` column.
"""

from ansible_collections.m365.exchange.plugins.module_utils._errors import (
    AmbiguousIdentityError,
    InvalidInputError,
    NotFoundError,
)
from ansible_collections.m365.exchange.plugins.module_utils._mailboxes import identity_problem

TRUSTEE_FORMS = ("a user with a mailbox, a mail user or a mail-enabled security group, named by user principal name, "
                 "primary SMTP address or GUID")
RECIPIENT_PROPERTIES = ("Identity", "Name", "DisplayName", "PrimarySmtpAddress", "RecipientTypeDetails", "Guid",
                        "ExternalDirectoryObjectId")
GROUP_TYPES = frozenset(("MailUniversalSecurityGroup",))

_NOT_MAIL_ENABLED = ("a security group that is not mail-enabled (%s). Exchange accepts such a group as trustee but the "
                     "access does not work; mail-enable it or use a mail-enabled security group")
REFUSED_TRUSTEES = {
    "MailUniversalDistributionGroup": "a distribution group, which is not a security principal; use a mail-enabled "
                                      "security group or grant its members",
    "MailNonUniversalGroup": "a non-universal distribution group, which is not a security principal; use a "
                             "mail-enabled security group",
    "DynamicDistributionGroup": "a dynamic distribution group, which is not a security principal",
    "RoomList": "a room list, which is not a security principal",
    "GroupMailbox": "a Microsoft 365 group, which cannot hold mailbox permissions; use a mail-enabled security group "
                    "or grant its members",
    "MailContact": "a mail contact, which is not a security principal",
    "PublicFolder": "a public folder, which is not a security principal",
    "UniversalSecurityGroup": _NOT_MAIL_ENABLED % "UniversalSecurityGroup",
    "GlobalSecurityGroup": _NOT_MAIL_ENABLED % "GlobalSecurityGroup",
    "NonUniversalGroup": _NOT_MAIL_ENABLED % "NonUniversalGroup",
    "UniversalDistributionGroup": "a distribution group that is not mail-enabled, which is not a security principal",
}


class Trustee:
    """Who gets or loses the access."""

    def __init__(self, given, row=None, sid=None):
        row = row or {}
        self.given = given
        self.guid = row.get("Guid")
        self.object_name = row.get("Name")
        self.name = row.get("PrimarySmtpAddress") or row.get("Name") or given
        self.recipient_type_details = row.get("RecipientTypeDetails")
        self.sid = sid.upper() if sid else None
        # The GUID is unique where a name or alias may not be; an orphaned trustee is named by its SID.
        self.identity = self.guid or row.get("ExternalDirectoryObjectId") or given

    @classmethod
    def orphaned(cls, sid):
        """A trustee known only by its SID (a deleted user whose entries are left on mailboxes)."""
        sid = sid.strip().upper()
        trustee = cls(sid, sid=sid)
        trustee.recipient_type_details = "OrphanedSid"
        return trustee

    @property
    def is_group(self):
        return self.recipient_type_details in GROUP_TYPES

    def to_dict(self):
        return {"given": self.given, "name": self.name, "guid": self.guid, "sid": self.sid,
                "recipient_type_details": self.recipient_type_details}


def trustee_problem(user, option="user"):
    """Why the trustee cannot be looked up at all (empty or malformed), or None; checked before any request."""
    problem = identity_problem(user, option)
    if problem and problem.endswith(" is empty"):
        return "%s is empty: the trustee must be %s" % (option, TRUSTEE_FORMS)
    return problem


def is_sid(value):
    text = (value or "").strip().upper()
    return text.startswith("S-1-") and all(part.isdigit() for part in text[4:].split("-"))


def resolve_trustee(client, user, option="user", allow_sid=False):
    """Find the trustee, refusing principals Exchange would accept but that cannot work.

    With allow_sid, `user` may be a SID (S-1-5-21-...): an orphaned trustee whose entries are to be removed.
    """
    problem = trustee_problem(user, option)
    if problem:
        raise InvalidInputError(problem)
    user = user.strip()
    if is_sid(user):
        if not allow_sid:
            raise InvalidInputError("%s '%s' is a SID: a SID names an orphaned trustee, whose entries can only be "
                                    "removed (state=absent). To grant, name the trustee by %s." % (
                                        option, user, "user principal name, primary SMTP address or GUID"))
        return Trustee.orphaned(user)
    try:
        rows = client.invoke("Get-Recipient", {"Identity": user}, RECIPIENT_PROPERTIES).value
    except NotFoundError:
        raise _unusable_trustee(client, user, option)
    except AmbiguousIdentityError:
        raise InvalidInputError("%s '%s' matches several recipients; name the trustee by user principal name, primary "
                                "SMTP address or GUID" % (option, user))
    if len(rows) != 1:
        raise InvalidInputError("%s '%s' matches %d recipients; name the trustee by user principal name, primary SMTP "
                                "address or GUID" % (option, user, len(rows)))
    row = rows[0]
    refused = REFUSED_TRUSTEES.get(row.get("RecipientTypeDetails"))
    if refused:
        raise InvalidInputError("%s '%s' is %s. The trustee must be %s." % (option, user, refused, TRUSTEE_FORMS))
    return Trustee(user, row, _sid_of(client, row))


def _sid_of(client, row):
    """The trustee's SID from Get-Group or Get-User, or None when the service does not tell it."""
    cmdlet = "Get-Group" if row.get("RecipientTypeDetails") in GROUP_TYPES else "Get-User"
    identity = row.get("Guid") or row.get("ExternalDirectoryObjectId") or row.get("Identity")
    try:
        rows = client.invoke(cmdlet, {"Identity": identity}, ("Sid", "Guid")).value
    except (NotFoundError, AmbiguousIdentityError):
        return None
    sids = [r.get("Sid") for r in rows if isinstance(r.get("Sid"), str) and is_sid(r.get("Sid"))]
    return sids[0] if len(sids) == 1 else None


def _unusable_trustee(client, user, option):
    """Explain why a name that is not a recipient cannot be a trustee."""
    try:
        groups = client.invoke("Get-Group", {"Identity": user}, ("Name", "RecipientTypeDetails")).value
    except NotFoundError:
        groups = []
    except AmbiguousIdentityError:
        return InvalidInputError("%s '%s' matches several groups; use the group's GUID" % (option, user))
    if groups:
        kind = groups[0].get("RecipientTypeDetails") or "group"
        return InvalidInputError("%s '%s' is %s." % (option, user, REFUSED_TRUSTEES.get(kind, _NOT_MAIL_ENABLED % kind)))
    try:
        users = client.invoke("Get-User", {"Identity": user}, ("Name", "RecipientTypeDetails")).value
    except (NotFoundError, AmbiguousIdentityError):
        users = []
    if users:
        return InvalidInputError("%s '%s' exists but has no Exchange recipient (no mailbox, not a mail user); "
                                 "license it for Exchange Online first" % (option, user))
    return InvalidInputError("%s '%s' was not found: the trustee must be %s" % (option, user, TRUSTEE_FORMS))
