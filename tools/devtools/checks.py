"""What the lint session reads out of galaxy-importer's and ansible-builder's output."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Tuple

# galaxy-importer settings: what Galaxy runs on upload, minus ansible-test (which needs containers).
IMPORTER_CONFIG = {"RUN_ANSIBLE_TEST": "False", "RUN_ANSIBLE_DOC": "True", "RUN_ANSIBLE_LINT": "True",
                   "OFFLINE_ANSIBLE_LINT": "True", "CHECK_CHANGELOG": "True", "LOG_LEVEL_MAIN": "INFO"}
# Lines of galaxy-importer's output that fail the lint session.
IMPORTER_PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL|Traceback)\b")

REQUIREMENT_LINE = re.compile(
    r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^#;]*?)\s*(?:;[^#]*)?(?:#\s*(.*))?$")


def importer_config() -> str:
    """The galaxy-importer configuration file's text."""
    return "[galaxy-importer]\n" + "".join("%s = %s\n" % item for item in IMPORTER_CONFIG.items())


def importer_problems(output: str) -> List[str]:
    """Lines of galaxy-importer's output that are warnings or errors (Galaxy would show them on the import)."""
    return [line for line in output.splitlines() if IMPORTER_PROBLEM.search(line)]


def requirement_specs(text: str, source: str = "requirements") -> Dict[str, Tuple[str, str]]:
    """{normalised name: (version specifier without spaces, trailing comment)} of a pip requirements text."""
    specs: Dict[str, Tuple[str, str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "-")):
            continue
        match = REQUIREMENT_LINE.match(line)
        if not match:
            raise ValueError("%s: cannot read the requirement %r" % (source, line))
        name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
        specs[name] = (re.sub(r"\s+", "", match.group(2)), (match.group(3) or "").strip())
    return specs


def introspection_problems(introspected: str, runtime: str, collection: str,
                           required: Sequence[str] = ("msal", "requests")) -> List[str]:
    """Compare ansible-builder introspect's pip output with requirements.txt.

    introspected: the file ``ansible-builder introspect --write-pip`` wrote; runtime: requirements.txt's text.
    The packages the collection declares for execution environments must be the runtime requirements.
    """
    listed = requirement_specs(introspected, "ansible-builder introspect")
    ours: Mapping[str, str] = dict((name, spec) for name, (spec, comment) in listed.items()
                                   if comment == "from collection " + collection)
    problems = ["%s is not listed for %s" % (name, collection) for name in required if name not in ours]
    runtime_specs = dict((name, value[0]) for name, value in requirement_specs(runtime, "requirements.txt").items())
    if ours and dict(ours) != runtime_specs:
        problems.append("the EE requirements (meta/execution-environment.yml) %s differ from requirements.txt %s"
                        % (dict(ours), runtime_specs))
    return problems


def ee_context_problems(context: Path, collection: str) -> List[str]:
    """What is missing from the build context ``ansible-builder create`` wrote."""
    context = Path(context)
    containerfile, galaxy_requirements = context / "Containerfile", context / "_build" / "requirements.yml"
    problems = ["%s was not written" % path for path in (containerfile, galaxy_requirements) if not path.is_file()]
    if problems:
        return problems
    namespace, name = collection.split(".")
    if not re.search(r"^\s*-?\s*name:\s*['\"]?%s\.%s['\"]?\s*$" % (namespace, name),
                     galaxy_requirements.read_text(encoding="utf-8"), re.M):
        problems.append("%s does not install %s" % (galaxy_requirements, collection))
    if "introspect" not in containerfile.read_text(encoding="utf-8"):
        problems.append("%s does not run the collections' dependency introspection" % containerfile)
    return problems
