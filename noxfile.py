# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Development sessions of m365.exchange, for nox (https://nox.thea.codes). TESTING.md says which to run when.

    python3 noxfile.py --parallel 2     what CI runs (.ci/run): every default session, two at a time
    python3 noxfile.py -s demo          the demo against the embedded emulator
    python3 noxfile.py -l               the sessions

``python3 noxfile.py ARGS`` is ``nox ARGS`` for a machine with only python3 (the first run installs nox into
.nox/_nox). The ansible-core versions under test are the lowest supported, the newest this machine's Python
runs (the main one: the heavy sessions run there only) and the newest release, which needs Python 3.12+ and
so runs in a Debian 13 root (Python 3.13) that tools/devtools builds and caches.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO / "tools"))

if __name__ == "__main__":
    from devtools.bootstrap import main

    sys.exit(main(__file__, sys.argv[1:]))

# pylint: disable=wrong-import-position
import nox  # noqa: E402

from devtools import ansible_test, checks, chromium, collection  # noqa: E402
from devtools.debian_root import DebianRoot  # noqa: E402
from devtools.emulator import EmulatorProcess, write_integration_config  # noqa: E402

nox.needs_version = ">=2026.8.10"  # --parallel; tools/devtools/bootstrap.py installs the same
nox.options.reuse_venv = "yes"
nox.options.error_on_external_run = True

# ansible-core under test -> its pip requirement. MAIN runs everything; the others sanity, units and integration.
CORE = {
    "2.16": "ansible-core>=2.16.0,<2.17",
    "2.19": "ansible-core>=2.19.0,<2.20",
    "2.21": "ansible-core>=2.21.0,<2.22",
}
MAIN = "2.19"
IN_DEBIAN_ROOT = {"2.21": "3.13"}  # ansible-core -> the Python of the Debian 13 root it runs on
INSIDE_ROOT = os.environ.get("M365_IN_DEBIAN_ROOT") == "1"

BUILD = REPO / "build"
REQUIREMENTS = "requirements.txt"  # what the modules need (msal, requests)
TEST_REQUIREMENTS = "tests/requirements.txt"  # pytest, xdist, the emulator's and the functional tests' packages
# pytest suites run once, on the main ansible-core (they start emulators, or check the docs); those that exist.
EMULATED_TESTS = ("tests/emulated", "tests/emulator/conformance", "tests/functional", "tests/faults", "tests/docs")
# Lint tools, lower bounds only (each session has a venv of its own).
ANSIBLE_LINT = "ansible-lint>=24.2"
ANTSIBULL_DOCS = "antsibull-docs>=2.10"
ANTSIBULL_CHANGELOG = "antsibull-changelog>=0.26"
GALAXY_IMPORTER = "galaxy-importer>=0.4.20"
ANSIBLE_BUILDER = "ansible-builder>=3.0"
COLLECTION = "%s.%s" % (collection.NAMESPACE, collection.NAME)
NO_COLOR = os.environ.get("CI", "").lower() in ("1", "true", "yes") or "NO_COLOR" in os.environ or not sys.stdout.isatty()


def color_flag() -> list:
    """ansible-test's --color option."""
    return ["--color", "no" if NO_COLOR else "yes"]


def tool_env(**extra: str) -> dict:
    """Environment for the tools: the work tree as the installed collection, plain output in CI."""
    env = {"ANSIBLE_COLLECTIONS_PATH": str(collection.ensure_collection_link(REPO)), "PIP_NO_INPUT": "1"}
    if NO_COLOR:
        env.update(NO_COLOR="1", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", PY_COLORS="0")
    env.update(extra)
    return env


def venv_python(session: nox.Session) -> str:
    """The interpreter of the session's venv."""
    return os.path.join(session.bin, "python")


def matrix_session(stage: str, core: str, func) -> None:
    """Declare the session STAGE-CORE running func(session, core); where core runs in the Debian root, the host's
    session runs the same session there."""
    root_python = IN_DEBIAN_ROOT.get(core)
    python = (root_python if INSIDE_ROOT else False) if root_python else None

    def run(session: nox.Session) -> None:
        if root_python and not INSIDE_ROOT:
            run_in_debian_root(session)
        else:
            func(session, core)

    run.__doc__ = "%s on ansible-core %s%s" % (
        func.__doc__, core, " (Python %s, Debian 13 root)" % root_python if root_python else "")
    nox.session(name="%s-%s" % (stage, core), python=python, tags=[stage, core], allow_parallel=True)(run)


def run_in_debian_root(session: nox.Session) -> None:
    """Run this session with nox inside the cached Debian 13 root, in a copy of the work tree kept there."""
    root = DebianRoot(log=session.log)
    root.ensure()
    root.carry_host_settings()
    root.prune_workdirs()
    inner = root.workdir(REPO) + "/" + session.name
    copy = collection.copy_collection(REPO, root.inside(inner), git_init=False)  # the root has no git
    inner_copy = "/" + str(copy.relative_to(root.path))
    # --report: nox's own report (inside, the closing line is the host's to print)
    session.run(*root.command(["python3", "noxfile.py", "--report", "/dev/null", "-s", session.name, "--",
                               *session.posargs], cwd=inner_copy,
                              env=root.environment({"M365_IN_DEBIAN_ROOT": "1"})), external=True)


def ansible_test_copy(session: nox.Session) -> Path:
    """A copy of the collection for this session's ansible-test runs (sessions run side by side)."""
    copy = collection.copy_collection(REPO, BUILD / "ansible-test" / session.name)
    ignores = ansible_test.sanity_ignore_files(copy)
    if ignores:
        session.error("sanity ignore files are not allowed: %s" % ", ".join(ignores))
    written = ansible_test.install_get_pip_standin(venv_python(session))
    if written:
        session.log("Installed the offline pip bootstrap stand-in for ansible-test: %s" % written)
    return copy


# --------------------------------------------------------------------------- the matrix


def sanity(session: nox.Session, core: str) -> None:
    """ansible-test sanity, no ignore files"""
    session.install(CORE[core])
    copy = ansible_test_copy(session)
    version = ansible_test.python_version(venv_python(session))
    with session.chdir(copy):
        output = session.run("ansible-test", "sanity", *color_flag(), "--local", "--requirements", "--python", version,
                             *session.posargs, env=tool_env(), silent=True)
    print(output, end="", flush=True)
    missing = [] if session.posargs else ansible_test.sanity_tests_not_run(output or "")
    if missing:
        session.error("sanity tests did not run or were skipped: %s" % ", ".join(missing))


def units(session: nox.Session, core: str) -> None:
    """ansible-test units: tests/unit (no server)"""
    session.install(CORE[core], "-r", REQUIREMENTS)
    copy = ansible_test_copy(session)
    version = ansible_test.python_version(venv_python(session))
    with session.chdir(copy):
        session.run("ansible-test", "units", *color_flag(), "--local", "--requirements", "--python", version,
                    *session.posargs, env=tool_env())


def integration(session: nox.Session, core: str) -> None:
    """ansible-test integration against the emulator"""
    session.install(CORE[core], "-r", REQUIREMENTS)
    copy = ansible_test_copy(session)
    version = ansible_test.python_version(venv_python(session))
    work = BUILD / "integration" / session.name
    emulator = EmulatorProcess(REPO, work / "emulator", generate=2400, seed=11, python=venv_python(session),
                               connection_file=work / "connection.json", log_path=work / "emulator.log")
    session.log("Starting the emulator: %s" % " ".join(emulator.command()))
    with emulator:
        config = write_integration_config(copy / "tests" / "integration" / "integration_config.yml",
                                          emulator.integration_vars())
        session.log("Emulator ready at %s; wrote %s" % (emulator.connection.get("api_url"), config))
        with session.chdir(copy):
            session.run("ansible-test", "integration", *color_flag(), "--local", "--python", version, "-v",
                        *session.posargs, env=tool_env())


# Declared longest first: with --parallel, nox starts sessions in this order. The Debian root's sessions lead
# each stage, so the root is built while the host's sessions run.
CORE_ORDER = sorted(CORE, key=lambda core: (core not in IN_DEBIAN_ROOT, core))


# --------------------------------------------------------------------------- once, on the main ansible-core


@nox.session(allow_parallel=True, tags=["emulated", MAIN])
def emulated(session: nox.Session) -> None:
    """pytest against the emulator: client and browser (tests/emulated), emulator conformance, functional, faults;
    doc checks"""
    session.install(CORE[MAIN], "-r", REQUIREMENTS, "-r", TEST_REQUIREMENTS)
    suites = [suite for suite in EMULATED_TESTS if (REPO / suite).is_dir()]
    args = session.posargs or ["-n", os.environ.get("PYTEST_WORKERS", "auto"), *suites]
    pythonpath = os.pathsep.join([str(BUILD / "collections"), str(REPO / "tests" / "emulator")])
    # the HTML report's browser test: M365_CHROMIUM (Debian's chromium, installed here when missing and root), or
    # M365_CHROMIUM_SKIP with the reason it cannot be
    browser = chromium.session_env(session.log)
    session.run("pytest", "-p", "no:cacheprovider", "-ra", *(["--color=no"] if NO_COLOR else []), *args,
                env=tool_env(PYTHONPATH=pythonpath, **browser))


for _core in CORE_ORDER:
    matrix_session("integration", _core, integration)
for _core in CORE_ORDER:
    matrix_session("sanity", _core, sanity)


@nox.session(name="ansible-lint", allow_parallel=True, tags=["lint"])
def ansible_lint(session: nox.Session) -> None:
    """ansible-lint, production profile, offline"""
    session.install(CORE[MAIN], ANSIBLE_LINT, "-r", REQUIREMENTS)
    session.run("ansible-lint", "--profile", "production", "--offline", *(["--nocolor"] if NO_COLOR else []),
                *session.posargs, env=tool_env())


@nox.session(name="docs-check", allow_parallel=True, tags=["lint"])
def docs_check(session: nox.Session) -> None:
    """antsibull-docs lint-collection-docs, the generated module reference, antsibull-changelog lint"""
    session.install(CORE[MAIN], ANTSIBULL_DOCS, ANTSIBULL_CHANGELOG)
    env = tool_env()
    link = Path(env["ANSIBLE_COLLECTIONS_PATH"]) / "ansible_collections" / collection.NAMESPACE / collection.NAME
    with session.chdir(link):
        session.run("antsibull-docs", "lint-collection-docs", "--plugin-docs", ".", env=dict(env, PWD=str(link)))
    session.run("python", "docs/build_module_reference.py", "--check", "--ansible-doc",
                os.path.join(session.bin, "ansible-doc"), env=env)
    session.run("antsibull-changelog", "lint", env=env)
    session.run("antsibull-changelog", "lint-changelog-yaml", "changelogs/changelog.yaml", env=env)


@nox.session(name="build-import-check", allow_parallel=True, tags=["lint"])
def build_import_check(session: nox.Session) -> None:
    """ansible-galaxy collection build, no build output in the tarball, galaxy-importer without warnings"""
    session.install(GALAXY_IMPORTER)
    out = BUILD / "build-import-check"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    session.run("ansible-galaxy", "collection", "build", "--output-path", str(out), env=tool_env())
    tarball = out / collection.tarball_name(REPO)
    bad = collection.tarball_problems(tarball)
    if bad:
        session.error("the tarball holds build output or development files (build_ignore in galaxy.yml): %s"
                      % ", ".join(bad[:20]))
    session.log("%s: nothing in it is build output or development tooling" % tarball.name)
    config = out / "galaxy-importer.cfg"
    config.write_text(checks.importer_config(), encoding="utf-8")
    with session.chdir(out):
        output = session.run("python", "-m", "galaxy_importer.main", tarball.name, silent=True,
                             env=tool_env(GALAXY_IMPORTER_CONFIG=str(config), ANSIBLE_COLLECTIONS_PATH=""))
    print(output, end="", flush=True)
    problems = checks.importer_problems(output or "")
    if problems:
        session.error("galaxy-importer reported:\n  " + "\n  ".join(problems))


@nox.session(name="ee-check", allow_parallel=True, tags=["lint"])
def ee_check(session: nox.Session) -> None:
    """ansible-builder: the docs' execution environment definition, and what it installs for this collection"""
    session.install(CORE[MAIN], ANSIBLE_BUILDER)
    out = BUILD / "ee-check"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    session.run("ansible-builder", "create", "--file", "docs/ee/execution-environment.yml", "--context",
                str(out / "context"), "--output-filename", "Containerfile", env=tool_env())
    problems = checks.ee_context_problems(out / "context", COLLECTION)
    session.run("ansible-galaxy", "collection", "build", "--output-path", str(out), env=tool_env())
    collections = out / "collections"
    env = tool_env(ANSIBLE_COLLECTIONS_PATH=str(collections))
    session.run("ansible-galaxy", "collection", "install", "--no-deps", "--force", "-p", str(collections),
                str(out / collection.tarball_name(REPO)), env=env)
    session.run("ansible-builder", "introspect", str(collections), "--write-pip", str(out / "requirements.txt"),
                env=env)
    introspected = (out / "requirements.txt").read_text(encoding="utf-8") if (out / "requirements.txt").exists() else ""
    problems += checks.introspection_problems(introspected, (REPO / REQUIREMENTS).read_text(encoding="utf-8"),
                                              COLLECTION)
    if problems:
        session.error("; ".join(problems))
    session.log("%s: build context written; with a container engine: podman build -t m365-exchange-ee %s"
                % (out / "context", out / "context"))


@nox.session(requires=["ansible-lint", "docs-check", "build-import-check", "ee-check"], python=False, tags=["lint"],
             allow_parallel=True)
def lint(session: nox.Session) -> None:  # pylint: disable=unused-argument
    """all lint sessions: ansible-lint, docs-check, build-import-check, ee-check"""


for _core in CORE_ORDER:
    matrix_session("units", _core, units)


@nox.session(allow_parallel=True, tags=["tooling"])
def tooling(session: nox.Session) -> None:
    """pytest of the development helpers in tools/devtools (no network, no root needed)"""
    session.install("pytest>=7.4", "PyYAML")
    session.run("pytest", "-p", "no:cacheprovider", "-q", *(session.posargs or ["tools/tests"]),
                env={"PYTHONPATH": str(REPO / "tools")})


# --------------------------------------------------------------------------- not part of CI


@nox.session(default=False)
def demo(session: nox.Session) -> None:
    """playbooks/demo.yml against the embedded emulator (outputs in demo-output/; arguments go to ansible-playbook)"""
    session.install("ansible-core>=2.16.0", "-r", REQUIREMENTS)
    output = REPO / "demo-output"
    output.mkdir(exist_ok=True)
    # The emulator starts from its sample tenant each time, so the demo's campaign starts afresh too.
    shutil.rmtree(output / "reports", ignore_errors=True)
    for ledger in output.glob("archive-access.ledger.jsonl*"):
        ledger.unlink()
    emulator = EmulatorProcess(REPO, output / "emulator", generate=200, seed=7, python=venv_python(session),
                               connection_file=output / "connection.json", log_path=output / "emulator.log")
    with emulator:
        session.log("Emulator ready: %s (tenant %s)" % (emulator.connection.get("api_url"),
                                                        emulator.connection.get("tenant")))
        # Implicit localhost runs the modules with the venv's python; its "no inventory" warnings are expected.
        env = tool_env(ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                       **emulator.module_env())
        # One line per step: the collection's quiet callback (where it exists), unless ANSIBLE_STDOUT_CALLBACK says
        # otherwise; `-s demo -- -v` shows every task.
        callback = os.environ.get("ANSIBLE_STDOUT_CALLBACK")
        if not callback and (REPO / "plugins" / "callback" / "quiet.py").exists():
            callback = "m365.exchange.quiet"
        if callback:
            env["ANSIBLE_STDOUT_CALLBACK"] = callback
        session.run("ansible-playbook", "playbooks/demo.yml", "-e", "demo_output_dir=%s" % output, *session.posargs,
                    env=env)
    session.log("Outputs are in %s: %s" % (output, ", ".join(sorted(p.name for p in output.iterdir()))))


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """the performance benchmark against the emulator's cost model (arguments go to tests/benchmarks/bench.py)"""
    session.install("ansible-core>=2.16.0", "-r", REQUIREMENTS)
    session.run("python", "tests/benchmarks/bench.py", *session.posargs, env=tool_env())


@nox.session(default=False, python=False)
def dev(session: nox.Session) -> None:
    """.venv/ for working by hand: the main ansible-core, the modules' and the tests' requirements"""
    venv = REPO / ".venv"
    if not (venv / "bin" / "python").exists():
        session.run(sys.executable, "-m", "venv", str(venv), external=True)
    session.run(str(venv / "bin" / "pip"), "install", "-q", CORE[MAIN], "-r", REQUIREMENTS, "-r", TEST_REQUIREMENTS,
                external=True)
    collection.ensure_collection_link(REPO)
    session.log("Ready: PYTHONPATH=build/collections:tests/emulator .venv/bin/pytest tests/unit (see TESTING.md)")
