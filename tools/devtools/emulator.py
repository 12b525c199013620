"""Start and stop the Exchange Online emulator as a child process.

Used by the nox sessions (demo, integration) and the benchmarks. Standard library only, Python 3.9 or later.

Usage::

    import sys
    sys.path.insert(0, "<repo>/tools")
    from devtools.emulator import EmulatorProcess

    with EmulatorProcess(repo, workdir, generate=300, seed=11) as emu:
        env = dict(os.environ, **emu.module_env())
        ...  # emu.connection is the parsed connection file

The emulator itself lives in ``tests/emulator`` (package ``exo_emulator``);
its contract is in ``docs/architecture.md``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Dict, List, Mapping, Optional

# Keys the emulator's connection file must contain before it counts as ready.
REQUIRED_KEYS = ("api_url", "authority_url", "admin_url", "ca_path", "tenant", "client_id", "client_secret")

# Environment variables the modules read (see plugins/doc_fragments/connection.py).
MODULE_ENV = {
    "EXO_TENANT": "tenant",
    "EXO_CLIENT_ID": "client_id",
    "EXO_CLIENT_SECRET": "client_secret",
    "EXO_API_URL": "api_url",
    "EXO_AUTHORITY_URL": "authority_url",
    "EXO_CA_PATH": "ca_path",
}

# Variables written into ansible-test's integration_config.yml.
INTEGRATION_VARS = {
    "exo_tenant": "tenant",
    "exo_client_id": "client_id",
    "exo_client_secret": "client_secret",
    "exo_api_url": "api_url",
    "exo_authority_url": "authority_url",
    "exo_ca_path": "ca_path",
    "exo_admin_url": "admin_url",
    "exo_certificate_path": "certificate_path",
    "exo_certificate_pfx_path": "certificate_pfx_path",
    "exo_certificate_password": "certificate_password",
}


class EmulatorError(RuntimeError):
    """The emulator could not be started or did not become ready."""


def emulator_source(repo: Path) -> Path:
    """Return the directory that must be on sys.path to import exo_emulator."""
    return Path(repo) / "tests" / "emulator"


def emulator_available(repo: Path) -> bool:
    """Tell whether the exo_emulator package exists in the work tree."""
    package = emulator_source(repo) / "exo_emulator"
    return (package / "__main__.py").is_file() or (package / "__init__.py").is_file()


def with_pythonpath(env: Mapping[str, str], *paths: Path) -> Dict[str, str]:
    """Return a copy of env with paths prepended to PYTHONPATH."""
    result = dict(env)
    parts = [str(p) for p in paths]
    if result.get("PYTHONPATH"):
        parts.append(result["PYTHONPATH"])
    result["PYTHONPATH"] = os.pathsep.join(parts)
    return result


class EmulatorProcess:
    """One ``python -m exo_emulator serve`` child process.

    Use it as a context manager, or call start() and stop() yourself.
    The emulator's output goes to log_path (default ``<workdir>/emulator.log``),
    its connection file to connection_file (default ``<workdir>/connection.json``).
    """

    def __init__(  # pylint: disable=too-many-arguments
        self,
        repo: Path,
        workdir: Path,
        generate: Optional[int] = 300,
        seed: Optional[int] = 11,
        python: Optional[str] = None,
        extra_args: Optional[List[str]] = None,
        env: Optional[Mapping[str, str]] = None,
        ready_timeout: float = 90.0,
        connection_file: Optional[Path] = None,
        log_path: Optional[Path] = None,
    ) -> None:
        self.repo = Path(repo).resolve()
        self.workdir = Path(workdir).resolve()
        self.generate = generate
        self.seed = seed
        self.python = python or sys.executable
        self.extra_args = list(extra_args or [])
        self.env = dict(os.environ if env is None else env)
        self.ready_timeout = ready_timeout
        self.connection_file = Path(connection_file or self.workdir / "connection.json").resolve()
        self.log_path = Path(log_path or self.workdir / "emulator.log").resolve()
        self.connection: Dict[str, object] = {}
        self._process: Optional[subprocess.Popen] = None
        self._log: Optional[IO[bytes]] = None

    def command(self) -> List[str]:
        """Return the command line that starts the emulator."""
        cmd = [self.python, "-m", "exo_emulator", "serve", "--workdir", str(self.workdir), "--port", "0",
               "--connection-file", str(self.connection_file)]
        if self.generate is not None:
            cmd += ["--generate", str(self.generate)]
        if self.seed is not None:
            cmd += ["--seed", str(self.seed)]
        return cmd + self.extra_args

    def start(self) -> Dict[str, object]:
        """Start the emulator and wait until its connection file is complete."""
        if not emulator_available(self.repo):
            raise EmulatorError("the emulator package is missing: %s" % (emulator_source(self.repo) / "exo_emulator"))
        for directory in (self.workdir, self.connection_file.parent, self.log_path.parent):
            directory.mkdir(parents=True, exist_ok=True)
        if self.connection_file.exists():
            self.connection_file.unlink()
        env = with_pythonpath(self.env, emulator_source(self.repo))
        self._log = open(self.log_path, "wb")  # pylint: disable=consider-using-with
        self._process = subprocess.Popen(  # pylint: disable=consider-using-with
            self.command(), cwd=str(self.repo), env=env, stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            self.connection = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self.connection

    def _wait_ready(self) -> Dict[str, object]:
        """Poll for the connection file; fail early if the process dies."""
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            code = self._process.poll() if self._process else None
            if code is not None:
                raise EmulatorError("the emulator exited with code %s before it was ready; last lines of %s:\n%s"
                                    % (code, self.log_path, self.log_tail()))
            data = self._read_connection_file()
            if data is not None:
                return data
            time.sleep(0.1)
        raise EmulatorError("the emulator did not write %s within %.0f s; last lines of %s:\n%s"
                            % (self.connection_file, self.ready_timeout, self.log_path, self.log_tail()))

    def _read_connection_file(self) -> Optional[Dict[str, object]]:
        """Return the connection file once it is complete JSON, else None."""
        try:
            data = json.loads(self.connection_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or any(key not in data for key in REQUIRED_KEYS):
            return None
        return data

    def log_tail(self, lines: int = 30) -> str:
        """Return the last lines of the emulator's log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> Optional[int]:
        """Stop the emulator: SIGTERM, then SIGKILL after timeout. Returns its exit code."""
        process, self._process = self._process, None
        code = None
        if process is not None:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    _signal_group(process, signal.SIGKILL)
                    process.wait(timeout)
            code = process.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._process is not None and self._process.poll() is None

    def module_env(self) -> Dict[str, str]:
        """Return the EXO_* environment variables the modules read."""
        return {name: str(self.connection[key]) for name, key in MODULE_ENV.items() if self.connection.get(key) is not None}

    def integration_vars(self) -> Dict[str, str]:
        """Return the variables for ansible-test's integration_config.yml."""
        result = {name: str(self.connection[key]) for name, key in INTEGRATION_VARS.items()
                  if self.connection.get(key) is not None}
        result["exo_connection_file"] = str(self.connection_file)
        return result

    def __enter__(self) -> "EmulatorProcess":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    """Send signum to the emulator's process group (it runs in its own session)."""
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def yaml_scalar(value: str) -> str:
    """Quote a string for YAML (JSON strings are valid YAML scalars)."""
    return json.dumps(value)


def write_integration_config(path: Path, variables: Mapping[str, str]) -> Path:
    """Write ansible-test's integration_config.yml (no PyYAML needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["---", "# Written by noxfile.py for one integration run; connection values of the emulator."]
    lines += ["%s: %s" % (name, yaml_scalar(value)) for name, value in sorted(variables.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
