# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's demo with its quiet output, against the emulator: the story in a screenful, and true."""

import glob
import os
import re
import subprocess

from playbook_support import BIN, REPO, playbook_env  # pylint: disable=import-error

GETTING_STARTED = os.path.join(REPO, "docs", "getting-started.md")
PLAY_NAME = "Demo - an archive-access campaign against the emulated tenant"
PRE_EXISTING = ("ceo@", "legal.hold@")


def documented_output():
    """The demo's output as docs/getting-started.md shows it: the text block that starts with the play's name."""
    with open(GETTING_STARTED, encoding="utf-8") as handle:
        text = handle.read()
    found = [body for body in re.findall(r"^```text\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
             if body.startswith(PLAY_NAME)]
    assert len(found) == 1, "docs/getting-started.md shows the demo's output once, in a text block"
    return found[0].splitlines()


def steps(lines):
    """The first word of each line of the story (not of continuation lines, nor of Ansible's warnings)."""
    return [line.split()[0] for line in lines if line.strip() and not line[0].isspace() and not line.startswith("[")]


def number(pattern, text):
    match = re.search(pattern, text, re.MULTILINE)
    assert match, "no line matches %r in:\n%s" % (pattern, text)
    return int(match.group(1))


def test_the_demo_tells_the_story_in_a_screenful(tenant, tmp_path):
    output_dir = tmp_path / "demo-output"
    env = dict(playbook_env(tenant), ANSIBLE_STDOUT_CALLBACK="m365.exchange.quiet")
    completed = subprocess.run([os.path.join(BIN, "ansible-playbook"), os.path.join(REPO, "playbooks", "demo.yml"),
                                "-e", "demo_output_dir=%s" % output_dir], env=env, cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=900, check=False)
    output = completed.stdout
    assert completed.returncode == 0, output
    lines = output.splitlines()
    assert lines[0] == PLAY_NAME
    assert len(lines) <= 16, output  # a screenful
    assert steps(lines) == steps(documented_output())

    # the claims are the tenant's: what the emulator counted, and the access left afterwards
    counters = tenant.counters()
    granted = number(r"^grant +(\d+) writes \((\d+) Add-MailboxPermission\)", output)
    assert number(r"^rerun +(\d+) writes", output) == 0
    assert number(r"^revoke +(\d+) writes", output) == granted
    assert counters["cmdlets"]["Add-MailboxPermission"] == granted == counters["cmdlets"]["Remove-MailboxPermission"]
    assert counters["writes"] == 2 * granted
    assert tenant.full_access_holders() == set(local + tenant.domain for local in PRE_EXISTING)
    assert len(glob.glob(str(output_dir / "reports" / "*.html"))) == 3
    assert str(output_dir / "reports") in output
