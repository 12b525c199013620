"""m365.exchange get-pip stand-in: offline replacement for ansible-test's get-pip script.

ansible-test bootstraps pip into each virtual environment it creates with a
script it downloads from a host that is not reachable from every machine,
unless a copy is cached at ``~/.ansible/test/cache/get_pip_<version>.py``.
``devtools.ansible_test.install_get_pip_standin`` copies this file there.

ansible-test runs it as ``python get_pip.py [pip options] pip==X --no-setuptools
--no-wheel`` inside the new virtual environment. This stand-in installs the
bundled pip with ensurepip (or, where ensurepip is missing, pip's newest wheel
from PyPI) and then runs ``python -m pip install`` with the same arguments,
using the machine's own pip configuration (index, mirrors, certificates).
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

PYPI_PIP_JSON = "https://pypi.org/pypi/pip/json"

# get-pip.py options that plain pip does not know.
GET_PIP_ONLY_OPTIONS = ("--no-setuptools", "--no-wheel")


def ensurepip_bootstrap():
    """Install the bundled pip; return False if ensurepip is unavailable."""
    try:
        import ensurepip  # pylint: disable=import-outside-toplevel
        ensurepip.bootstrap(upgrade=True)
    except (ImportError, SystemExit, AttributeError):
        return False
    finally:
        # ensurepip sets PIP_CONFIG_FILE=/dev/null; pip would then ignore the machine's index settings.
        os.environ.pop("PIP_CONFIG_FILE", None)
    return True


def wheel_bootstrap():
    """Install pip from its newest wheel on PyPI (for Pythons without ensurepip)."""
    with urllib.request.urlopen(PYPI_PIP_JSON, timeout=60) as response:  # nosec - fixed https URL
        release = json.load(response)
    wheel = [item for item in release["urls"] if item["packagetype"] == "bdist_wheel"][0]
    url = urllib.parse.urljoin(PYPI_PIP_JSON, wheel["url"])
    with urllib.request.urlopen(url, timeout=120) as response:  # nosec - URL from PyPI's own answer
        data = response.read()
    if hashlib.sha256(data).hexdigest() != wheel["digests"]["sha256"]:
        raise SystemExit("pip wheel from %s failed its sha256 check" % url)
    with tempfile.TemporaryDirectory(prefix="get-pip-") as directory:
        path = os.path.join(directory, wheel["filename"])
        with open(path, "wb") as handle:
            handle.write(data)
        subprocess.check_call([sys.executable, os.path.join(path, "pip"), "install", "--quiet", path])


def main():
    """Bootstrap pip, then install what ansible-test asked for."""
    if not ensurepip_bootstrap():
        wheel_bootstrap()
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))


if __name__ == "__main__":
    main()
