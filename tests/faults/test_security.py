# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets and tokens never reach output: representative playbooks at -vvvv, success and failure paths.

Each case runs playbooks/security.yml (mailbox_info with permissions, a grant with diff and a journal,
a debug of the result) at -vvvv with a log file, and then searches stdout, stderr, the log, the stored
task result and the journal for: every client secret and certificate password of the tenant, the wrong
ones the case used, every access token the emulator issued during the run (whole, and its signature),
anything shaped like a JWT, and private key material.
"""

import os
import re

import pytest

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")
WRONG_SECRET = "wrong~Secret-value-0123456789abcdef"
WRONG_PASSWORD = "wrong-pfx-password-98765"


def main_arguments(lab, **overrides):
    conn = lab.connection
    arguments = dict(tenant=conn["tenant"], client_id=conn["client_id"], client_secret=conn["client_secret"],
                     api_url=conn["api_url"], authority_url=conn["authority_url"], ca_path=conn["ca_path"])
    arguments.update(overrides)
    return dict((key, value) for key, value in arguments.items() if value is not None)


def app_arguments(lab, name):
    record = lab.connection["apps"][name]
    return main_arguments(lab, client_id=record["client_id"], client_secret=record["client_secret"])


def revoke_after_first_write(lab):
    def revoke():
        lab.server.update_app(lab.connection["client_id"], revoke_secret=True)
        lab.server.add_fault_rule(match={"endpoint": "batch"}, fault="error", status=401)
    lab.hook.after("Add-MailboxPermission", 1, revoke)


def token_rejected_twice(lab):
    lab.server.add_fault_rule(match={"endpoint": "invoke"}, fault="error", status=401, times=2)


# id: (module arguments, EXO_* overrides (None removes one), emulator set-up, succeeds, words in the failure)
CASES = {
    "secret-as-argument": (main_arguments, {}, None, True, None),
    "secret-from-environment": (lambda lab: main_arguments(lab, client_secret=None), {}, None, True, None),
    "pfx-certificate-and-password": (
        lambda lab: main_arguments(lab, client_secret=None, certificate_path=lab.connection["certificate_pfx_path"],
                                   certificate_password=lab.connection["certificate_password"]),
        {"EXO_CLIENT_SECRET": None}, None, True, None),
    "encrypted-pem-password-from-environment": (
        lambda lab: main_arguments(lab, client_secret=None,
                                   certificate_path=lab.connection["certificate_encrypted_path"]),
        {"EXO_CLIENT_SECRET": None, "EXO_CERTIFICATE_PASSWORD": "@certificate_password"}, None, True, None),
    "wrong-secret": (lambda lab: main_arguments(lab, client_secret=WRONG_SECRET), {}, None, False, "AADSTS7000215"),
    "wrong-certificate-password": (
        lambda lab: main_arguments(lab, client_secret=None, certificate_path=lab.connection["certificate_pfx_path"],
                                   certificate_password=WRONG_PASSWORD),
        {"EXO_CLIENT_SECRET": None}, None, False, "certificate_password is wrong"),
    "http-401-no-exchange-permission": (lambda lab: app_arguments(lab, "no_app_role"), {}, None, False, "HTTP 401"),
    "http-403-no-exchange-role": (lambda lab: app_arguments(lab, "no_exchange_role"), {}, None, False, "HTTP 403"),
    "http-401-token-rejected-twice": (main_arguments, {}, token_rejected_twice, False, "HTTP 401"),
    "secret-revoked-mid-run": (main_arguments, {}, revoke_after_first_write, False, "AADSTS7000222"),
    "validate-certs-false": (lambda lab: main_arguments(lab, ca_path=None, validate_certs=False), {}, None, True, None),
}


def secrets_of(lab):
    """{what: value} for every client secret and certificate password of the tenant, and the wrong ones."""
    values = {"the wrong client secret": WRONG_SECRET, "the wrong certificate password": WRONG_PASSWORD}
    records = [("main", lab.connection)] + sorted(lab.connection["apps"].items())
    for name, record in records:
        for key in ("client_secret", "certificate_password"):
            if record.get(key):
                values["%s of app %s" % (key, name)] = record[key]
    return values


def private_keys(lab):
    """The base64 body lines of the tenant's private keys (PEM files)."""
    lines = set()
    for record in [lab.connection] + list(lab.connection["apps"].values()):
        with open(record["certificate_path"], encoding="ascii") as handle:
            lines.update(line for line in handle.read().splitlines() if len(line) == 64 and "-" not in line)
    return lines


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_secret_or_token_in_any_output(lab, tmp_path, case):
    arguments, environment, setup, succeeds, words = CASES[case]
    lab.reset()
    if setup:
        setup(lab)
    environment = dict((key, lab.connection["certificate_password"] if value == "@certificate_password" else value)
                       for key, value in environment.items())
    log, journal = tmp_path / "ansible.log", tmp_path / "journal.jsonl"
    tokens_before = len(lab.tokens.tokens)
    run = lab.run("security.yml", {"sec_connection": arguments(lab), "sec_delegate": lab.delegate,
                                   "sec_journal": str(journal)},
                  connection=environment, env={"ANSIBLE_LOG_PATH": str(log)}, args=["-vvvv"])
    tokens = lab.tokens.tokens[tokens_before:]
    outputs = {"stdout": run.stdout, "stderr": run.stderr, "log file": read(log), "journal": read(journal),
               "stored result": read(os.path.join(run.result_dir, "localhost"))}

    # the run did what the case is about, at full verbosity
    assert "<localhost> EXEC" in run.stdout or "ESTABLISH LOCAL CONNECTION" in run.stdout, run.stdout[-2000:]
    assert (run.rc == 0) == succeeds, run.stdout[-3000:]
    if words:
        assert words in run.stdout, run.stdout[-3000:]
    if case in ("secret-revoked-mid-run", "http-401-token-rejected-twice", "secret-as-argument"):
        assert len(tokens) >= (2 if case != "secret-as-argument" else 1), tokens
    if case == "validate-certs-false":
        assert "validate_certs is false" in run.stdout
    if "client_secret" in arguments(lab) or "certificate_password" in arguments(lab):
        assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in run.stdout, "no-log masking was never exercised"

    leaks = []
    for name, text in outputs.items():
        for what, secret in secrets_of(lab).items():
            if secret in text:
                leaks.append("%s in %s" % (what, name))
        for token in tokens:
            if token in text or token.rsplit(".", 1)[-1] in text:
                leaks.append("an access token in %s" % name)
        if JWT.search(text):
            leaks.append("something shaped like a JWT in %s: %s..." % (name, JWT.search(text).group(0)[:12]))
        if "PRIVATE KEY" in text or any(line in text for line in private_keys(lab)):
            leaks.append("private key material in %s" % name)
    assert not leaks, leaks
