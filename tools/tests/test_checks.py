"""devtools.checks: what fails the lint sessions in galaxy-importer's and ansible-builder's output."""

import pytest

from devtools import checks

COLLECTION = "m365.exchange"


def test_importer_warnings_and_errors_are_problems():
    output = "Importing with galaxy-importer 0.4.30\nWARNING: docs missing\nERROR: no\nDone\nLoading collection"
    assert checks.importer_problems(output) == ["WARNING: docs missing", "ERROR: no"]
    assert checks.importer_problems("Importing\nDone\n") == []


def test_importer_config_turns_off_ansible_test_only():
    text = checks.importer_config()
    assert text.startswith("[galaxy-importer]\n")
    assert "RUN_ANSIBLE_TEST = False" in text and "RUN_ANSIBLE_LINT = True" in text


def test_requirement_specs_normalise_names_and_keep_comments():
    specs = checks.requirement_specs("# c\nmsal >= 1.24.0  # from collection m365.exchange\nPy_JWT[crypto]>=2\n"
                                     "-r other.txt\nrequests>=2.25.0 ; python_version >= '3.9'\n")
    assert specs == {"msal": (">=1.24.0", "from collection m365.exchange"), "py-jwt": (">=2", ""),
                     "requests": (">=2.25.0", "")}


def test_an_unreadable_requirement_is_named():
    with pytest.raises(ValueError, match="cannot read the requirement"):
        checks.requirement_specs("!!!\n")


RUNTIME = "msal>=1.24.0\nrequests>=2.25.0\n"


def test_introspection_that_matches_requirements_txt_is_fine():
    introspected = ("msal>=1.24.0  # from collection m365.exchange\nrequests>=2.25.0  # from collection "
                    "m365.exchange\nboto3  # from collection amazon.aws\n")
    assert checks.introspection_problems(introspected, RUNTIME, COLLECTION) == []


def test_introspection_names_missing_and_different_requirements():
    introspected = "msal>=1.20  # from collection m365.exchange\n"
    problems = checks.introspection_problems(introspected, RUNTIME, COLLECTION)
    assert problems[0] == "requests is not listed for m365.exchange"
    assert "differ from requirements.txt" in problems[1]


def test_an_ee_context_must_install_the_collection_and_introspect(tmp_path):
    assert checks.ee_context_problems(tmp_path, COLLECTION)[0].endswith("Containerfile was not written")
    (tmp_path / "_build").mkdir()
    (tmp_path / "Containerfile").write_text("RUN ansible-builder introspect --sanitize\n", encoding="utf-8")
    (tmp_path / "_build" / "requirements.yml").write_text("collections:\n  - name: other.thing\n", encoding="utf-8")
    assert checks.ee_context_problems(tmp_path, COLLECTION) == [
        "%s does not install m365.exchange" % (tmp_path / "_build" / "requirements.yml")]
    (tmp_path / "_build" / "requirements.yml").write_text("collections:\n  - name: m365.exchange\n", encoding="utf-8")
    assert checks.ee_context_problems(tmp_path, COLLECTION) == []
