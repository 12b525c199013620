"""devtools.ansible_test and the get-pip stand-in: ansible-test offline, and sanity tests that must all run."""

import os
import sys

import pytest

from devtools import ansible_test, get_pip

SANITY_OUTPUT = """\
Running sanity test "ansible-doc"
Running sanity test "compile" on Python 3.11
Running sanity test "pep8"
Skipping sanity test "yamllint" due to missing libyaml support in PyYAML.
Running sanity test "yamllint"
"""


def test_required_sanity_tests_that_did_not_run_or_were_skipped_are_named():
    missing = ansible_test.sanity_tests_not_run(SANITY_OUTPUT, ("ansible-doc", "compile", "pep8", "pylint",
                                                                "yamllint"))
    assert missing == ["pylint", "yamllint"]


def test_nothing_is_missing_when_every_required_test_ran():
    assert ansible_test.sanity_tests_not_run(SANITY_OUTPUT, ("ansible-doc", "compile", "pep8")) == []


def test_ignore_files_are_found(tmp_path):
    assert ansible_test.sanity_ignore_files(tmp_path) == []
    (tmp_path / "tests" / "sanity").mkdir(parents=True)
    (tmp_path / "tests" / "sanity" / "ignore-2.19.txt").write_text("", encoding="utf-8")
    assert ansible_test.sanity_ignore_files(tmp_path) == ["tests/sanity/ignore-2.19.txt"]


def test_the_stand_in_goes_where_ansible_test_looks_for_its_cached_script(tmp_path, monkeypatch):
    monkeypatch.setattr(ansible_test, "bootstrap_pip_version", lambda python: "24.2")
    written = ansible_test.install_get_pip_standin(sys.executable, home=tmp_path)
    assert written == tmp_path / ".ansible" / "test" / "cache" / "get_pip_24_2.py"
    assert ansible_test.STANDIN_MARKER in written.read_text(encoding="utf-8")
    assert ansible_test.install_get_pip_standin(sys.executable, home=tmp_path) is None  # already there


def test_a_real_cached_get_pip_script_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(ansible_test, "bootstrap_pip_version", lambda python: "25.2")
    cached = ansible_test.standin_path("25.2", tmp_path)
    cached.parent.mkdir(parents=True)
    cached.write_text("# the real get-pip.py\n", encoding="utf-8")
    assert ansible_test.install_get_pip_standin(sys.executable, home=tmp_path) is None
    assert cached.read_text(encoding="utf-8") == "# the real get-pip.py\n"


def test_an_older_stand_in_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(ansible_test, "bootstrap_pip_version", lambda python: "25.2")
    cached = ansible_test.standin_path("25.2", tmp_path)
    cached.parent.mkdir(parents=True)
    cached.write_text('"""%s, an older copy"""\n' % ansible_test.STANDIN_MARKER, encoding="utf-8")
    assert ansible_test.install_get_pip_standin(sys.executable, home=tmp_path) == cached
    assert cached.read_text(encoding="utf-8") == ansible_test.STANDIN.read_text(encoding="utf-8")


def fake_python(tmp_path, script):
    path = tmp_path / "python"
    path.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def test_the_pip_version_comes_from_ansible_test(tmp_path):
    python = fake_python(tmp_path, 'case "$2" in *version_info*) echo 3.13;; *"version=\'3.13\'"*) echo 25.2;; '
                                   '*) exit 3;; esac\n')
    assert ansible_test.bootstrap_pip_version(python) == "25.2"


def test_without_ansible_test_the_pip_version_cannot_be_told(tmp_path):
    python = fake_python(tmp_path, 'case "$2" in *version_info*) echo 3.11;; *) echo "ModuleNotFoundError: No module '
                                   'named ansible_test" >&2; exit 1;; esac\n')
    with pytest.raises(RuntimeError, match="cannot tell which pip version .*No module named ansible_test"):
        ansible_test.bootstrap_pip_version(python)


def test_the_stand_in_bootstraps_pip_then_installs_without_get_pip_only_options(monkeypatch):
    calls = []
    monkeypatch.setattr(get_pip, "ensurepip_bootstrap", lambda: True)
    monkeypatch.setattr(get_pip.subprocess, "call", lambda cmd: calls.append(cmd) or 0)
    monkeypatch.setattr(sys, "argv", ["get_pip.py", "--disable-pip-version-check", "pip==24.2", "--no-setuptools",
                                      "--no-wheel"])
    with pytest.raises(SystemExit) as exited:
        get_pip.main()
    assert exited.value.code == 0
    assert calls == [[sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "pip==24.2"]]


def test_ensurepip_must_not_leave_pip_without_the_machines_index_settings(monkeypatch):
    """ensurepip sets PIP_CONFIG_FILE=/dev/null; pip would then ignore the index and certificate settings."""

    def bootstrap(upgrade):
        assert upgrade
        os.environ["PIP_CONFIG_FILE"] = os.devnull

    monkeypatch.delenv("PIP_CONFIG_FILE", raising=False)
    monkeypatch.setattr("ensurepip.bootstrap", bootstrap)
    assert get_pip.ensurepip_bootstrap() is True
    assert "PIP_CONFIG_FILE" not in os.environ
