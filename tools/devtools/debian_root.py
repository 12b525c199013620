"""A Debian 13 (trixie) root with Python 3.13, to test the newest ansible-core where the machine's Python is older.

The root is built with ``debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates,openssh-client
trixie``
(as root; debootstrap is installed from Debian's packages when missing) in the machine's cache,
``~/.cache/m365-exchange/debian-trixie`` (``M365_DEV_CACHE`` moves ``~/.cache/m365-exchange``), and kept:
later runs on the same machine reuse it, a fresh machine builds it (about a minute).

Commands run in it with chroot inside a private mount namespace (``unshare --mount``) that binds /dev and /proc
in: the mounts end with the command, and runs of several work trees at once do not disturb each other.
pip inside uses the host's CA bundle and pip configuration, copied in before each use.
"""

from __future__ import annotations

import configparser
import contextlib
import fcntl
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Sequence

SUITE = "trixie"
# openssh-client: ansible-test integration wants ssh-keygen even for --local runs.
INCLUDE = ("python3", "python3-venv", "ca-certificates", "openssh-client")
VARIANT = "minbase"
STAMP = "m365-exchange-root.json"
# Where the host's CA bundle goes in the root (the root's own bundle stays as Debian made it).
HOST_CA_BUNDLE = "/etc/ssl/host-ca-bundle.crt"
# pip configuration keys whose value is a file pip must find inside the root too, at the same path. A ``cert``
# naming /etc/ssl/certs/ca-certificates.crt puts the host's bundle in place of the root's: tools that ignore
# PIP_CERT (ansible-test runs pip with an environment of its own) then trust what the host trusts.
PIP_FILE_KEYS = ("cert", "client-cert", "constraint", "constraints", "requirement", "requirements")
# Host environment variables passed into the root (the rest of the host's environment stays out).
PASSED_VARIABLES = ("CI", "NO_COLOR", "FORCE_COLOR", "PY_COLORS", "TERM", "ANSIBLE_NOCOLOR", "ANSIBLE_FORCE_COLOR")
CA_VARIABLES = ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Work directories in the root (/srv/m365-exchange/<checkout>) unused for this long are removed.
WORKDIR_MAX_AGE = 7 * 24 * 3600


class RootError(RuntimeError):
    """The root cannot be built or used here; the message says why and what would help."""


def cache_dir() -> Path:
    """The machine's cache of this project's development tools."""
    if os.environ.get("M365_DEV_CACHE"):
        return Path(os.environ["M365_DEV_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "m365-exchange"


def host_ca_bundle(environ: Optional[Mapping[str, str]] = None) -> Optional[Path]:
    """The CA bundle the host's pip and requests use: the first of PIP_CERT, REQUESTS_CA_BUNDLE, SSL_CERT_FILE and
    Debian's bundle that exists."""
    environ = os.environ if environ is None else environ
    candidates = [environ.get(name) for name in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")]
    candidates.append("/etc/ssl/certs/ca-certificates.crt")
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def pip_config_files(environ: Optional[Mapping[str, str]] = None, home: Optional[Path] = None) -> List[Path]:
    """pip's configuration files on the host (global, user, PIP_CONFIG_FILE), the ones that exist."""
    environ = os.environ if environ is None else environ
    home = Path(home or Path.home())
    xdg_dirs = (environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep)
    candidates = [Path(d) / "pip" / "pip.conf" for d in xdg_dirs if d] + [Path("/etc/pip.conf")]
    candidates += [Path(environ.get("XDG_CONFIG_HOME") or home / ".config") / "pip" / "pip.conf",
                   home / ".pip" / "pip.conf"]
    if environ.get("PIP_CONFIG_FILE") and environ["PIP_CONFIG_FILE"] != os.devnull:
        candidates.append(Path(environ["PIP_CONFIG_FILE"]))
    seen, found = set(), []
    for path in candidates:
        if path.is_file() and path not in seen:
            seen.add(path)
            found.append(path)
    return found


def files_named_by_pip_config(path: Path) -> List[Path]:
    """Files a pip configuration file points at (constraints, requirements, client certificate) that exist."""
    parser = configparser.RawConfigParser()
    try:
        parser.read(str(path), encoding="utf-8")
    except configparser.Error:
        return []
    found = []
    for section in parser.sections():
        for key in PIP_FILE_KEYS:
            for value in parser.get(section, key, fallback="").split():
                if Path(value).is_absolute() and Path(value).is_file():
                    found.append(Path(value))
    return found


def mounts_under(path: Path, mountinfo: str = "/proc/self/mountinfo") -> List[str]:
    """Mount points at or below path (a root must never be deleted while something is mounted in it)."""
    prefix = str(Path(path).resolve())
    try:
        lines = Path(mountinfo).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    points = [line.split()[4].replace("\\040", " ") for line in lines if len(line.split()) > 4]
    return [point for point in points if point == prefix or point.startswith(prefix + "/")]


class DebianRoot:
    """One cached Debian root; ``ensure()`` builds it when it is missing or was built with other settings."""

    def __init__(self, path: Optional[Path] = None, suite: str = SUITE, include: Sequence[str] = INCLUDE,
                 mirror: Optional[str] = None, log: Callable[[str], None] = print) -> None:
        self.path = Path(path or cache_dir() / ("debian-" + suite))
        self.suite = suite
        self.include = tuple(include)
        self.mirror = mirror or os.environ.get("M365_DEBIAN_MIRROR") or None
        self.log = log

    # -- building ------------------------------------------------------------------------------------------

    def recipe(self) -> Dict[str, object]:
        """What decides the root's content; a root built from another recipe is built anew."""
        return {"suite": self.suite, "variant": VARIANT, "include": sorted(self.include), "mirror": self.mirror}

    def ready(self) -> bool:
        """True when the root exists, was built from this recipe and has its Python."""
        try:
            stamp = json.loads((self.path / STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return stamp.get("recipe") == self.recipe() and (self.path / "usr" / "bin" / "python3").exists()

    @contextlib.contextmanager
    def lock(self, name: str = "build") -> Iterator[None]:
        """Hold an exclusive lock for this root (other processes wait)."""
        lock_path = self.path.parent / (".%s.%s.lock" % (self.path.name, name))
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "w", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ensure(self) -> bool:
        """Build the root unless it is ready; return True when it was built now."""
        if self.ready():
            return False
        with self.lock():
            if self.ready():
                return False
            self.build()
        return True

    def build(self) -> None:
        """debootstrap a new root next to the old one, then put it in place (a killed build leaves no half root)."""
        if os.geteuid() != 0:
            raise RootError("building the Debian %s root needs root (debootstrap and chroot); run as root, or "
                            "leave out the sessions of the newest ansible-core" % self.suite)
        debootstrap = ensure_debootstrap(self.log)
        partial = self.path.with_name(self.path.name + ".partial")
        self._remove(partial)
        cmd = [debootstrap, "--variant=" + VARIANT, "--include=" + ",".join(self.include), self.suite, str(partial)]
        if self.mirror:
            cmd.append(self.mirror)
        self.log("Building the Debian %s root (cached for later runs): %s" % (self.suite, shlex.join(cmd)))
        started = time.monotonic()
        # In a mount namespace of its own: whatever debootstrap mounts in the new root ends with it.
        result = subprocess.run(["unshare", "--mount", "--propagation", "private", "--"] + cmd,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        if result.returncode != 0:
            tail = "\n".join(result.stdout.decode("utf-8", "replace").splitlines()[-30:])
            raise RootError("debootstrap failed (exit code %d):\n%s" % (result.returncode, tail))
        (partial / STAMP).write_text(json.dumps({"recipe": self.recipe(), "built": time.time()}) + "\n",
                                     encoding="utf-8")
        self._remove(self.path)
        partial.rename(self.path)
        self.log("Built %s in %.0f s" % (self.path, time.monotonic() - started))

    @staticmethod
    def _remove(path: Path) -> None:
        if not path.exists():
            return
        mounted = mounts_under(path)
        if mounted:
            raise RootError("will not remove %s: mounted below it: %s (unmount them first)" % (path, ", ".join(mounted)))
        shutil.rmtree(path)

    # -- using ---------------------------------------------------------------------------------------------

    def carry_host_settings(self) -> None:
        """Copy the host's CA bundle, pip configuration and name resolution into the root."""
        bundle = host_ca_bundle()
        if bundle is not None:
            self._copy_in(bundle, HOST_CA_BUNDLE)
        for config in pip_config_files():
            self._copy_in(config, str(config))
            for named in files_named_by_pip_config(config):
                self._copy_in(named, str(named))
        for name in ("/etc/resolv.conf", "/etc/hosts"):
            if Path(name).is_file():
                self._copy_in(Path(name), name)

    def _copy_in(self, source: Path, inside: str) -> None:
        target = self.inside(inside)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".%d.tmp" % os.getpid())
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)

    def inside(self, path: str) -> Path:
        """The host path of a path inside the root."""
        return self.path / str(path).lstrip("/")

    def environment(self, extra: Optional[Mapping[str, str]] = None,
                    environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        """The environment of a command in the root: a clean one, plus pip's settings and the host's CA bundle."""
        environ = os.environ if environ is None else environ
        env = {"PATH": ROOT_PATH, "HOME": "/root", "LANG": "C.UTF-8", "USER": "root"}
        for key, value in environ.items():
            if key.startswith("PIP_") or key in PASSED_VARIABLES:
                env[key] = value
        if self.inside(HOST_CA_BUNDLE).is_file():
            env.update(dict.fromkeys(CA_VARIABLES, HOST_CA_BUNDLE))
        env.update(extra or {})
        return env

    def command(self, argv: Sequence[str], cwd: str = "/", env: Optional[Mapping[str, str]] = None) -> List[str]:
        """The host command line that runs argv in the root, in cwd (a path inside the root), with env only."""
        enter = ('set -e; root="$1"; shift; mount --rbind /dev "$root/dev"; mount --rbind /proc "$root/proc"; '
                 'exec chroot "$root" "$@"')
        inner = ["/usr/bin/env", "-i"] + ["%s=%s" % item for item in sorted((env or self.environment()).items())]
        inner += ["/bin/sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", cwd] + [str(arg) for arg in argv]
        return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", enter, "sh",
                str(self.path)] + inner

    def workdir(self, checkout: Path) -> str:
        """A directory inside the root for one work tree of the host (by its path), marked as used now."""
        key = hashlib.sha1(str(Path(checkout).resolve()).encode("utf-8")).hexdigest()[:12]
        inner = "/srv/m365-exchange/" + key
        self.inside(inner).mkdir(parents=True, exist_ok=True)
        os.utime(self.inside(inner))
        return inner

    def prune_workdirs(self, max_age: float = WORKDIR_MAX_AGE, now: Optional[float] = None) -> List[str]:
        """Remove work directories of checkouts unused for max_age seconds (CI clones come and go)."""
        parent, now, removed = self.inside("/srv/m365-exchange"), now or time.time(), []
        if not parent.is_dir():
            return removed
        for entry in parent.iterdir():
            if entry.is_dir() and now - entry.stat().st_mtime > max_age and not mounts_under(entry):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry.name)
        return removed


def ensure_debootstrap(log: Callable[[str], None] = print) -> str:
    """The path of debootstrap, installed with apt-get from Debian's packages when missing."""
    found = shutil.which("debootstrap") or next((p for p in ("/usr/sbin/debootstrap",) if os.access(p, os.X_OK)), None)
    if found:
        return found
    if not shutil.which("apt-get"):
        raise RootError("debootstrap is missing and there is no apt-get to install it")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "debootstrap"]
    log("Installing debootstrap: " + shlex.join(install))
    if subprocess.run(install, env=env, stdin=subprocess.DEVNULL, check=False).returncode != 0:
        log("apt-get install failed; updating the package lists first")
        subprocess.run(["apt-get", "update", "-q"], env=env, stdin=subprocess.DEVNULL, check=True)
        subprocess.run(install, env=env, stdin=subprocess.DEVNULL, check=True)
    found = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not os.access(found, os.X_OK):
        raise RootError("apt-get installed debootstrap, but it is not at %s" % found)
    return found
