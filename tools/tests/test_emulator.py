"""devtools.emulator: the emulator as a child process, with a stand-in emulator package (no TLS, no server)."""

import json
import os
import sys

import pytest
import yaml

from devtools import emulator as emulator_process

CONNECTION = {"api_url": "https://127.0.0.1:1", "authority_url": "https://127.0.0.1:1", "admin_url": "https://a",
              "ca_path": "/x/ca.pem", "tenant": "contoso.onmicrosoft.com", "client_id": "id", "client_secret": "s",
              "certificate_path": "/x/main.pem"}

# A stand-in for exo_emulator's "serve": writes the connection file (in two steps, as a half-written file would
# look), then waits to be stopped; or exits at once when told to fail.
FAKE_MAIN = """
import json, sys, time
args = sys.argv[1:]
path = args[args.index("--connection-file") + 1]
if "--fail" in args:
    print("cannot bind the port")
    sys.exit(3)
with open(path, "w") as handle:
    handle.write('{"api_url": ')
time.sleep(0.3)
with open(path, "w") as handle:
    json.dump(%r, handle)
print("serving", flush=True)
time.sleep(60)
""" % (CONNECTION,)


@pytest.fixture(name="repo")
def fixture_repo(tmp_path):
    package = tmp_path / "repo" / "tests" / "emulator" / "exo_emulator"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "__main__.py").write_text(FAKE_MAIN, encoding="utf-8")
    return tmp_path / "repo"


def test_the_emulator_is_ready_once_its_connection_file_is_complete_and_stops(repo, tmp_path):
    process = emulator_process.EmulatorProcess(repo, tmp_path / "work", generate=10, seed=1, python=sys.executable)
    assert process.command()[1:4] == ["-m", "exo_emulator", "serve"]
    assert process.command()[-4:] == ["--generate", "10", "--seed", "1"]
    with process as emu:
        assert emu.running
        assert emu.connection == CONNECTION
        assert emu.module_env()["EXO_API_URL"] == "https://127.0.0.1:1"
        assert emu.module_env()["EXO_CA_PATH"] == "/x/ca.pem"
        assert emu.integration_vars()["exo_certificate_path"] == "/x/main.pem"
        assert emu.integration_vars()["exo_connection_file"] == str(tmp_path / "work" / "connection.json")
        pid = emu._process.pid  # pylint: disable=protected-access
    assert not process.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_an_emulator_that_exits_early_is_reported_with_its_log(repo, tmp_path):
    process = emulator_process.EmulatorProcess(repo, tmp_path / "work", python=sys.executable, extra_args=["--fail"])
    with pytest.raises(emulator_process.EmulatorError, match="(?s)exited with code 3.*cannot bind the port"):
        process.start()
    assert not process.running


def test_a_missing_emulator_package_is_named(tmp_path):
    process = emulator_process.EmulatorProcess(tmp_path, tmp_path / "work", python=sys.executable)
    with pytest.raises(emulator_process.EmulatorError, match="emulator package is missing"):
        process.start()


def test_the_integration_config_is_yaml_with_the_values_as_strings(tmp_path):
    values = {"exo_tenant": "contoso.onmicrosoft.com", "exo_client_secret": "a: b # 'c\"", "exo_api_url": "https://x"}
    path = emulator_process.write_integration_config(tmp_path / "integration" / "integration_config.yml", values)
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == values
    assert json.dumps(values)  # the values are plain strings
