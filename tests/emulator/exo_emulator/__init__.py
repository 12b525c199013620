"""exo_emulator: a local HTTPS emulator of Entra ID and the Exchange Online admin API (InvokeCommand)."""

from .generate import generate
from .server import EmulatorServer
from .tenant import Tenant

__all__ = ["EmulatorServer", "Tenant", "generate"]
