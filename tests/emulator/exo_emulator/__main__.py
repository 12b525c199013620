"""``python -m exo_emulator``."""

import sys

from .cli import main

sys.exit(main())
