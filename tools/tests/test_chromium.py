"""devtools.chromium: finding Chromium, installing Debian's package when missing (root only), the session's env."""

import subprocess

import pytest

from devtools import chromium


class Apt:
    """A stand-in for subprocess.run: records commands; an install "puts" chromium on PATH unless told to fail."""

    def __init__(self, fail_first_install=False):
        self.commands = []
        self.installed = False
        self.fail_first_install = fail_first_install

    def which(self, name):
        if name == "apt-get":
            return "/usr/bin/apt-get"
        return "/usr/bin/chromium" if self.installed and name == "chromium" else None

    def __call__(self, command, env=None, stdin=None, check=False):
        self.commands.append(command)
        code = 0
        if command[:2] == ["apt-get", "install"]:
            if self.fail_first_install and len(self.commands) == 1:
                code = 100
            else:
                self.installed = True
        if check and code:
            raise subprocess.CalledProcessError(code, command)
        assert env["DEBIAN_FRONTEND"] == "noninteractive"
        return subprocess.CompletedProcess(command, code)


def test_the_given_binary_wins_and_must_be_executable(tmp_path):
    binary = tmp_path / "chrome"
    binary.write_text("#!/bin/sh\n", encoding="utf-8")
    with pytest.raises(chromium.ChromiumUnavailable, match="is not an executable file"):
        chromium.find({"M365_CHROMIUM": str(binary)}, which=lambda name: "/usr/bin/chromium")
    binary.chmod(0o755)
    assert chromium.find({"M365_CHROMIUM": str(binary)}, which=lambda name: "/usr/bin/chromium") == str(binary)


def test_one_on_path_is_used_without_installing():
    apt = Apt()
    apt.installed = True
    assert chromium.ensure(log=lambda line: None, environ={}, run=apt, which=apt.which, euid=1000) == \
        "/usr/bin/chromium"
    assert apt.commands == []


def test_missing_and_not_root_says_what_to_do():
    apt = Apt()
    with pytest.raises(chromium.ChromiumUnavailable, match="apt-get install -y chromium"):
        chromium.ensure(log=lambda line: None, environ={}, run=apt, which=apt.which, euid=1000)
    assert apt.commands == []


def test_root_installs_debians_package_and_updates_the_lists_only_when_needed(tmp_path, monkeypatch):
    monkeypatch.setattr(chromium, "LOCK", tmp_path / "lock")
    apt = Apt()
    assert chromium.ensure(log=lambda line: None, environ={}, run=apt, which=apt.which, euid=0) == "/usr/bin/chromium"
    assert apt.commands == [chromium.install_command()]
    apt = Apt(fail_first_install=True)
    assert chromium.ensure(log=lambda line: None, environ={}, run=apt, which=apt.which, euid=0) == "/usr/bin/chromium"
    assert [c[:2] for c in apt.commands] == [["apt-get", "install"], ["apt-get", "update"], ["apt-get", "install"]]


def test_the_session_env_names_the_binary_or_why_not(monkeypatch):
    monkeypatch.setattr(chromium, "ensure", lambda log: "/opt/chromium")
    assert chromium.session_env(log=lambda line: None) == {"M365_CHROMIUM": "/opt/chromium"}

    def unavailable(log):
        raise chromium.ChromiumUnavailable("no root")

    monkeypatch.setattr(chromium, "ensure", unavailable)
    assert chromium.session_env(log=lambda line: None) == {"M365_CHROMIUM_SKIP": "no root"}


def test_the_headless_command_has_a_fresh_profile():
    command = chromium.headless_command("/usr/bin/chromium", "/tmp/p", ["--dump-dom", "file:///x.html"])
    assert command[0] == "/usr/bin/chromium" and "--headless" in command and "--user-data-dir=/tmp/p" in command
    assert command[-2:] == ["--dump-dom", "file:///x.html"]
