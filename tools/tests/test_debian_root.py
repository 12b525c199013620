"""devtools.debian_root: the cached Debian root's recipe, the host settings carried in, the chroot command line.

Building a root needs root and the network; these tests use a directory laid out like one instead.
"""

import json
import os
import subprocess
import time

import pytest

from devtools import debian_root
from devtools.debian_root import DebianRoot, RootError


@pytest.fixture(name="root")
def fixture_root(tmp_path):
    root = DebianRoot(tmp_path / "debian-trixie", log=lambda message: None)
    (root.path / "usr" / "bin").mkdir(parents=True)
    (root.path / "usr" / "bin" / "python3").write_text("", encoding="utf-8")
    return root


def test_a_root_is_ready_only_when_built_from_the_same_recipe(root):
    assert not root.ready()  # no stamp: a build that did not finish
    (root.path / debian_root.STAMP).write_text(json.dumps({"recipe": root.recipe()}), encoding="utf-8")
    assert root.ready()
    assert not DebianRoot(root.path, include=("python3",)).ready()
    assert not DebianRoot(root.path, suite="forky").ready()
    assert root.recipe()["include"] == sorted(["python3", "python3-venv", "ca-certificates", "openssh-client"])


def test_ensure_does_not_build_a_ready_root(root, monkeypatch):
    (root.path / debian_root.STAMP).write_text(json.dumps({"recipe": root.recipe()}), encoding="utf-8")
    monkeypatch.setattr(DebianRoot, "build", lambda self: pytest.fail("built again"))
    assert root.ensure() is False


def test_building_needs_root(root, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(RootError, match="needs root"):
        root.build()


def test_a_root_with_something_mounted_in_it_is_never_removed(root, tmp_path):
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text("22 1 0:5 / /dev rw - devtmpfs udev rw\n"
                         "90 1 0:5 / %s/dev rw - devtmpfs udev rw\n" % root.path.resolve(), encoding="utf-8")
    assert debian_root.mounts_under(root.path, str(mountinfo)) == [str(root.path.resolve() / "dev")]
    assert debian_root.mounts_under(root.path.parent / "other", str(mountinfo)) == []


def test_removal_refuses_while_mounted(root, monkeypatch):
    monkeypatch.setattr(debian_root, "mounts_under", lambda path: [str(path) + "/proc"])
    with pytest.raises(RootError, match="will not remove"):
        DebianRoot._remove(root.path)  # pylint: disable=protected-access
    assert root.path.exists()


def test_pip_configuration_files_and_the_files_they_name(tmp_path):
    home, etc = tmp_path / "home", tmp_path / "etc"
    (home / ".config" / "pip").mkdir(parents=True)
    (etc / "pip").mkdir(parents=True)
    constraints = etc / "pip" / "constraints.txt"
    constraints.write_text("torch<=2\n", encoding="utf-8")
    user = home / ".config" / "pip" / "pip.conf"
    user.write_text("[global]\nfind-links = /opt/wheels\n", encoding="utf-8")
    system = etc / "pip" / "pip.conf"
    system.write_text("[global]\nconstraint = %s\ncert = /no/such/bundle.crt\n" % constraints, encoding="utf-8")
    found = debian_root.pip_config_files({"XDG_CONFIG_DIRS": str(etc)}, home=home)
    assert found[0] == system and found[-1] == user
    assert debian_root.files_named_by_pip_config(system) == [constraints]
    assert debian_root.files_named_by_pip_config(user) == []


def test_the_ca_bundle_is_the_one_pip_uses(tmp_path):
    bundle = tmp_path / "corporate.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    assert debian_root.host_ca_bundle({"PIP_CERT": str(bundle), "SSL_CERT_FILE": "/nonexistent"}) == bundle
    assert debian_root.host_ca_bundle({"PIP_CERT": "/nonexistent", "REQUESTS_CA_BUNDLE": str(bundle)}) == bundle


def test_host_settings_are_copied_to_the_same_paths_inside(root, tmp_path, monkeypatch):
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("host CAs\n", encoding="utf-8")
    config = tmp_path / "conf" / "pip.conf"
    config.parent.mkdir()
    config.write_text("[global]\ncert = %s\n" % bundle, encoding="utf-8")
    monkeypatch.setattr(debian_root, "host_ca_bundle", lambda: bundle)
    monkeypatch.setattr(debian_root, "pip_config_files", lambda: [config])
    root.carry_host_settings()
    assert root.inside(debian_root.HOST_CA_BUNDLE).read_text(encoding="utf-8") == "host CAs\n"
    assert root.inside(str(config)).read_text(encoding="utf-8") == config.read_text(encoding="utf-8")
    assert root.inside(str(bundle)).read_text(encoding="utf-8") == "host CAs\n"


def test_the_environment_inside_is_clean_but_keeps_pips_settings(root):
    root.inside(debian_root.HOST_CA_BUNDLE).parent.mkdir(parents=True)
    root.inside(debian_root.HOST_CA_BUNDLE).write_text("x", encoding="utf-8")
    env = root.environment({"M365_IN_DEBIAN_ROOT": "1"},
                           environ={"PIP_INDEX_URL": "https://mirror/simple", "PIP_CERT": "/host/path.pem", "CI": "true",
                                    "VIRTUAL_ENV": "/host/venv", "PYTHONPATH": "/host/lib", "PATH": "/host/bin"})
    assert env["PIP_INDEX_URL"] == "https://mirror/simple" and env["CI"] == "true"
    assert env["PIP_CERT"] == env["REQUESTS_CA_BUNDLE"] == env["SSL_CERT_FILE"] == debian_root.HOST_CA_BUNDLE
    assert "VIRTUAL_ENV" not in env and "PYTHONPATH" not in env
    assert env["PATH"] == debian_root.ROOT_PATH and env["HOME"] == "/root" and env["M365_IN_DEBIAN_ROOT"] == "1"


def test_the_command_enters_a_private_mount_namespace_then_the_root(root):
    cmd = root.command(["python3", "noxfile.py", "-s", "units-2.21"], cwd="/srv/x", env={"A": "b c"})
    assert cmd[:5] == ["unshare", "--mount", "--propagation", "private", "--"]
    enter = cmd[7]
    assert 'mount --rbind /dev "$root/dev"' in enter and 'mount --rbind /proc "$root/proc"' in enter
    assert cmd[9] == str(root.path)
    assert cmd[10:13] == ["/usr/bin/env", "-i", "A=b c"]
    assert cmd[-6:] == ["sh", "/srv/x", "python3", "noxfile.py", "-s", "units-2.21"]


def test_the_inner_shell_changes_directory_and_keeps_arguments(tmp_path):
    """The part of the command that runs inside the root, run here: cwd and arguments with spaces survive."""
    inner = ["/bin/sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", str(tmp_path), "sh", "-c", 'pwd; echo "$1"',
             "sh", "two words"]
    output = subprocess.run(inner, stdout=subprocess.PIPE, text=True, check=True).stdout
    assert output.splitlines() == [str(tmp_path), "two words"]


def test_work_directories_are_per_checkout_and_old_ones_are_pruned(root, tmp_path):
    first, second = root.workdir(tmp_path / "a"), root.workdir(tmp_path / "b")
    assert first != second and first.startswith("/srv/m365-exchange/")
    assert root.workdir(tmp_path / "a") == first
    old = time.time() - debian_root.WORKDIR_MAX_AGE - 60
    os.utime(root.inside(second), (old, old))
    assert root.prune_workdirs() == [second.rsplit("/", 1)[1]]
    assert root.inside(first).is_dir() and not root.inside(second).exists()


def test_debootstrap_is_installed_when_missing(monkeypatch):
    calls = []
    monkeypatch.setattr(debian_root.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None)
    monkeypatch.setattr(debian_root.os, "access", lambda path, mode: bool(calls))
    monkeypatch.setattr(debian_root.subprocess, "run",
                        lambda cmd, **kwargs: calls.append(cmd) or subprocess.CompletedProcess(cmd, 0))
    assert debian_root.ensure_debootstrap(lambda message: None) == "/usr/sbin/debootstrap"
    assert calls == [["apt-get", "install", "-y", "-q", "--no-install-recommends", "debootstrap"]]
