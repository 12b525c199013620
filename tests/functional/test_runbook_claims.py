# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What docs/runbook.md says about the scope, checked against the emulator's tenant.

- The default scope is user and shared mailboxes; room, equipment and Microsoft 365 group mailboxes are outside it
  and are included by naming their types in archive_access_scope.recipient_type_details.
- Soft-deleted and inactive mailboxes are never selected, not even by name.
"""

import json

PRE_EXISTING = ("ceo@", "legal.hold@")
OUTSIDE_THE_DEFAULT = ("room.atlantic@", "projector.1@", "project.phoenix@")  # room, equipment, group mailbox
NOT_ACTIVE = ("left.company@", "former.employee@")  # soft-deleted, inactive

SELECT = """
- name: What the scope selects
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Every mailbox Get-Mailbox lists, of every type
      m365.exchange.mailbox_info:
        recipient_type_details: [UserMailbox, SharedMailbox, RoomMailbox, EquipmentMailbox, GroupMailbox]
      register: every_type

    - name: The inactive and the soft-deleted mailbox, by name
      m365.exchange.mailbox_info:
        identity: "{{ not_active }}"
        missing: warn
      register: by_name

    - name: Write down what was selected
      ansible.builtin.copy:
        content: "{{ {'all': every_type.mailboxes | map(attribute='primary_smtp_address') | list,
                      'missing': by_name.missing} | to_json }}"
        dest: "{{ selected_path }}"
        mode: "0600"
"""


def addresses(tenant, locals_):
    return set(local + tenant.domain for local in locals_)


def test_soft_deleted_and_inactive_mailboxes_are_never_selected(tenant, tmp_path, run_playbook):
    playbook = tmp_path / "select.yml"
    playbook.write_text(SELECT, encoding="utf-8")
    not_active = sorted(addresses(tenant, NOT_ACTIVE))
    selected_path = tmp_path / "selected.json"
    run = run_playbook(str(playbook), tenant, {"not_active": not_active, "selected_path": str(selected_path)})
    assert run.returncode == 0, run
    selected = json.loads(selected_path.read_text(encoding="utf-8"))
    everything = set(a.lower() for a in selected["all"])
    assert addresses(tenant, OUTSIDE_THE_DEFAULT) <= everything
    assert not addresses(tenant, NOT_ACTIVE) & everything
    assert sorted(m.lower() for m in selected["missing"]) == not_active


def test_room_equipment_and_group_mailboxes_are_outside_the_default_scope_until_named(tenant, tmp_path, run_playbook):
    named = sorted(addresses(tenant, OUTSIDE_THE_DEFAULT + ("john.smith@",)))
    variables = {
        "archive_access_delegate": tenant.delegate,
        "archive_access_ledger": str(tmp_path / "campaign.ledger.jsonl"),
        "archive_access_report_dir": str(tmp_path / "reports"),
        "archive_access_scope": {"identities": named},
    }
    grant = run_playbook("grant_archive_access", tenant, variables)
    assert grant.returncode == 0, grant
    assert tenant.full_access_holders() == addresses(tenant, PRE_EXISTING + ("john.smith@",))

    # the runbook's way to include them: name their types in the scope
    variables["archive_access_scope"] = {"identities": named, "recipient_type_details": [
        "UserMailbox", "SharedMailbox", "RoomMailbox", "EquipmentMailbox", "GroupMailbox"]}
    grant = run_playbook("grant_archive_access", tenant, variables)
    assert grant.returncode == 0, grant
    assert tenant.full_access_holders() == addresses(tenant, PRE_EXISTING) | set(named)
