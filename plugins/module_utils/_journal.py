# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An append-only JSON Lines journal of what a task read and wrote.

Lines are written with one write() per batch and fsync'd before the task goes on,
so a journal read after a crash holds every line written before the crash. A
crash inside an append can leave a torn line without its newline; the next append
starts on a new line, and a reader skips the torn one: the writes it announced
were never started.
"""

import datetime
import json
import os

from ansible_collections.m365.exchange.plugins.module_utils._errors import ConfigurationError


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Journal:
    """Appends events to a file that only its owner can read (mode 0600)."""

    def __init__(self, path):
        self.path = path

    def append(self, events):
        if not events:
            return
        data = "".join(json.dumps(event, sort_keys=True, separators=(",", ":")) + "\n" for event in events)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigurationError("cannot open the journal '%s': %s" % (self.path, exc.strerror))
        try:
            if _ends_torn(fd):
                data = "\n" + data
            remaining = memoryview(data.encode("utf-8"))
            while remaining:
                remaining = remaining[os.write(fd, remaining):]
            os.fsync(fd)
        finally:
            os.close(fd)


def _ends_torn(fd):
    """Whether the file's last line lacks its newline (a crash inside an earlier append)."""
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


def read_events(lines, corrupt):
    """(line number, event) of every line of a journal that is not empty, as the lines are read. A torn line (a JSON
    object whose end is missing: a kill inside an append) is skipped. Anything else that is not a JSON object raises
    ``corrupt(number, what)``, the exception the reader's caller expects."""
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        try:
            event = json.loads(text)
        except ValueError:
            if text.startswith("{") and not text.endswith("}"):
                continue
            raise corrupt(number, "not JSON")
        if not isinstance(event, dict):
            raise corrupt(number, "not a JSON object")
        yield number, event
