"""Headless Chromium from Debian's packages, for the tests that check the HTML reports in a real browser.

``ensure()`` returns the path of a Chromium binary: ``$M365_CHROMIUM`` when set, else the first of
``chromium`` / ``chromium-browser`` on PATH (Debian's package installs ``/usr/bin/chromium``), else it installs
Debian's ``chromium`` package with apt-get (as root; ``apt-get update`` first only when the install fails) and
returns that. Where installing is impossible (not root, or no apt-get) it raises ``ChromiumUnavailable`` with a
message that says what to do; a failing apt-get as root is an error, not a reason to skip.

``headless_command()`` is the command line the tests start it with: headless, no sandbox (root in CI), no GPU,
no background network traffic, no updates, no sync, no first-run screens, and a fresh profile directory.

The emulated nox session calls ``ensure()`` before pytest and passes the result on (``M365_CHROMIUM``, or
``M365_CHROMIUM_SKIP`` with the reason when it cannot be installed here); a lock file keeps two callers from
running apt-get at once. Standard library only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable, Iterator, List, Mapping, Optional, Sequence

PACKAGE = "chromium"
NAMES = ("chromium", "chromium-browser")
ENV_BINARY = "M365_CHROMIUM"
ENV_SKIP = "M365_CHROMIUM_SKIP"
HEADLESS_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run")
LOCK = Path(tempfile.gettempdir()) / "m365-exchange-chromium.lock"


class ChromiumUnavailable(RuntimeError):
    """Chromium is missing and cannot be installed on this machine (not root, or no apt-get)."""


def find(environ: Optional[Mapping[str, str]] = None, which: Callable[[str], Optional[str]] = shutil.which
         ) -> Optional[str]:
    """The Chromium binary to use, or None: $M365_CHROMIUM (which must be executable), else one on PATH."""
    environ = os.environ if environ is None else environ
    given = environ.get(ENV_BINARY)
    if given:
        if not os.access(given, os.X_OK):
            raise ChromiumUnavailable("%s=%s is not an executable file" % (ENV_BINARY, given))
        return given
    for name in NAMES:
        found = which(name)
        if found:
            return found
    return None


def install_command() -> List[str]:
    return ["apt-get", "install", "-y", "-q", "--no-install-recommends", PACKAGE]


def ensure(log: Callable[[str], None] = print, environ: Optional[Mapping[str, str]] = None,
           run: Callable[..., subprocess.CompletedProcess] = subprocess.run,
           which: Callable[[str], Optional[str]] = shutil.which, euid: Optional[int] = None) -> str:
    """The path of a Chromium binary, installed from Debian's packages when missing (needs root)."""
    found = find(environ, which)
    if found:
        return found
    euid = os.geteuid() if euid is None else euid
    if euid != 0:
        raise ChromiumUnavailable(
            "Chromium is not installed and installing it needs root: run `apt-get install -y %s` as root (or set "
            "%s to a Chromium binary)" % (PACKAGE, ENV_BINARY))
    if not which("apt-get"):
        raise ChromiumUnavailable("Chromium is not installed and there is no apt-get to install it: install Chromium "
                                  "and put it on PATH, or set %s to its binary" % ENV_BINARY)
    with _locked():
        found = find(environ, which)  # another process may have installed it meanwhile
        if found:
            return found
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        log("Installing Chromium from Debian's packages: " + shlex.join(install_command()))
        if run(install_command(), env=env, stdin=subprocess.DEVNULL, check=False).returncode != 0:
            log("apt-get install failed; updating the package lists first")
            run(["apt-get", "update", "-q"], env=env, stdin=subprocess.DEVNULL, check=True)
            run(install_command(), env=env, stdin=subprocess.DEVNULL, check=True)
    found = find(environ, which)
    if not found:
        raise RuntimeError("apt-get installed %s, but no %s is on PATH" % (PACKAGE, " or ".join(NAMES)))
    return found


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    with open(LOCK, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def headless_command(binary: str, user_data_dir: str, extra: Sequence[str] = ()) -> List[str]:
    """Chromium's command line for a headless run with a fresh profile in user_data_dir."""
    return [binary, *HEADLESS_FLAGS, "--user-data-dir=%s" % user_data_dir, *extra]


def session_env(log: Callable[[str], None] = print) -> dict:
    """What a test session passes to its tests: M365_CHROMIUM, or M365_CHROMIUM_SKIP with the reason."""
    try:
        return {ENV_BINARY: ensure(log)}
    except ChromiumUnavailable as exc:
        log("The browser tests will be skipped: %s" % exc)
        return {ENV_SKIP: str(exc)}
