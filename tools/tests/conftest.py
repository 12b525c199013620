"""The development helpers are imported from tools/ (nox's tooling session puts it on PYTHONPATH too)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
