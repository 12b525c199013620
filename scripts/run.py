"""Set up a local virtual environment, run the demo, or run the test suite.

    python3 scripts/run.py demo     install into .venv/ and run playbooks/demo.yml
                                    against the embedded Exchange Online emulator
    python3 scripts/run.py test     install into .venv/ and run every test stage:
                                    units, sanity, integration, lint
    python3 scripts/run.py bench    install into .venv/ and run the performance
                                    benchmark (docs/performance.md; not part of test)

Needs only python3 (3.9 or later) and access to a Python package index; uses
the machine's pip configuration as it is. Re-runs skip installs whose
requirement files did not change. Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from emulator_process import (  # noqa: E402 pylint: disable=wrong-import-position
    EmulatorError,
    EmulatorProcess,
    emulator_available,
    emulator_source,
    write_integration_config,
)

REPO = Path(__file__).resolve().parent.parent
NAMESPACE, NAME = "m365", "exchange"

VENV = REPO / ".venv"
IMPORTER_VENV = REPO / ".venv-importer"
BUILD = REPO / "build"
LOGS = BUILD / "logs"
COLLECTIONS_ROOT = BUILD / "collections"
COLLECTION_LINK = COLLECTIONS_ROOT / "ansible_collections" / NAMESPACE / NAME
COPY_ROOT = BUILD / "sanity"
COLLECTION_COPY = COPY_ROOT / "ansible_collections" / NAMESPACE / NAME
DEMO_OUTPUT = REPO / "demo-output"
DEMO_PLAYBOOK = REPO / "playbooks" / "demo.yml"
BENCH_SCRIPT = REPO / "tests" / "benchmarks" / "bench.py"
INTEGRATION_WORK = BUILD / "integration"

RUNTIME_REQUIREMENTS = REPO / "requirements.txt"
TEST_REQUIREMENTS = REPO / "tests" / "requirements.txt"
EMULATOR_REQUIREMENTS = REPO / "tests" / "emulator" / "requirements.txt"  # optional
ANSIBLE_CORE = "ansible-core>=2.16.0"  # matches meta/runtime.yml requires_ansible
IMPORTER_PACKAGES = ["galaxy-importer>=0.4.20"]

PYPI_PIP_JSON = "https://pypi.org/pypi/pip/json"
STAMP_NAME = "m365-run-stamp.json"
STANDIN = REPO / "scripts" / "ansible_test_get_pip.py"
STANDIN_MARKER = "m365.exchange get-pip stand-in"

# Sanity tests that must run (not be skipped) every time; the others run when they have targets.
SANITY_REQUIRED = ("ansible-doc", "changelog", "compile", "import", "pep8", "pylint", "runtime-metadata", "shebang",
                   "validate-modules", "yamllint")

STAGES = ("units", "sanity", "integration", "lint")
UNIT_TEST_DIRS = ("tests/unit", "tests/emulated", "tests/emulator/conformance", "tests/functional", "tests/faults")

# Build output and caches: never copied into the sanity copy (a safety net behind git's ignore rules),
# never allowed in the collection tarball.
OUTPUT_PATHS = re.compile(
    r"^(build|demo-output|tests/output)(/|$)"
    r"|(^|/)(\.venv[^/]*|\.git|__pycache__|\.pytest_cache|\.cache|\.ansible)(/|$)"
    r"|\.pyc$|^[^/]*\.tar\.gz$"
)
# Also kept out of the tarball (build_ignore in galaxy.yml): the CI entry point.
TARBALL_ONLY_EXCLUDED = re.compile(r"^\.ci(/|$)")
# galaxy-importer settings: what Galaxy runs on upload, minus ansible-test (which needs containers).
IMPORTER_CONFIG = {"RUN_ANSIBLE_TEST": "False", "RUN_ANSIBLE_DOC": "True", "RUN_ANSIBLE_LINT": "True",
                   "OFFLINE_ANSIBLE_LINT": "True", "CHECK_CHANGELOG": "True", "LOG_LEVEL_MAIN": "INFO"}
# Lines of galaxy-importer's output that fail the lint stage.
IMPORTER_PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL|Traceback)\b")

# pip's complaint about a configured find-links/extra-index location that lacks a package: harmless,
# and hundreds of lines when ansible-test builds its venvs. Kept in the logs, not on the console.
CONSOLE_NOISE = re.compile(r"^WARNING: Location '[^']*' is ignored: it is neither a file nor a directory\.$")

# Colour codes some tools emit even when told not to (stripped from the console in CI).
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PLAIN = IN_CI or not sys.stdout.isatty() or "NO_COLOR" in os.environ


class StepFailed(Exception):
    """A command or check failed; the message says what and where to look."""


# --------------------------------------------------------------------------- output and commands


def say(message: str = "") -> None:
    """Print a line immediately (CI logs interleave with child output)."""
    print(message, flush=True)


def heading(title: str) -> None:
    """Print a stage heading."""
    say()
    say("=" * 78)
    say("== " + title)
    say("=" * 78)


def shown(cmd: Sequence[str]) -> str:
    """Return cmd as a copy-pasteable shell line."""
    return " ".join(shlex.quote(str(part)) for part in cmd)


def relative(path: Path) -> str:
    """Return path relative to the repository when it is inside it."""
    try:
        return str(Path(path).relative_to(REPO)) or "."
    except ValueError:
        return str(path)


def run(cmd: Sequence[str], cwd: Path = REPO, env: Optional[Dict[str, str]] = None,
        log: Optional[Path] = None, quiet: bool = False) -> str:
    """Run cmd, echoing it; stream (or, if quiet, only log) its output. Returns the output.

    Raises StepFailed on a non-zero exit code.
    """
    where = "" if Path(cwd) == REPO else "  (in %s)" % relative(cwd)
    say("$ %s%s" % (shown(cmd), where))
    started = time.monotonic()
    with subprocess.Popen([str(c) for c in cmd], cwd=str(cwd), env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        lines, hidden = [], 0
        for raw in process.stdout:
            line = raw.decode("utf-8", errors="replace")
            lines.append(line)
            if quiet:
                continue
            if CONSOLE_NOISE.search(line):
                hidden += 1
                continue
            sys.stdout.write(ANSI_ESCAPE.sub("", line) if PLAIN else line)
            sys.stdout.flush()
        code = process.wait()
    output = "".join(lines)
    if hidden:
        say("   (%d lines of pip's \"Location ... is ignored\" warnings not shown%s)"
            % (hidden, "; they are in the log" if log else ""))
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("$ %s%s\n%s" % (shown(cmd), where, output), encoding="utf-8")
    elapsed = time.monotonic() - started
    if code != 0:
        if quiet:
            say("\n".join(output.splitlines()[-40:]))
        raise StepFailed("exit code %d after %.1f s: %s%s" % (code, elapsed, shown(cmd),
                                                              "  (log: %s)" % relative(log) if log else ""))
    say("   ok in %.1f s%s" % (elapsed, "  (log: %s)" % relative(log) if log else ""))
    return output


# --------------------------------------------------------------------------- virtual environments


def venv_python(venv: Path) -> Path:
    """Return the interpreter of a virtual environment."""
    return venv / "bin" / "python"


def python_works(python: Path, *args: str) -> bool:
    """Tell whether `python args...` runs successfully."""
    if not python.exists():
        return False
    result = subprocess.run([str(python), *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, check=False)
    return result.returncode == 0


def ensure_venv(venv: Path, use_ensurepip: bool = True) -> Path:
    """Create venv unless it already has a working pip; return its python."""
    python = venv_python(venv)
    if python_works(python, "-m", "pip", "--version"):
        return python
    if venv.exists():
        say("Recreating %s (no working pip in it)" % relative(venv))
        shutil.rmtree(venv)
    if use_ensurepip:
        try:
            run([sys.executable, "-m", "venv", venv])
            return python
        except StepFailed as exc:
            say("python3 -m venv failed (%s); retrying without ensurepip" % exc)
            shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    bootstrap_pip(python)
    return python


def newest_pip_wheel() -> Tuple[str, str, str]:
    """Return (url, filename, sha256) of pip's newest wheel, from PyPI's JSON API."""
    with urllib.request.urlopen(PYPI_PIP_JSON, timeout=60) as response:  # nosec - fixed https URL
        release = json.load(response)
    wheels = [item for item in release["urls"] if item["packagetype"] == "bdist_wheel"]
    if not wheels:
        raise StepFailed("PyPI lists no wheel for pip %s" % release["info"]["version"])
    wheel = wheels[0]
    return urllib.parse.urljoin(PYPI_PIP_JSON, wheel["url"]), wheel["filename"], wheel["digests"]["sha256"]


def bootstrap_pip(python: Path) -> None:
    """Install pip into a venv made with --without-pip, from pip's own wheel."""
    url, filename, sha256 = newest_pip_wheel()
    say("Bootstrapping pip from %s" % url)
    with urllib.request.urlopen(url, timeout=300) as response:  # nosec - URL from PyPI's answer
        data = response.read()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise StepFailed("the pip wheel from %s failed its sha256 check" % url)
    with tempfile.TemporaryDirectory(prefix="pip-bootstrap-") as tmp:
        wheel = Path(tmp) / filename
        wheel.write_bytes(data)
        run([python, wheel / "pip", "install", "--quiet", wheel])


def requirement_digest(files: Iterable[Path], packages: Iterable[str], python: Path) -> str:
    """Hash everything that decides what an install puts into a venv."""
    digest = hashlib.sha256()
    version = subprocess.run([str(python), "-c", "import sys; print(sys.version)"], stdout=subprocess.PIPE,
                             check=True).stdout
    digest.update(version)
    for path in files:
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    for package in packages:
        digest.update(package.encode())
    return digest.hexdigest()


def read_stamp(venv: Path) -> Dict[str, str]:
    """Return the install stamp of a venv ({profile: digest})."""
    try:
        return json.loads((venv / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def install(venv: Path, profile: str, files: Sequence[Path], packages: Sequence[str]) -> None:
    """pip install files and packages into venv, unless the stamp says it is done."""
    python = venv_python(venv)
    files = [path for path in files if path.exists()]
    digest = requirement_digest(files, packages, python)
    stamp = read_stamp(venv)
    if stamp.get(profile) == digest:
        say("%s: requirements unchanged, skipping install (%s)" % (relative(venv), profile))
        return
    cmd: List[str] = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    for path in files:
        cmd += ["-r", relative(path)]
    cmd += list(packages)
    run(cmd, env=child_env(), log=LOGS / ("pip-%s.log" % profile), quiet=True)
    stamp[profile] = digest
    (venv / STAMP_NAME).write_text(json.dumps(stamp, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def runtime_files() -> List[Path]:
    """Requirement files for the demo (the emulator's own, if it has one)."""
    return [RUNTIME_REQUIREMENTS, EMULATOR_REQUIREMENTS]


def setup_main_venv(test_tools: bool, use_ensurepip: bool) -> Path:
    """Create .venv and install the demo's or the test suite's requirements."""
    python = ensure_venv(VENV, use_ensurepip)
    test_files = runtime_files() + [TEST_REQUIREMENTS]
    if test_tools:
        install(VENV, "test", test_files, [ANSIBLE_CORE])
    elif read_stamp(VENV).get("test") == requirement_digest(test_files, [ANSIBLE_CORE], python):
        say("%s: the test requirements (a superset of the demo's) are installed" % relative(VENV))
    else:
        install(VENV, "demo", runtime_files(), [ANSIBLE_CORE])
    ensure_collection_link()
    return python


def python_version(python: Path) -> str:
    """Return X.Y of an interpreter."""
    return subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          stdout=subprocess.PIPE, check=True, text=True).stdout.strip()


# --------------------------------------------------------------------------- collection layout and environment


def ensure_collection_link() -> None:
    """Make build/collections/ansible_collections/m365/exchange a symlink to the repository."""
    target = os.path.relpath(REPO, COLLECTION_LINK.parent)
    if COLLECTION_LINK.is_symlink() and os.readlink(COLLECTION_LINK) == target:
        return
    COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
    if COLLECTION_LINK.is_symlink() or COLLECTION_LINK.is_file():
        COLLECTION_LINK.unlink()
    elif COLLECTION_LINK.exists():
        shutil.rmtree(COLLECTION_LINK)
    COLLECTION_LINK.symlink_to(target, target_is_directory=True)


def collections_path() -> str:
    """ANSIBLE_COLLECTIONS_PATH: the work tree first, then Ansible's defaults."""
    return os.pathsep.join([str(COLLECTIONS_ROOT), os.path.expanduser("~/.ansible/collections"),
                            "/usr/share/ansible/collections"])


def child_env(extra: Optional[Dict[str, str]] = None, venv: Path = VENV) -> Dict[str, str]:
    """Environment for every child process: the venv on PATH, the collection importable."""
    env = dict(os.environ)
    env.pop("PYTHONHOME", None)
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    env["ANSIBLE_COLLECTIONS_PATH"] = collections_path()
    env["PIP_NO_INPUT"] = "1"
    if PLAIN:
        env["NO_COLOR"] = "1"
        env["ANSIBLE_NOCOLOR"] = "1"
        env["ANSIBLE_FORCE_COLOR"] = "0"
        env["PY_COLORS"] = "0"
    env.update(extra or {})
    return env


def tool(name: str, venv: Path = VENV) -> str:
    """Return the path of a console script in a venv."""
    return str(venv / "bin" / name)


def collection_files() -> List[str]:
    """Files that belong to the collection: git's view, or a walk when git is unavailable."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
        names = [name for name in listed.decode("utf-8").split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        names = walk_files()
    return sorted(name for name in set(names) if not excluded(name) and os.path.lexists(REPO / name))


def excluded(name: str) -> bool:
    """Tell whether a relative path is build output or a cache rather than part of the collection."""
    return bool(OUTPUT_PATHS.search(name.replace(os.sep, "/")))


def walk_files() -> List[str]:
    """List the work tree's files without git (skipping build output)."""
    names = []
    for root, dirs, files in os.walk(REPO):
        rel_root = os.path.relpath(root, REPO)
        dirs[:] = [d for d in dirs if not excluded(os.path.normpath(os.path.join(rel_root, d)))]
        names += [os.path.normpath(os.path.join(rel_root, f)) for f in files]
    return names


def refresh_collection_copy(state: Dict[str, object]) -> Path:
    """Copy the collection to build/sanity/ansible_collections/m365/exchange (once per run).

    ansible-test needs its cwd inside ansible_collections/NS/NAME and resolves
    symlinks, so a real copy is needed. The copy is a git repository of its own
    (nothing committed: ansible-test lists untracked files too). tests/output is
    kept between runs.
    """
    if state.get("copy_done"):
        return COLLECTION_COPY
    started = time.monotonic()
    COLLECTION_COPY.mkdir(parents=True, exist_ok=True)
    for entry in COLLECTION_COPY.iterdir():
        if entry.name == ".git":
            continue
        if entry.name == "tests" and entry.is_dir() and not entry.is_symlink():
            for sub in entry.iterdir():
                if sub.name != "output":
                    remove(sub)
        else:
            remove(entry)
    files = collection_files()
    for name in files:
        source, target = REPO / name, COLLECTION_COPY / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    if not (COLLECTION_COPY / ".git").exists():
        # The copy lies inside this repository's git work tree, where build/ is ignored: without a
        # repository of its own, ansible-test would ask the outer git and find no files at all.
        try:
            subprocess.run(["git", "init", "-q", str(COLLECTION_COPY)], check=True, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise StepFailed("git is needed to run ansible-test on the copy: %s" % exc) from exc
    say("Copied %d files to %s in %.1f s" % (len(files), relative(COLLECTION_COPY), time.monotonic() - started))
    state["copy_done"] = True
    return COLLECTION_COPY


def remove(path: Path) -> None:
    """Remove a file, symlink or directory tree."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


# --------------------------------------------------------------------------- ansible-test offline pip bootstrap


def ansible_test_pip_version(python: Path) -> str:
    """Ask the installed ansible-test which pip version it bootstraps into its venvs."""
    code = ("import types\n"
            "from ansible_test._internal.python_requirements import get_venv_packages\n"
            "print(get_venv_packages(types.SimpleNamespace(version='%s'))['pip'])\n" % python_version(python))
    result = subprocess.run([str(python), "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            check=False)
    if result.returncode == 0 and result.stdout.strip():
        return result.stdout.strip()
    raise StepFailed("cannot tell which pip version ansible-test bootstraps (ansible_test internals changed?)")


def install_get_pip_standin(python: Path) -> None:
    """Put the offline get-pip stand-in where ansible-test looks for its cached bootstrap script."""
    version = ansible_test_pip_version(python)
    cache = Path.home() / ".ansible" / "test" / "cache" / ("get_pip_%s.py" % version.replace(".", "_"))
    content = STANDIN.read_text(encoding="utf-8")
    if cache.exists():
        current = cache.read_text(encoding="utf-8", errors="replace")
        if current == content:
            return
        if STANDIN_MARKER not in current:
            say("Using the cached pip bootstrap script that is already there: %s" % cache)
            return
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(content, encoding="utf-8")
    say("Installed the offline pip bootstrap stand-in for ansible-test: %s" % cache)


# --------------------------------------------------------------------------- stages


def stage_units(ctx: "Context") -> None:
    """pytest over tests/unit and the emulator's conformance tests."""
    paths = [d for d in UNIT_TEST_DIRS if (REPO / d).is_dir()]
    if not any(has_tests(REPO / d) for d in paths):
        say("No pytest tests yet in %s: nothing to run." % ", ".join(UNIT_TEST_DIRS))
        return
    cmd = [tool("pytest"), "-p", "no:cacheprovider", "-ra"]
    if PLAIN:
        cmd.append("--color=no")
    if ctx.workers not in ("0", "1"):
        cmd += ["-n", ctx.workers]
    pythonpath = [str(COLLECTIONS_ROOT), str(emulator_source(REPO)), os.environ.get("PYTHONPATH", "")]
    env = child_env({"PYTHONPATH": os.pathsep.join(part for part in pythonpath if part)})
    run(cmd + paths, env=env, log=LOGS / "units.log")


def has_tests(directory: Path) -> bool:
    """Tell whether a directory holds pytest files."""
    return any(directory.rglob("test_*.py")) or any(directory.rglob("*_test.py"))


def stage_sanity(ctx: "Context") -> None:
    """ansible-test sanity on a copy of the collection, without ignore files."""
    copy = refresh_collection_copy(ctx.state)
    ignores = sorted(p.name for p in (copy / "tests" / "sanity").glob("ignore*.txt"))
    if ignores:
        raise StepFailed("sanity ignore files are not allowed: tests/sanity/%s" % ", ".join(ignores))
    install_get_pip_standin(ctx.python)
    cmd = [tool("ansible-test"), "sanity", "--color", "no" if PLAIN else "auto", "--python", ctx.python_version]
    cmd += ["--venv"] if ctx.sanity_mode == "venv" else ["--local", "--requirements"]
    output = run(cmd, cwd=copy, env=child_env(), log=LOGS / "sanity.log")
    check_sanity_coverage(output)


def check_sanity_coverage(output: str) -> None:
    """Fail if a sanity test of interest did not run or was skipped (missing requirements, Python, libyaml)."""
    ran = set(re.findall(r'^Running sanity test "([^"]+)"', output, re.M))
    skipped = set(re.findall(r'Skipping sanity test "([^"]+)"', output))
    for line in output.splitlines():
        if "Skipping sanity test" in line or "Required program" in line:
            say("note: " + line.strip())
    missing = sorted((set(SANITY_REQUIRED) - ran) | (set(SANITY_REQUIRED) & skipped))
    if missing:
        raise StepFailed("sanity tests did not run or were skipped: %s" % ", ".join(missing))
    say("All %d sanity tests of interest ran: %s" % (len(SANITY_REQUIRED), ", ".join(SANITY_REQUIRED)))


def integration_targets() -> List[str]:
    """Names of the integration targets in the work tree."""
    root = REPO / "tests" / "integration" / "targets"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def stage_integration(ctx: "Context") -> None:
    """ansible-test integration against the emulator (connection values via integration_config.yml)."""
    targets = integration_targets()
    if not targets:
        say("No integration targets yet in tests/integration/targets: nothing to run.")
        return
    if not emulator_available(REPO):
        raise StepFailed("integration targets exist (%s) but the emulator package tests/emulator/exo_emulator "
                         "does not" % ", ".join(targets))
    copy = refresh_collection_copy(ctx.state)
    install_get_pip_standin(ctx.python)
    emulator = EmulatorProcess(REPO, INTEGRATION_WORK / "emulator", generate=2400, seed=11, python=str(ctx.python),
                               connection_file=INTEGRATION_WORK / "connection.json",
                               log_path=INTEGRATION_WORK / "emulator.log", env=child_env())
    say("Starting the emulator: %s" % shown(emulator.command()))
    try:
        with emulator:
            config = write_integration_config(copy / "tests" / "integration" / "integration_config.yml",
                                              emulator.integration_vars())
            say("Wrote %s" % relative(config))
            cmd = [tool("ansible-test"), "integration", "--color", "no" if PLAIN else "auto", "--local",
                   "--python", ctx.python_version, "-v"]
            run(cmd, cwd=copy, env=child_env(), log=LOGS / "integration.log")
    except EmulatorError as exc:
        raise StepFailed(str(exc)) from exc
    finally:
        say("Emulator stopped (log: %s)" % relative(emulator.log_path))


def stage_lint(ctx: "Context") -> None:
    """ansible-lint, antsibull-docs, module reference, antsibull-changelog, build, tarball check, galaxy-importer,
    execution environment (ansible-builder create and introspect)."""
    steps: List[Tuple[str, Callable[[Context], None]]] = [
        ("ansible-lint", lint_ansible_lint),
        ("antsibull-docs", lint_collection_docs),
        ("module-reference", lint_module_reference),
        ("antsibull-changelog", lint_changelog),
        ("build", lint_build),
        ("galaxy-importer", lint_galaxy_importer),
        ("ee-create", lint_ee_create),
        ("ee-introspect", lint_ee_introspect),
    ]
    failures = []
    for name, step in steps:
        say("-- lint: %s" % name)
        started = time.monotonic()
        try:
            step(ctx)
            ctx.timings.append(("  lint: " + name, time.monotonic() - started, "ok"))
        except StepFailed as exc:
            ctx.timings.append(("  lint: " + name, time.monotonic() - started, "FAILED"))
            failures.append("%s: %s" % (name, exc))
            say("!! lint: %s failed: %s" % (name, exc))
            if name == "build":
                break  # the importer and the EE introspection need the tarball
    if failures:
        raise StepFailed("; ".join(failures))


def lint_ansible_lint(ctx: "Context") -> None:  # pylint: disable=unused-argument
    """ansible-lint with the production profile, offline."""
    cmd = [tool("ansible-lint"), "--profile", "production", "--offline"]
    if PLAIN:
        cmd.append("--nocolor")
    run(cmd, env=child_env(), log=LOGS / "ansible-lint.log")


def lint_collection_docs(ctx: "Context") -> None:  # pylint: disable=unused-argument
    """antsibull-docs lint-collection-docs --plugin-docs, from the collection path."""
    run([tool("antsibull-docs"), "lint-collection-docs", "--plugin-docs", "."], cwd=COLLECTION_LINK,
        env=child_env({"PWD": str(COLLECTION_LINK)}), log=LOGS / "antsibull-docs.log")


def lint_changelog(ctx: "Context") -> None:  # pylint: disable=unused-argument
    """antsibull-changelog lint (fragments) and lint-changelog-yaml."""
    run([tool("antsibull-changelog"), "lint"], env=child_env(), log=LOGS / "antsibull-changelog.log")
    run([tool("antsibull-changelog"), "lint-changelog-yaml", "changelogs/changelog.yaml"], env=child_env(),
        log=LOGS / "antsibull-changelog-yaml.log")


def galaxy_version() -> str:
    """The collection version from galaxy.yml (a plain top-level key, no YAML parser needed)."""
    match = re.search(r"^version:\s*['\"]?([^'\"\s#]+)", (REPO / "galaxy.yml").read_text(encoding="utf-8"), re.M)
    if not match:
        raise StepFailed("galaxy.yml has no version")
    return match.group(1)


def tarball_path() -> Path:
    """Where ansible-galaxy collection build puts the tarball."""
    return BUILD / ("%s-%s-%s.tar.gz" % (NAMESPACE, NAME, galaxy_version()))


def lint_build(ctx: "Context") -> None:  # pylint: disable=unused-argument
    """ansible-galaxy collection build into build/, then check what the tarball contains."""
    tarball = tarball_path()
    if tarball.exists():
        tarball.unlink()
    run([tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", BUILD], env=child_env(),
        log=LOGS / "galaxy-build.log")
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    bad = sorted(name for name in names if OUTPUT_PATHS.search(name) or TARBALL_ONLY_EXCLUDED.search(name))
    if bad:
        raise StepFailed("the tarball contains build output (fix build_ignore in galaxy.yml): " + ", ".join(bad[:20]))
    say("%s: %d entries, none of them build output" % (relative(tarball), len(names)))


def lint_galaxy_importer(ctx: "Context") -> None:
    """galaxy-importer on the tarball, in its own venv; any WARNING or ERROR fails."""
    ensure_venv(IMPORTER_VENV, ctx.use_ensurepip)
    install(IMPORTER_VENV, "importer", [], IMPORTER_PACKAGES)
    config = BUILD / "galaxy-importer.cfg"
    config.write_text("[galaxy-importer]\n" + "".join("%s = %s\n" % item for item in IMPORTER_CONFIG.items()),
                      encoding="utf-8")
    env = child_env({"GALAXY_IMPORTER_CONFIG": str(config)}, venv=IMPORTER_VENV)
    env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(collections_path().split(os.pathsep)[1:])
    output = run([venv_python(IMPORTER_VENV), "-m", "galaxy_importer.main", tarball_path()], cwd=BUILD, env=env,
                 log=LOGS / "galaxy-importer.log")
    problems = [line for line in output.splitlines() if IMPORTER_PROBLEM.search(line)]
    if problems:
        raise StepFailed("galaxy-importer reported:\n  " + "\n  ".join(problems))


# Execution environment: the definition users build (docs/awx.md) and the collection's own EE metadata.
EE_DEFINITION = REPO / "docs" / "ee" / "execution-environment.yml"
EE_CONTEXT = BUILD / "ee"
EE_INTROSPECT = BUILD / "ee-introspect"
EE_REQUIRED_PACKAGES = ("msal", "requests")
MODULE_REFERENCE = REPO / "docs" / "build_module_reference.py"
REQUIREMENT_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^#;]*?)\s*(?:;[^#]*)?(?:#\s*(.*))?$")


def lint_module_reference(ctx: "Context") -> None:
    """docs/modules/ must be what docs/build_module_reference.py makes of the modules' documentation."""
    run([ctx.python, relative(MODULE_REFERENCE), "--check", "--ansible-doc", tool("ansible-doc")], env=child_env(),
        log=LOGS / "module-reference.log")


def lint_ee_create(ctx: "Context") -> None:  # pylint: disable=unused-argument
    """ansible-builder create: the build context of docs/ee/execution-environment.yml in build/ee (no container engine)."""
    if EE_CONTEXT.exists():
        shutil.rmtree(EE_CONTEXT)
    run([tool("ansible-builder"), "create", "--file", relative(EE_DEFINITION), "--context", relative(EE_CONTEXT),
         "--output-filename", "Containerfile"], env=child_env(), log=LOGS / "ee-create.log")
    containerfile = EE_CONTEXT / "Containerfile"
    galaxy_requirements = EE_CONTEXT / "_build" / "requirements.yml"
    problems = [relative(path) + " was not written" for path in (containerfile, galaxy_requirements) if not path.is_file()]
    if not problems:
        if not re.search(r"^\s*-?\s*name:\s*['\"]?%s\.%s['\"]?\s*$" % (NAMESPACE, NAME),
                         galaxy_requirements.read_text(encoding="utf-8"), re.M):
            problems.append("%s does not install %s.%s" % (relative(galaxy_requirements), NAMESPACE, NAME))
        if "introspect" not in containerfile.read_text(encoding="utf-8"):
            problems.append("%s does not run the collections' dependency introspection" % relative(containerfile))
    if problems:
        raise StepFailed("; ".join(problems))
    say("%s: build context written; with a container engine: podman build -t m365-exchange-ee %s"
        % (relative(EE_CONTEXT), relative(EE_CONTEXT)))


def requirement_specs(text: str, source: str) -> Dict[str, Tuple[str, str]]:
    """{normalised name: (version specifier without spaces, trailing comment)} of a pip requirements text."""
    specs: Dict[str, Tuple[str, str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "-")):
            continue
        match = REQUIREMENT_LINE.match(line)
        if not match:
            raise StepFailed("%s: cannot read the requirement %r" % (source, line))
        name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
        specs[name] = (re.sub(r"\s+", "", match.group(2)), (match.group(3) or "").strip())
    return specs


def lint_ee_introspect(ctx: "Context") -> None:  # pylint: disable=unused-argument
    """Install the tarball as an EE build does, ansible-builder introspect it: msal and requests must be listed."""
    if EE_INTROSPECT.exists():
        shutil.rmtree(EE_INTROSPECT)
    collections = EE_INTROSPECT / "collections"
    env = child_env({"ANSIBLE_COLLECTIONS_PATH": str(collections)})
    run([tool("ansible-galaxy"), "collection", "install", "--no-deps", "--force", "-p", relative(collections),
         relative(tarball_path())], env=env, log=LOGS / "ee-install.log")
    pip_file = EE_INTROSPECT / "requirements.txt"
    run([tool("ansible-builder"), "introspect", relative(collections), "--write-pip", relative(pip_file)], env=env,
        log=LOGS / "ee-introspect.log")
    collection = "%s.%s" % (NAMESPACE, NAME)
    listed = requirement_specs(pip_file.read_text(encoding="utf-8") if pip_file.exists() else "", relative(pip_file))
    ours = dict((name, spec) for name, (spec, comment) in listed.items() if comment == "from collection " + collection)
    problems = ["%s is not listed for %s" % (name, collection) for name in EE_REQUIRED_PACKAGES if name not in ours]
    runtime_specs = requirement_specs(RUNTIME_REQUIREMENTS.read_text(encoding="utf-8"), relative(RUNTIME_REQUIREMENTS))
    runtime = dict((name, value[0]) for name, value in runtime_specs.items())
    if ours and ours != runtime:
        problems.append("the EE requirements (meta/execution-environment.yml) %s differ from %s %s" % (
            ours, relative(RUNTIME_REQUIREMENTS), runtime))
    if problems:
        raise StepFailed("ansible-builder introspect: " + "; ".join(problems))
    say("ansible-builder introspect lists for %s: %s" % (collection, ", ".join(
        "%s%s" % (name, spec) for name, spec in sorted(ours.items()))))


STAGE_FUNCTIONS: Dict[str, Callable[["Context"], None]] = {
    "units": stage_units,
    "sanity": stage_sanity,
    "integration": stage_integration,
    "lint": stage_lint,
}


# --------------------------------------------------------------------------- commands


class Context:  # pylint: disable=too-few-public-methods
    """What the stages share."""

    def __init__(self, args: argparse.Namespace, python: Path, timings: List[Tuple[str, float, str]]) -> None:
        self.python = python
        self.python_version = python_version(python)
        self.use_ensurepip = args.ensurepip
        self.workers = args.workers
        self.sanity_mode = args.sanity_mode
        self.timings = timings  # stages append their sub-steps here
        self.state: Dict[str, object] = {}


def print_timings(timings: Sequence[Tuple[str, float, str]], total: float) -> None:
    """Print the table of stage times."""
    say()
    say("Stage timings")
    say("-" * 46)
    for name, seconds, status in timings:
        say("%-28s %8.1f s  %s" % (name, seconds, status))
    say("-" * 46)
    say("%-28s %8.1f s" % ("total", total))


def timed(timings: List[Tuple[str, float, str]], name: str, func: Callable[[], None]) -> bool:
    """Run func, record its time and status; return True on success."""
    started = time.monotonic()
    try:
        func()
    except StepFailed as exc:
        timings.append((name, time.monotonic() - started, "FAILED"))
        say("!! %s failed: %s" % (name, exc))
        return False
    timings.append((name, time.monotonic() - started, "ok"))
    return True


def command_test(args: argparse.Namespace) -> int:
    """Install the test tools and run the selected stages in order."""
    started = time.monotonic()
    timings: List[Tuple[str, float, str]] = []
    selected = [stage for stage in STAGES if not args.stage or stage in args.stage]
    failed: List[str] = []
    heading("setup: %s" % relative(VENV))
    holder: Dict[str, Path] = {}
    if timed(timings, "setup", lambda: holder.update(python=setup_main_venv(True, args.ensurepip))):
        ctx = Context(args, holder["python"], timings)
        for stage in selected:
            heading("stage: %s" % stage)
            if not timed(timings, stage, lambda stage=stage: STAGE_FUNCTIONS[stage](ctx)):
                failed.append(stage)
                if not args.keep_going:
                    break
    else:
        failed.append("setup")
    timings.sort(key=lambda row: order_key(row[0]))
    print_timings(timings, time.monotonic() - started)
    report_result(selected, failed, {row[0] for row in timings})
    return 1 if failed else 0


def report_result(selected: Sequence[str], failed: Sequence[str], ran: Iterable[str]) -> None:
    """Print the verdict; the last line has the plain 'N passed, N failed' form CI logs are read for."""
    ran = set(ran)
    not_run = [stage for stage in selected if stage not in ran]
    if not_run:
        say("not run (stopped at the first failure; --keep-going runs all): %s" % ", ".join(not_run))
    say("RESULT: %s" % ("FAILED: " + ", ".join(failed) if failed else "all %d stages passed" % len(selected)))
    passed = len([stage for stage in selected if stage in ran and stage not in failed])
    failures = len([stage for stage in failed if stage in selected])
    say("stages: %d passed, %d failed%s" % (passed, failures, ", %d skipped" % len(not_run) if not_run else ""))


def order_key(name: str) -> Tuple[int, int]:
    """Sort timings in stage order, lint's sub-steps after lint."""
    order = ("setup",) + STAGES
    base = name.strip().split(":")[0]
    return (order.index(base) if base in order else len(order), 1 if ":" in name else 0)


def command_demo(args: argparse.Namespace) -> int:
    """Install the runtime requirements and run playbooks/demo.yml against the emulator."""
    if not DEMO_PLAYBOOK.exists():
        say("%s does not exist yet: there is no demo to run." % relative(DEMO_PLAYBOOK))
        return 2
    if not emulator_available(REPO):
        say("The emulator (tests/emulator/exo_emulator) does not exist yet: the demo cannot run.")
        return 2
    return in_main_venv(args, "demo", lambda python: run_demo(python, args.playbook_args))


def in_main_venv(args: argparse.Namespace, stage: str, step) -> int:
    """Set up the main venv, then run step(venv python) as the named stage; print the timings."""
    started = time.monotonic()
    timings: List[Tuple[str, float, str]] = []
    heading("setup: %s" % relative(VENV))
    holder: Dict[str, Path] = {}
    ok = timed(timings, "setup", lambda: holder.update(python=setup_main_venv(False, args.ensurepip)))
    if ok:
        heading(stage)
        ok = timed(timings, stage, lambda: step(holder["python"]))
    print_timings(timings, time.monotonic() - started)
    return 0 if ok else 1


def run_demo(python: Path, playbook_args: Sequence[str]) -> None:
    """Start the emulator, run the demo playbook with the connection in EXO_* variables, stop it."""
    DEMO_OUTPUT.mkdir(exist_ok=True)
    # The emulator starts from its sample tenant each time, so the demo's campaign starts afresh too.
    shutil.rmtree(DEMO_OUTPUT / "reports", ignore_errors=True)
    for ledger in DEMO_OUTPUT.glob("archive-access.ledger.jsonl*"):
        ledger.unlink()
    emulator = EmulatorProcess(REPO, DEMO_OUTPUT / "emulator", generate=200, seed=7, python=str(python),
                               connection_file=DEMO_OUTPUT / "connection.json", log_path=DEMO_OUTPUT / "emulator.log",
                               env=child_env())
    say("Starting the emulator: %s" % shown(emulator.command()))
    try:
        with emulator:
            say("Emulator ready: %s (tenant %s)" % (emulator.connection.get("api_url"), emulator.connection.get("tenant")))
            # Implicit localhost runs modules with the venv's python (where msal and requests are);
            # its "no inventory" warnings are expected here.
            env = child_env(dict(emulator.module_env(), ANSIBLE_LOCALHOST_WARNING="false",
                                 ANSIBLE_INVENTORY_UNPARSED_WARNING="false"))
            run([tool("ansible-playbook"), relative(DEMO_PLAYBOOK), "-e", "demo_output_dir=%s" % DEMO_OUTPUT,
                 *playbook_args], env=env, log=DEMO_OUTPUT / "ansible-playbook.log")
    except EmulatorError as exc:
        raise StepFailed(str(exc)) from exc
    finally:
        say("Emulator stopped.")
        list_outputs(DEMO_OUTPUT)


def command_bench(args: argparse.Namespace) -> int:
    """Install the runtime requirements and run tests/benchmarks/bench.py (its arguments are passed through)."""
    if not BENCH_SCRIPT.exists():
        say("%s does not exist: there is no benchmark to run." % relative(BENCH_SCRIPT))
        return 2
    return in_main_venv(args, "benchmark",
                        lambda python: run([python, BENCH_SCRIPT, *args.playbook_args], env=child_env()))


def list_outputs(directory: Path) -> None:
    """Print what a run left in directory."""
    say()
    say("Outputs are in %s/:" % relative(directory))
    for path in sorted(directory.iterdir()):
        say("  %s%s" % (relative(path), "/" if path.is_dir() else ""))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(
        prog="python3 scripts/run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-ensurepip", dest="ensurepip", action="store_false",
                        help="create venvs with --without-pip and bootstrap pip from PyPI "
                             "(what happens automatically where python3-venv is missing)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", help="run playbooks/demo.yml against the embedded emulator",
                          description="Install into .venv/, start the emulator (200 generated mailboxes, seed 7), "
                                      "run playbooks/demo.yml with the connection in the EXO_* variables and "
                                      "-e demo_output_dir=<repo>/demo-output, stop the emulator. Outputs (playbook "
                                      "log, emulator log and state, connection file) go to demo-output/.")
    demo.epilog = "Other arguments are passed to ansible-playbook, e.g. `demo -v` or `demo -- --check`."

    test = sub.add_parser("test", help="run the test suite (stages: %s)" % ", ".join(STAGES),
                          description="Install into .venv/ and run the stages in order, stopping at the first "
                                      "failure. Logs go to build/logs/.")
    test.add_argument("--stage", action="append", choices=STAGES,
                      help="run only this stage (repeatable); stages always run in the order %s" % ", ".join(STAGES))
    test.add_argument("--keep-going", action="store_true", help="run every selected stage even after a failure")
    test.add_argument("--workers", default=os.environ.get("RUN_PY_WORKERS", "auto"),
                      help="pytest-xdist workers for the units stage: auto, N, or 0 for none (default: %(default)s)")
    test.add_argument("--sanity-mode", choices=("local", "venv"), default="local",
                      help="ansible-test sanity --local --requirements, or --venv (default: %(default)s)")
    bench = sub.add_parser("bench", help="run the performance benchmark against the emulator (not part of test)",
                           description="Install into .venv/ and run tests/benchmarks/bench.py: each scenario starts "
                                       "the emulator with its cost model (L, H, C), runs the modules through "
                                       "ansible-playbook and prints N, cmdlets, elapsed, floor, speedup, 429s and "
                                       "peak RSS. Results go to build/bench/. See docs/performance.md.")
    bench.epilog = ("Other arguments are passed to the benchmark, e.g. `bench --scenario scale`, `bench --scenario "
                    "grant-5k`, `bench --list`.")
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("demo", "bench"):
        parser.error("unrecognized arguments: %s" % " ".join(extra))
    args.playbook_args = extra[1:] if extra[:1] == ["--"] else extra
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    if sys.version_info < (3, 9):
        say("Python 3.9 or later is needed (this is %s)." % sys.version.split()[0])
        return 2
    try:
        commands = {"demo": command_demo, "bench": command_bench, "test": command_test}
        return commands[args.command](args)
    except KeyboardInterrupt:
        say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
