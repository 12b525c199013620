"""devtools.collection: the files that make the collection, its copies for ansible-test, the tarball check."""

import io
import os
import subprocess
import tarfile

import pytest

from devtools import collection


@pytest.mark.parametrize("name", ["build/x", "demo-output/a", "tests/output/.tmp/x", ".venv/bin/python",
                                  ".venv-importer/x", ".nox/units-2-19/x", "plugins/__pycache__/a.pyc", "a.pyc",
                                  "m365-exchange-1.0.0.tar.gz", ".git/config", "roles/r/.ansible/x"])
def test_build_output_and_caches_are_excluded(name):
    assert collection.excluded(name)


@pytest.mark.parametrize("name", ["plugins/modules/mailbox_info.py", "tests/unit/plugins/a.py", "noxfile.py",
                                  "tools/devtools/collection.py", "docs/build.md", "tests/outputs.md"])
def test_collection_files_are_not_excluded(name):
    assert not collection.excluded(name)


def make_tree(root, names):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name, encoding="utf-8")


def test_without_git_the_files_are_walked_and_output_left_out(tmp_path):
    make_tree(tmp_path, ["galaxy.yml", "plugins/modules/m.py", "build/x", ".nox/s/x", "tests/output/y"])
    assert collection.collection_files(tmp_path) == ["galaxy.yml", "plugins/modules/m.py"]


def test_git_lists_tracked_and_untracked_files_but_not_ignored_ones(tmp_path):
    make_tree(tmp_path, ["galaxy.yml", "new.txt", "ignored.log", ".gitignore"])
    (tmp_path / ".gitignore").write_text("*.log\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "galaxy.yml"], check=True)
    assert collection.collection_files(tmp_path) == [".gitignore", "galaxy.yml", "new.txt"]


def test_the_copy_replaces_stale_files_and_keeps_the_caches(tmp_path):
    repo, root = tmp_path / "repo", tmp_path / "copies"
    make_tree(repo, ["galaxy.yml", "plugins/modules/m.py"])
    copy = collection.copy_collection(repo, root, git_init=False)
    assert copy == root / "ansible_collections" / "m365" / "exchange"
    make_tree(copy, ["plugins/modules/stale.py", "tests/output/.tmp/cache", ".nox/s/bin/python"])
    (repo / "plugins" / "modules" / "m.py").write_text("changed", encoding="utf-8")
    collection.copy_collection(repo, root, git_init=False)
    assert not (copy / "plugins" / "modules" / "stale.py").exists()
    assert (copy / "plugins" / "modules" / "m.py").read_text(encoding="utf-8") == "changed"
    assert (copy / "tests" / "output" / ".tmp" / "cache").exists()
    assert (copy / ".nox" / "s" / "bin" / "python").exists()
    assert not (copy / ".git").exists()


def test_the_copy_is_a_repository_of_its_own_where_git_is_asked_for(tmp_path):
    repo = tmp_path / "repo"
    make_tree(repo, ["galaxy.yml"])
    copy = collection.copy_collection(repo, tmp_path / "copies")
    assert (copy / ".git").is_dir()


def test_galaxy_version_and_tarball_name(tmp_path):
    (tmp_path / "galaxy.yml").write_text("---\nnamespace: m365\nversion: '1.2.3'  # next\n", encoding="utf-8")
    assert collection.tarball_name(tmp_path) == "m365-exchange-1.2.3.tar.gz"
    (tmp_path / "galaxy.yml").write_text("namespace: m365\n", encoding="utf-8")
    with pytest.raises(ValueError):
        collection.galaxy_version(tmp_path)


def test_the_tarball_check_names_build_output_and_development_files(tmp_path):
    tarball = tmp_path / "c.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        for name in ("MANIFEST.json", "plugins/modules/m.py", "build/x", "tools/devtools/a.py", "noxfile.py",
                     ".ci/run", "tests/unit/test_a.py", ".nox/x"):
            data = name.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    assert collection.tarball_problems(tarball) == [".ci/run", ".nox/x", "build/x", "noxfile.py", "tools/devtools/a.py"]


def test_the_collection_link_points_at_the_work_tree(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    collections = collection.ensure_collection_link(repo)
    link = collections / "ansible_collections" / "m365" / "exchange"
    assert link.is_symlink() and link.resolve() == repo.resolve()
    os.unlink(link)
    link.mkdir()  # something else in its place is replaced
    collection.ensure_collection_link(repo)
    assert link.is_symlink() and link.resolve() == repo.resolve()
