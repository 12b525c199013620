"""What ansible-test needs here and does not do itself: an offline pip bootstrap, and a check of sanity's coverage."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Iterable, List, Optional

STANDIN = Path(__file__).resolve().parent / "get_pip.py"
STANDIN_MARKER = "m365.exchange get-pip stand-in"

# Sanity tests that must run (not be skipped) every time; the others run when they have targets.
SANITY_REQUIRED = ("ansible-doc", "changelog", "compile", "import", "pep8", "pylint", "runtime-metadata", "shebang",
                   "validate-modules", "yamllint")

# Asks the installed ansible-test which pip version it bootstraps into the venvs it creates.
_PIP_VERSION_CODE = """\
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version=%r))['pip'])
"""


def python_version(python: str) -> str:
    """X.Y of an interpreter."""
    return subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          stdout=subprocess.PIPE, check=True, text=True).stdout.strip()


def bootstrap_pip_version(python: str) -> str:
    """The pip version ansible-test (installed for python) bootstraps into its venvs."""
    result = subprocess.run([str(python), "-c", _PIP_VERSION_CODE % python_version(python)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, check=False)
    version = result.stdout.strip()
    if result.returncode != 0 or not re.match(r"^\d+(\.\d+)*$", version):
        raise RuntimeError("cannot tell which pip version ansible-test bootstraps (did its internals change?): %s"
                           % (result.stderr.strip().splitlines() or ["no output"])[-1])
    return version


def standin_path(version: str, home: Path) -> Path:
    """Where ansible-test looks for its cached get-pip script of a pip version."""
    return Path(home) / ".ansible" / "test" / "cache" / ("get_pip_%s.py" % version.replace(".", "_"))


def install_get_pip_standin(python: str, home: Optional[Path] = None) -> Optional[Path]:
    """Put the offline get-pip stand-in where ansible-test looks for its cached bootstrap script.

    A real get-pip script already cached there (not ours) is left alone. Returns the path written, or None.
    """
    cache = standin_path(bootstrap_pip_version(python), home or Path.home())
    content = STANDIN.read_text(encoding="utf-8")
    if cache.exists():
        current = cache.read_text(encoding="utf-8", errors="replace")
        if current == content or STANDIN_MARKER not in current:
            return None
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(content, encoding="utf-8")
    return cache


def sanity_ignore_files(collection: Path) -> List[str]:
    """tests/sanity/ignore-*.txt files of a collection (none are allowed)."""
    return sorted("tests/sanity/" + p.name for p in (Path(collection) / "tests" / "sanity").glob("ignore*.txt"))


def sanity_tests_not_run(output: str, required: Iterable[str] = SANITY_REQUIRED) -> List[str]:
    """Required sanity tests that ansible-test's output shows were not run, or were skipped."""
    ran = set(re.findall(r'^Running sanity test "([^"]+)"', output, re.M))
    skipped = set(re.findall(r'Skipping sanity test "([^"]+)"', output))
    return sorted((set(required) - ran) | (set(required) & skipped))
