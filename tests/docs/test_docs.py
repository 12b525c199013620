# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Doc checks: what the documentation presents as runnable refers to things that exist, and its YAML parses.

Every Markdown file of the documentation is read for its fenced code blocks and inline code:
- YAML blocks parse;
- links, anchors and repository paths resolve;
- every m365.exchange.* name is a module, playbook, role, filter or callback of the collection;
- every option a YAML block gives a module (in a task or in module_defaults) is in the module's argument spec;
- every archive_access_* / permission_audit_* variable and every EXO_* environment variable the docs name exists;
- every `python3 noxfile.py ...` command names sessions noxfile.py declares, every `ansible-playbook X.yml` names a playbook that exists
  (or that the same page writes out), and no command contains a path of a developer's machine.
"""

import glob
import importlib
import os
import re
import shlex
import subprocess
import sys
from unittest import mock

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NAMESPACE = "m365.exchange"

DOCS = sorted(set(
    [os.path.join(REPO, "README.md")]
    + glob.glob(os.path.join(REPO, "docs", "**", "*.md"), recursive=True)
    + glob.glob(os.path.join(REPO, "roles", "*", "README.md"))
    + [os.path.join(REPO, "tests", "emulator", "README.md"), os.path.join(REPO, "tests", "faults", "README.md")]
))
DOC_IDS = [os.path.relpath(path, REPO) for path in DOCS]

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
SHELL_LANGS = ("sh", "bash", "shell", "console")
YAML_LANGS = ("yaml", "yml")
# A path of the repository: starts with one of its top-level entries. Output directories are not shipped.
REPO_PATH = re.compile(r"^(?:\./)?((?:README\.md|COPYING|galaxy\.yml|requirements\.txt|pytest\.ini|"
                       r"docs|playbooks|roles|plugins|tests|tools|noxfile\.py|meta|changelogs|\.ci)(?:/[^\s`'\"),;]*)?)$")
NOT_SHIPPED = re.compile(r"^(?:\./)?tests/output(/|$)")
PLACEHOLDER = re.compile(r"[<>*{}$]|\.\.\.|…")
FQCN = re.compile(r"\bm365\.exchange\.([a-z][a-z0-9_]*)\b")
ROLE_VARIABLE = re.compile(r"\b((?:archive_access|permission_audit)_[a-z0-9_]+)\b")
EXO_VARIABLE = re.compile(r"\b(EXO_[A-Z0-9_]+)\b")
MACHINE_PATH = re.compile(r"(/work/|/tmp/devvenv|/root/|/home/[a-z])")


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def blocks(text):
    """(language, body) of each fenced code block."""
    return [(m.group("lang").lower(), m.group("body")) for m in FENCE.finditer(text)]


def prose(text):
    """The text outside fenced code blocks."""
    return FENCE.sub("", text)


def shell_lines(text):
    """Commands of the shell blocks: continuation lines joined, comments dropped."""
    lines = []
    for lang, body in blocks(text):
        if lang in SHELL_LANGS:
            for line in body.replace("\\\n", " ").splitlines():
                line = re.sub(r"(^|\s)#.*$", "", line).strip()
                if line:
                    lines.append(line)
    return lines


def words_of(line):
    try:
        return shlex.split(line, comments=True)
    except ValueError:
        return line.split()


def slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r"`|\*\*|\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    return set(slug(h) for h in HEADING.findall(prose(read(path))))


def collection_names():
    """m365.exchange.<name> for everything the collection provides, by name."""
    names = {"exchange"}  # the action group
    names.update(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(REPO, "plugins", "modules", "*.py")))
    names.update(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(REPO, "playbooks", "*.yml")))
    names.update(os.path.basename(p) for p in glob.glob(os.path.join(REPO, "roles", "*")))
    names.update(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(REPO, "plugins", "callback", "*.py")))
    for path in glob.glob(os.path.join(REPO, "plugins", "filter", "*.yml")):
        names.add(os.path.splitext(os.path.basename(path))[0])
    names.update(os.path.splitext(os.path.basename(p))[0]
                 for p in glob.glob(os.path.join(REPO, "plugins", "doc_fragments", "*.py")))
    names.discard("__init__")
    return names


class _SpecCaptured(Exception):
    def __init__(self, spec):
        super().__init__("argument spec captured")
        self.spec = spec


def argument_spec(module_name):
    """The argument spec a module builds its AnsibleModule with (connection options included)."""
    from ansible.module_utils import basic  # pylint: disable=import-outside-toplevel

    def capture(_self, argument_spec=None, **_kwargs):
        raise _SpecCaptured(argument_spec)

    module = importlib.import_module("ansible_collections.m365.exchange.plugins.modules." + module_name)
    if not hasattr(module, "main"):
        # the documentation of an action plugin (archive_campaign): its options are what it documents
        options = yaml.safe_load(module.DOCUMENTATION).get("options") or {}
        names = set(options)
        for option in options.values():
            names.update(option.get("aliases") or [])
        return names
    spec = None
    with mock.patch.object(basic.AnsibleModule, "__init__", capture):
        try:
            module.main()
        except _SpecCaptured as captured:
            spec = captured.spec
    assert spec is not None, "%s.main() built no AnsibleModule" % module_name
    names = set(spec)
    for option in spec.values():
        names.update(option.get("aliases") or [])
    return names


@pytest.fixture(scope="module")
def specs():
    modules = [os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(REPO, "plugins", "modules", "*.py"))]
    result = dict((name, argument_spec(name)) for name in modules)
    connection = set.intersection(*(names for name, names in result.items()
                                    if "client_id" in names))  # the modules that talk to Exchange
    result["group/%s.exchange" % NAMESPACE] = connection
    return result


def yaml_documents(body):
    return [doc for doc in yaml.safe_load_all(body) if doc is not None]


def walk(node):
    """Every dict in a YAML tree."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def test_the_documentation_is_found():
    assert len(DOCS) >= 10 and os.path.join(REPO, "docs", "runbook.md") in DOCS


@pytest.mark.parametrize("path", DOCS, ids=DOC_IDS)
def test_yaml_blocks_parse(path):
    for lang, body in blocks(read(path)):
        if lang in YAML_LANGS:
            try:
                yaml_documents(body)
            except yaml.YAMLError as exc:
                pytest.fail("a YAML block of %s does not parse: %s\n%s" % (os.path.relpath(path, REPO), exc, body))


@pytest.mark.parametrize("path", DOCS, ids=DOC_IDS)
def test_links_and_anchors_resolve(path):
    broken = []
    for target in LINK.findall(prose(read(path))):
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, anchor = (target.split("#", 1) + [""])[:2]
        linked = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.exists(linked):
            broken.append(target)
        elif anchor and linked.endswith(".md") and anchor not in anchors(linked):
            broken.append(target)
    assert not broken, "%s links to what does not exist: %s" % (os.path.relpath(path, REPO), broken)


def mentioned_paths(text):
    tokens = INLINE_CODE.findall(prose(text))
    for line in shell_lines(text):
        tokens.extend(words_of(line))
    for token in tokens:
        for word in token.split():
            match = REPO_PATH.match(word.rstrip(".:"))
            if match and not PLACEHOLDER.search(word) and not NOT_SHIPPED.match(word):
                yield match.group(1)


@pytest.mark.parametrize("path", DOCS, ids=DOC_IDS)
def test_repository_paths_exist(path):
    text = read(path)
    missing = sorted(set(p for p in mentioned_paths(text)
                         if not os.path.exists(os.path.join(REPO, p))
                         and not os.path.exists(os.path.join(os.path.dirname(path), p))))
    assert not missing, "%s names paths that do not exist: %s" % (os.path.relpath(path, REPO), missing)


@pytest.mark.parametrize("path", DOCS, ids=DOC_IDS)
def test_collection_names_exist(path):
    known = collection_names()
    unknown = sorted(set(name for name in FQCN.findall(read(path)) if name not in known))
    assert not unknown, "%s names %s" % (os.path.relpath(path, REPO), ", ".join("m365.exchange." + n for n in unknown))


@pytest.mark.parametrize("path", DOCS, ids=DOC_IDS)
def test_module_options_exist(path, specs):
    unknown = []
    for lang, body in blocks(read(path)):
        if lang not in YAML_LANGS:
            continue
        for mapping in walk(yaml_documents(body)):
            for key, value in mapping.items():
                if not isinstance(key, str) or not isinstance(value, dict):
                    continue
                name = key[len("m365.exchange."):] if key.startswith("m365.exchange.") else key
                if name in specs:
                    unknown.extend("%s: %s" % (key, option) for option in value if option not in specs[name])
    assert not unknown, "%s gives options the modules do not have: %s" % (os.path.relpath(path, REPO), unknown)


def role_and_playbook_text():
    texts = []
    for pattern in ("roles/**/*.yml", "roles/**/*.j2", "playbooks/*.yml"):
        texts.extend(read(p) for p in glob.glob(os.path.join(REPO, pattern), recursive=True))
    return "\n".join(texts)


@pytest.mark.parametrize("path", DOCS, ids=DOC_IDS)
def test_role_variables_exist(path):
    defined = set(ROLE_VARIABLE.findall(role_and_playbook_text()))
    unknown = sorted(set(ROLE_VARIABLE.findall(read(path))) - defined)
    assert not unknown, "%s names role variables the roles and playbooks do not know: %s" % (
        os.path.relpath(path, REPO), unknown)


@pytest.mark.parametrize("path", DOCS, ids=DOC_IDS)
def test_environment_variables_exist(path):
    code = "\n".join(read(p) for p in glob.glob(os.path.join(REPO, "plugins", "**", "*.py"), recursive=True)
                     + glob.glob(os.path.join(REPO, "tests", "emulator", "exo_emulator", "*.py")))
    unknown = sorted(set(EXO_VARIABLE.findall(read(path))) - set(EXO_VARIABLE.findall(code)))
    assert not unknown, "%s names environment variables nothing reads: %s" % (os.path.relpath(path, REPO), unknown)


@pytest.fixture(scope="module")
def nox_sessions():
    """The sessions and tags noxfile.py declares, from `python3 noxfile.py -l` (lines `* name [tags] -> ...`, and
    `- name -> ...` for the sessions CI does not run; nox is installed into .nox/_nox when missing)."""
    listed = subprocess.run([sys.executable, os.path.join(REPO, "noxfile.py"), "-l"], cwd=REPO,
                            stdout=subprocess.PIPE, check=True, text=True).stdout
    found = re.findall(r"^[*-] (\S+)(?: \[([^\]]*)\])? ->", listed, re.M)
    return set(name for name, _tags in found), set(tag for _name, tags in found for tag in tags.split(",") if tag)


@pytest.mark.parametrize("path", DOCS, ids=DOC_IDS)
def test_nox_commands_name_sessions_that_exist(path, nox_sessions):
    names, tags = nox_sessions
    for line in shell_lines(read(path)):
        words = words_of(line)
        if words[:2] not in (["python3", "noxfile.py"], ["python", "noxfile.py"]) and words[:1] != ["nox"]:
            continue
        words = words[1:] if words[0] == "nox" else words[2:]
        words = words[:words.index("--")] if "--" in words else words
        for option, known in (("-s", names), ("--session", names), ("-t", tags), ("--tags", tags)):
            for index, word in enumerate(words[:-1]):
                if word == option and words[index + 1] not in known:
                    pytest.fail("%s: `%s` names %s, which noxfile.py does not declare"
                                % (os.path.relpath(path, REPO), line, words[index + 1]))


def written_out(text):
    """Files a page writes out itself: a YAML block whose first line is a comment naming the file."""
    names = set()
    for lang, body in blocks(text):
        first = body.lstrip().splitlines()[0] if body.strip() else ""
        match = re.match(r"^#\s*([\w.-]+\.ya?ml)\b", first)
        if lang in YAML_LANGS and match:
            names.add(match.group(1))
    return names


@pytest.mark.parametrize("path", DOCS, ids=DOC_IDS)
def test_playbooks_run_by_the_docs_exist(path):
    text = read(path)
    missing = []
    for line in shell_lines(text):
        words = words_of(line)
        for index, word in enumerate(words):
            if not word.endswith("ansible-playbook"):
                continue
            playbooks = [w for w in words[index + 1:] if w.endswith((".yml", ".yaml")) and not w.startswith("@")]
            options_with_files = set(words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-i", "--inventory"))
            for playbook in playbooks:
                if playbook in options_with_files or playbook in written_out(text):
                    continue
                if not (os.path.exists(os.path.join(REPO, playbook))
                        or os.path.exists(os.path.join(os.path.dirname(path), playbook))):
                    missing.append(playbook)
    assert not missing, "%s runs playbooks that do not exist: %s" % (os.path.relpath(path, REPO), missing)


@pytest.mark.parametrize("path", DOCS, ids=DOC_IDS)
def test_files_read_by_yaml_examples_are_shipped(path):
    """lookup('ansible.builtin.file', 'X') in an example reads a file the collection ships under docs/."""
    missing = []
    for lang, body in blocks(read(path)):
        if lang in YAML_LANGS:
            for name in re.findall(r"lookup\(\s*'(?:ansible\.builtin\.)?file',\s*'([^']+)'", body):
                if not glob.glob(os.path.join(REPO, "docs", "**", name), recursive=True):
                    missing.append(name)
    assert not missing, "%s reads files that are not shipped: %s" % (os.path.relpath(path, REPO), missing)


@pytest.mark.parametrize("path", DOCS, ids=DOC_IDS)
def test_commands_contain_no_path_of_a_developer_machine(path):
    found = [line for line in shell_lines(read(path)) if MACHINE_PATH.search(line)]
    assert not found, "%s: %s" % (os.path.relpath(path, REPO), found)
