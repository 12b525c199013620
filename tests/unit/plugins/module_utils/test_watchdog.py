# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller watch: a real process tree (controller -> worker -> module), the controller killed with SIGKILL."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from ansible_collections.m365.exchange.plugins.module_utils import _watchdog
from ansible_collections.m365.exchange.plugins.module_utils._watchdog import ControllerWatch, Proc, ancestors

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="the watch reads Linux's /proc")

# The directory that holds ansible_collections/ (ansible-test units puts the collection there, not on PYTHONPATH).
COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(_watchdog.__file__), *[".."] * 5))

# A stand-in for the module: prints its watch's chain, then what the watch says once it fires.
MODULE = textwrap.dedent("""
    import sys, time
    from ansible_collections.m365.exchange.plugins.module_utils._watchdog import ControllerWatch
    watch = ControllerWatch(interval=0.1)
    print("chain", [p.pid for p in watch._chain], flush=True)
    fired = []
    watch.on_gone(fired.append)
    watch.start()
    deadline = time.time() + 30
    while not fired and time.time() < deadline:
        time.sleep(0.05)
    print("gone", fired[0] if fired else None, flush=True)
""")

# ansible-playbook's shape: a main process whose forked worker runs the module through /bin/sh.
CONTROLLER = textwrap.dedent("""
    import os, subprocess, sys, time
    if os.fork() == 0:
        subprocess.call(["/bin/sh", "-c", "exec %s -c \\"$MODULE\\" > $OUT" % sys.executable])
        os._exit(0)
    time.sleep(60)
""")


def test_the_chain_ends_at_the_first_controller():
    procs = {
        10: Proc(10, 9, 1, ["/usr/bin/python3", "module.py"]),
        9: Proc(9, 8, 1, ["/bin/sh", "-c", "python3 module.py"]),
        8: Proc(8, 7, 1, ["/venv/bin/python", "/venv/bin/ansible-playbook", "site.yml"]),  # the worker (a fork)
        7: Proc(7, 6, 1, ["/venv/bin/python", "/venv/bin/ansible-playbook", "site.yml"]),  # the main process
        6: Proc(6, 1, 1, ["bash"]),
    }
    chain = ancestors(10, read=lambda pid, root: procs.get(pid))
    assert [p.pid for p in chain] == [9, 8]


def test_without_a_controller_the_chain_stops_at_the_depth_limit_or_init():
    procs = dict((pid, Proc(pid, pid - 1, 1, ["sh"])) for pid in range(2, 20))
    assert len(ancestors(19, read=lambda pid, root: procs.get(pid))) == _watchdog.MAX_DEPTH


def test_a_zombie_or_a_reused_pid_breaks_the_chain():
    procs = {5: Proc(5, 4, 100, ["sh"]), 4: Proc(4, 1, 50, ["/x/ansible-playbook"])}
    watch = ControllerWatch(read=lambda pid, root: procs.get(pid), pid=5, root="/")
    assert watch.check() is None
    procs[4] = Proc(4, 1, 50, ["/x/ansible-playbook"], alive=False)
    assert "is gone" in watch.check()
    procs[4] = Proc(4, 1, 77, ["other"])
    assert "is gone" in watch.check()


def test_sigkill_of_the_controller_fires_the_watch_in_the_module(tmp_path):
    out = tmp_path / "module.out"
    env = dict(os.environ, MODULE=MODULE, OUT=str(out), PYTHONPATH=COLLECTIONS)
    # run the "controller" under a name the watch knows
    script = tmp_path / "ansible-playbook"
    script.write_text(CONTROLLER)
    controller = subprocess.Popen([sys.executable, str(script)], env=env, start_new_session=True)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and "chain" not in (out.read_text() if out.exists() else ""):
            time.sleep(0.05)
        assert "chain" in out.read_text()
        os.kill(controller.pid, signal.SIGKILL)
        controller.wait()
        deadline = time.time() + 20
        while time.time() < deadline and "gone" not in out.read_text():
            time.sleep(0.05)
        text = out.read_text()
        assert "gone the process that started this module" in text, text
        assert "(ansible-playbook" in text or "orphaned" in text
    finally:
        try:
            os.killpg(controller.pid, signal.SIGKILL)
        except OSError:
            pass
