# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running the collection's playbooks against the emulator, and reading the emulator's state back."""

import csv
import json
import os
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLAYBOOKS = os.path.join(REPO, "playbooks")
BIN = os.path.dirname(sys.executable)
TENANTS = ("contoso.onmicrosoft.com", "fabrikam.onmicrosoft.com")


def collections_path():
    return os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(REPO, "build", "collections")


class Tenant:
    """One emulated tenant seen from a test: its connection values and its live state."""

    def __init__(self, server, record):
        self.server = server
        self.record = record
        self.domain = record["tenant"]
        self.delegate = "archive.admin@" + self.domain

    def env(self):
        record = self.record
        return {
            "EXO_TENANT": record["tenant"],
            "EXO_CLIENT_ID": record["client_id"],
            "EXO_CLIENT_SECRET": record["client_secret"],
            "EXO_API_URL": self.server.connection["api_url"],
            "EXO_AUTHORITY_URL": self.server.connection["authority_url"],
            "EXO_CA_PATH": self.server.connection["ca_path"],
        }

    def host_vars(self):
        return dict((key.lower(), value) for key, value in self.env().items())

    def counters(self):
        return self.server.counters(self.domain)

    def full_access_holders(self, trustee=None):
        """Mailboxes (primary SMTP) where the trustee holds explicit, allowing FullAccess, from the emulator's state."""
        state = self.server.state(self.domain)
        by_address = dict((r.get("primary_smtp", "").lower(), r) for r in state["recipients"])
        sid = by_address[(trustee or self.delegate).lower()]["sid"]
        holders = set()
        for recipient in state["recipients"]:
            for ace_sid, rights, deny, _inheritance, inherited in recipient.get("acl") or []:
                if ace_sid == sid and "FullAccess" in rights and not deny and not inherited:
                    holders.add(recipient["primary_smtp"].lower())
        return holders

    def holders_by_id(self, trustee=None, include_soft_deleted=False):
        """{ExternalDirectoryObjectId: primary SMTP} of the mailboxes where the trustee holds explicit, allowing
        FullAccess (active mailboxes only, unless include_soft_deleted)."""
        state = self.server.state(self.domain)
        by_address = dict((r.get("primary_smtp", "").lower(), r) for r in state["recipients"]
                          if not r.get("soft_deleted"))
        sid = by_address[(trustee or self.delegate).lower()]["sid"]
        holders = {}
        for recipient in state["recipients"]:
            if recipient.get("soft_deleted") and not include_soft_deleted:
                continue
            for ace_sid, rights, deny, _inheritance, inherited in recipient.get("acl") or []:
                if ace_sid == sid and "FullAccess" in rights and not deny and not inherited:
                    holders[recipient["edoid"]] = recipient["primary_smtp"].lower()
        return holders

    def recipient(self, address):
        """The emulator's record of the active recipient with this primary SMTP address."""
        for record in self.server.state(self.domain)["recipients"]:
            if record.get("primary_smtp", "").lower() == address.lower() and not record.get("soft_deleted"):
                return record
        raise KeyError(address)

    def automapping(self, mailbox):
        return self.server.permissions(self.domain, mailbox)["automapping"]


class PlaybookRun:
    def __init__(self, returncode, output):
        self.returncode = returncode
        self.output = output

    def __repr__(self):
        return "PlaybookRun(rc=%d)\n%s" % (self.returncode, self.output[-6000:])


def playbook_path(name):
    """One of the collection's playbooks by name, or a playbook file given by its absolute path."""
    return name if os.path.isabs(name) else os.path.join(PLAYBOOKS, name + ".yml")


def playbook_command(name, extra_vars=None, inventory=None, check=False):
    command = [os.path.join(BIN, "ansible-playbook"), playbook_path(name)]
    if inventory:
        command += ["-i", inventory]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    if check:
        command.append("--check")
    return command


def playbook_env(tenant=None, extra=None):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    for key in list(env):
        if key.startswith(("EXO_", "AZURE_")):
            del env[key]
    if tenant is not None:
        env.update(tenant.env())
    env.update(extra or {})
    return env


def read_csv_report(path):
    """The archive_access CSV report: its facts ({field: [value, detail...]}, status first) and its per-mailbox rows
    (dicts), which follow the facts after an empty line."""
    with open(path, encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    split = lines.index([])
    header = lines[split + 1]
    return dict((line[0], line[1:]) for line in lines[:split]), [dict(zip(header, line)) for line in lines[split + 2:]]
