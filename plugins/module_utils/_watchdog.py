# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Watch the process that started the module, and stop the writes when it is gone.

A module runs as a child of an ansible-playbook worker (local connection:
ansible-playbook -> worker -> /bin/sh -> python module). When ansible-playbook
is killed, even with SIGKILL, its worker and the module live on, and a module
over 50,000 mailboxes would go on writing for many minutes that nobody can stop.

At start the watch records the chain of ancestors up to the first one that is
an Ansible controller process (ansible-playbook, ansible, ansible-runner; at most
MAX_DEPTH levels, never init), each with its start time and parent. The chain
is broken when one of them has gone (or its PID now belongs to another process)
or has a new parent (it was orphaned: something above it died). A thread checks
every INTERVAL seconds and calls the handlers once when the chain breaks.

Only Linux's /proc is read; elsewhere the watch does nothing.
"""

import os
import threading

INTERVAL = 1.0
MAX_DEPTH = 6
CONTROLLERS = ("ansible-playbook", "ansible-runner", "ansible", "ansible-pull", "ansible-console", "ansible-test")


class Proc:
    """What /proc says about one process: its parent, its start time and its command line."""

    __slots__ = ("pid", "ppid", "started", "argv", "alive")

    def __init__(self, pid, ppid, started, argv, alive=True):
        self.pid = pid
        self.ppid = ppid
        self.started = started
        self.argv = argv
        self.alive = alive  # False for a zombie: it has exited and waits to be reaped


def read_proc(pid, root="/proc"):
    """The process `pid`, or None when it does not exist (or /proc cannot tell)."""
    try:
        with open(os.path.join(root, str(pid), "stat"), "rb") as handle:
            stat = handle.read().decode("utf-8", "replace")
        with open(os.path.join(root, str(pid), "cmdline"), "rb") as handle:
            argv = [part.decode("utf-8", "replace") for part in handle.read().split(b"\0") if part]
    except (IOError, OSError):
        return None
    # the command name (field 2) is in parentheses and may itself contain spaces and parentheses
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        return Proc(pid, int(fields[1]), int(fields[19]), argv, alive=fields[0] not in ("Z", "X", "x"))
    except (IndexError, ValueError):
        return None


def is_controller(proc):
    """Whether a process is an Ansible controller command (its program or its script is one)."""
    for arg in proc.argv[:3]:
        name = os.path.basename(arg)
        if name in CONTROLLERS:
            return True
    return False


def ancestors(pid=None, root="/proc", read=read_proc):
    """The chain of processes above `pid` to the first controller (included), at most MAX_DEPTH, never init."""
    current = read(pid or os.getpid(), root)
    chain = []
    while current is not None and current.ppid > 1 and len(chain) < MAX_DEPTH:
        parent = read(current.ppid, root)
        if parent is None:
            break
        chain.append(parent)
        if is_controller(parent):
            break
        current = parent
    return chain


class ControllerWatch:
    """Calls its handlers once, from a daemon thread, when the process chain that started the module breaks."""

    def __init__(self, interval=INTERVAL, root="/proc", read=read_proc, pid=None):
        self.interval = interval
        self.root = root
        self._read = read
        self._chain = ancestors(pid, root, read) if os.path.isdir(root) else []
        self._handlers = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.gone = None  # why the watch fired, once it has
        self._thread = None

    @property
    def controller(self):
        """The process the chain ends at (the controller when one was found), or None."""
        return self._chain[-1] if self._chain else None

    def on_gone(self, handler):
        """Call handler(reason) when the controller is gone (at once if it already is)."""
        with self._lock:
            self._handlers.append(handler)
            reason = self.gone
        if reason is not None:
            handler(reason)

    def start(self):
        if self._chain and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="controller-watch")
            self._thread.daemon = True
            self._thread.start()
        return self

    def stop(self):
        self._stopped.set()

    def check(self):
        """Why the chain is broken, or None while it holds."""
        for proc in self._chain:
            now = self._read(proc.pid, self.root)
            if now is None or now.started != proc.started or not now.alive:
                return "the process that started this module (%s, PID %d) is gone" % (_describe(proc), proc.pid)
            if now.ppid != proc.ppid:
                return "the process that started this module (%s, PID %d) was orphaned: its parent PID %d is gone" % (
                    _describe(proc), proc.pid, proc.ppid)
        return None

    def _loop(self):
        while not self._stopped.wait(self.interval):
            reason = self.check()
            if reason is not None:
                self._fire(reason)
                return

    def _fire(self, reason):
        with self._lock:
            if self.gone is not None:
                return
            self.gone = reason
            handlers = list(self._handlers)
        for handler in handlers:
            handler(reason)


def _describe(proc):
    return " ".join(os.path.basename(arg) if index == 0 else arg for index, arg in enumerate(proc.argv[:2])) or "?"
