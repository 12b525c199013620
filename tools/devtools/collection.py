"""The collection's files, the copies ansible-test runs in, and what the built tarball may contain."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import List

NAMESPACE, NAME = "m365", "exchange"

# Build output, venvs and caches: never copied for ansible-test, never allowed in the tarball.
OUTPUT_PATHS = re.compile(
    r"^(build|demo-output|tests/output)(/|$)"
    r"|(^|/)(\.venv[^/]*|\.nox|\.git|__pycache__|\.pytest_cache|\.cache|\.ansible)(/|$)"
    r"|\.pyc$|^[^/]*\.tar\.gz$"
)
# Development tooling: part of the repository, kept out of the tarball (build_ignore in galaxy.yml).
DEVELOPMENT_ONLY = re.compile(r"^(\.ci|tools)(/|$)|^noxfile\.py$")


def excluded(name: str) -> bool:
    """Tell whether a relative path is build output or a cache rather than part of the collection."""
    return bool(OUTPUT_PATHS.search(name.replace(os.sep, "/")))


def collection_files(repo: Path) -> List[str]:
    """The collection's files, relative to repo: git's view (tracked and untracked, not ignored), else a walk."""
    repo = Path(repo)
    names: List[str] = []
    if (repo / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=str(repo), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
        if listed.returncode == 0:
            names = [name for name in listed.stdout.decode("utf-8").split("\0") if name]
    if not names:
        names = walk_files(repo)
    return sorted(name for name in set(names) if not excluded(name) and os.path.lexists(repo / name))


def walk_files(repo: Path) -> List[str]:
    """List the files under repo without git, skipping build output and caches."""
    names = []
    for root, dirs, files in os.walk(repo):
        rel_root = os.path.relpath(root, repo)
        dirs[:] = [d for d in dirs if not excluded(os.path.normpath(os.path.join(rel_root, d)))]
        names += [os.path.normpath(os.path.join(rel_root, f)) for f in files]
    return names


def collection_copy_path(root: Path) -> Path:
    """Where copy_collection puts the collection under root."""
    return Path(root) / "ansible_collections" / NAMESPACE / NAME


def copy_collection(repo: Path, root: Path, keep=("tests/output", ".nox", "build"), git_init: bool = True) -> Path:
    """Copy the collection to root/ansible_collections/m365/exchange and return that path.

    ansible-test needs its working directory inside ansible_collections/NAMESPACE/NAME and resolves
    symlinks, so it runs in a real copy. What the copy had is replaced, except the paths in keep (caches).
    With git_init, where git exists, the copy becomes a repository of its own (nothing committed; ansible-test
    lists untracked files too): a copy inside this repository's work tree would otherwise be seen as ignored.
    Without a repository ansible-test lists the files itself (and needs no git).
    """
    repo, target = Path(repo), collection_copy_path(root)
    target.mkdir(parents=True, exist_ok=True)
    kept = set(keep) | {".git"}
    _clear(target, "", kept)
    files = collection_files(repo)
    for name in files:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, destination, follow_symlinks=False)
    if git_init and not (target / ".git").exists() and shutil.which("git"):
        subprocess.run(["git", "init", "-q", str(target)], check=True, stdin=subprocess.DEVNULL)
    return target


def _clear(directory: Path, prefix: str, kept: set) -> None:
    """Remove what directory holds, except the relative paths in kept (and the directories leading to them)."""
    for entry in directory.iterdir():
        rel = prefix + entry.name
        if rel in kept:
            continue
        if entry.is_dir() and not entry.is_symlink() and any(k.startswith(rel + "/") for k in kept):
            _clear(entry, rel + "/", kept)
        elif entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def galaxy_version(repo: Path) -> str:
    """The collection version from galaxy.yml (a plain top-level key, no YAML parser needed)."""
    text = (Path(repo) / "galaxy.yml").read_text(encoding="utf-8")
    match = re.search(r"^version:\s*['\"]?([^'\"\s#]+)", text, re.M)
    if not match:
        raise ValueError("galaxy.yml has no version")
    return match.group(1)


def tarball_name(repo: Path) -> str:
    """The file name ansible-galaxy collection build gives the tarball."""
    return "%s-%s-%s.tar.gz" % (NAMESPACE, NAME, galaxy_version(repo))


def tarball_problems(tarball: Path) -> List[str]:
    """Entries of a collection tarball that are build output, caches or development tooling."""
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    return sorted(name for name in names if OUTPUT_PATHS.search(name) or DEVELOPMENT_ONLY.search(name))


def ensure_collection_link(repo: Path) -> Path:
    """Make build/collections/ansible_collections/m365/exchange a symlink to the repository; return build/collections.

    Tests, the demo and the benchmarks put build/collections on ANSIBLE_COLLECTIONS_PATH (and PYTHONPATH)
    to use the work tree as the installed collection.
    """
    repo = Path(repo).resolve()
    collections = repo / "build" / "collections"
    link = collection_copy_path(collections)
    target = os.path.relpath(repo, link.parent)
    if link.is_symlink() and os.readlink(link) == target:
        return collections
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)
    # A new link renamed into place: sessions running side by side may all get here at once.
    temporary = link.with_name(".%s.%d.tmp" % (link.name, os.getpid()))
    if temporary.is_symlink():
        temporary.unlink()
    temporary.symlink_to(target, target_is_directory=True)
    os.replace(temporary, link)
    return collections
