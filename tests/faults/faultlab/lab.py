# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault lab: an in-process emulator, ansible-playbook runs against it, and the tenant's truth.

The lab never trusts what a module says about the tenant: it snapshots the emulator's ACLs before
and after a run and compares the module's result, its journal and the tenant with each other.
"""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
EMULATOR_SOURCE = os.path.join(REPO, "tests", "emulator")
COLLECTIONS_ROOT = os.path.join(REPO, "build", "collections")
COLLECTION_LINK = os.path.join(COLLECTIONS_ROOT, "ansible_collections", "m365", "exchange")
PLAYBOOKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "playbooks")

if EMULATOR_SOURCE not in sys.path:
    sys.path.insert(0, EMULATOR_SOURCE)

from exo_emulator.cmdlets import Invocation, add_mailbox_permission  # noqa: E402 pylint: disable=wrong-import-position
from exo_emulator.server import EmulatorServer  # noqa: E402 pylint: disable=wrong-import-position

DELEGATE_ALIAS = "archive.admin"
FULL_ACCESS = "FullAccess"
MAILBOX_TYPES = ("UserMailbox", "SharedMailbox", "RoomMailbox", "EquipmentMailbox", "GroupMailbox")
# Hard cases every scope contains: pre-existing delegations, inherited and deny entries, orphaned SIDs,
# another trustee's access, a group mailbox, names with quotes and non-ASCII characters.
HARD_CASES = ("ceo", "legal.hold", "inherited", "restricted", "orphans", "support", "info", "project.phoenix",
              "pat.o'neil", "obrien.sons", "zoe.muller", "room.atlantic", "projector.1")
# Never in a scope: the delegate's own mailbox, and the mailbox at the ACL limit (a grant there always fails).
EXCLUDED = (DELEGATE_ALIAS, "full.acl")
# Variables the modules would read from the environment of the controller: never inherited by a run.
CONNECTION_VARIABLES = ("EXO_TENANT", "EXO_CLIENT_ID", "EXO_CLIENT_SECRET", "EXO_CERTIFICATE_PATH",
                        "EXO_CERTIFICATE_PASSWORD", "EXO_ENVIRONMENT", "EXO_AUTHORITY_URL", "EXO_API_URL", "EXO_CA_PATH",
                        "EXO_VALIDATE_CERTS", "AZURE_TENANT", "AZURE_CLIENT_ID", "AZURE_SECRET")


def ensure_collection_link():
    """build/collections/ansible_collections/m365/exchange -> the repository (what noxfile.py makes)."""
    target = os.path.relpath(REPO, os.path.dirname(COLLECTION_LINK))
    if os.path.islink(COLLECTION_LINK) and os.readlink(COLLECTION_LINK) == target:
        return
    if os.path.lexists(COLLECTION_LINK):
        raise RuntimeError("%s exists and is not the link to the repository; run `python3 noxfile.py -s dev` once"
                           % COLLECTION_LINK)
    os.makedirs(os.path.dirname(COLLECTION_LINK), exist_ok=True)
    os.symlink(target, COLLECTION_LINK, target_is_directory=True)


def tool(name):
    """A console script of the Python running the lab (the venv), else of the repository's .venv."""
    for directory in (os.path.dirname(sys.executable), os.path.join(REPO, ".venv", "bin")):
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("%s not found next to %s or in .venv/bin; run `python3 noxfile.py -s dev` "
                       "once to create the venv" % (name, sys.executable))


class Playbook:
    """One finished ansible-playbook run."""

    def __init__(self, rc, stdout, stderr, result, duration, killed=False, timed_out=False):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.result = result
        self.duration = duration
        self.killed = killed
        self.timed_out = timed_out
        self.result_dir = None

    @property
    def output(self):
        return self.stdout + "\n" + self.stderr

    def describe(self):
        if self.timed_out:
            return "timed out after %.0f s" % self.duration
        if self.killed:
            return "killed after %.1f s" % self.duration
        message = (self.result or {}).get("msg") or ""
        if not isinstance(message, str):  # a role's last task may be a debug whose msg is a list
            message = " ".join(str(part) for part in message) if isinstance(message, list) else str(message)
        return "rc=%s after %.1f s%s" % (self.rc, self.duration, (": " + message[:300]) if message else "")


class CmdletHook:
    """Calls back after the emulator executed the n-th cmdlet of a name (deterministic mid-run events)."""

    def __init__(self, server):
        exchange = server.app.exchange
        self._original = exchange._complete  # pylint: disable=protected-access
        exchange._complete = self._complete  # pylint: disable=protected-access
        self._lock = threading.Lock()
        self.counts = {}
        self._triggers = []

    def clear(self):
        with self._lock:
            self.counts = {}
            self._triggers = []

    def after(self, cmdlet, nth, action):
        """Run action() once, right after the n-th execution of cmdlet (1-based) since clear()."""
        with self._lock:
            self._triggers.append([cmdlet, max(1, int(nth)), action, False])

    def _complete(self, call):
        self._original(call)
        name = call.spec.name if call.spec is not None else None
        due = []
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + 1
            for trigger in self._triggers:
                if not trigger[3] and trigger[0] == name and self.counts[name] >= trigger[1]:
                    trigger[3] = True
                    due.append(trigger[2])
        for action in due:
            action()


class TrafficProbe:
    """Counts the emulator's requests in progress, so a test can wait until a killed run's last one is done."""

    def __init__(self, server):
        app = server.app
        self._original = app.dispatch
        app.dispatch = self._dispatch
        self._lock = threading.Lock()
        self.in_flight = 0
        self.last_activity = time.monotonic()

    def _dispatch(self, req):
        with self._lock:
            self.in_flight += 1
            self.last_activity = time.monotonic()
        try:
            return self._original(req)
        finally:
            with self._lock:
                self.in_flight -= 1
                self.last_activity = time.monotonic()

    def wait_until_quiet(self, quiet=0.3, timeout=30.0):
        """Wait until no request is in progress and none arrived for `quiet` seconds; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                idle = self.in_flight == 0 and time.monotonic() - self.last_activity >= quiet
            if idle:
                return True
            time.sleep(0.05)
        return False


class TokenRecorder:
    """Keeps every access token the emulator's Entra ID issues, so tests can grep output for them."""

    def __init__(self, server):
        entra = server.app.entra
        self._original = entra._issue  # pylint: disable=protected-access
        entra._issue = self._issue  # pylint: disable=protected-access
        self.tokens = []

    def _issue(self, tenant, app, acr):
        result = self._original(tenant, app, acr)
        self.tokens.append(result["access_token"])
        return result


class MailboxState:
    """A mailbox's explicit ACL (as emulator tuples) and its recorded AutoMapping flags."""

    __slots__ = ("address", "guid", "aces", "automapping")

    def __init__(self, address, guid, aces, automapping):
        self.address = address
        self.guid = guid
        self.aces = aces
        self.automapping = automapping

    def delegate_rights(self, sid):
        """The rights of the explicit allow entries of sid."""
        rights = set()
        for ace in self.aces:
            if ace[0] == sid and not ace[2] and not ace[4]:
                rights.update(ace[1])
        return rights

    def explicit_allow_count(self, sid):
        return sum(1 for ace in self.aces if ace[0] == sid and not ace[2] and not ace[4])

    def others(self, sid):
        """Every entry that is not an explicit allow entry of sid, in a stable order."""
        return sorted((ace for ace in self.aces if not (ace[0] == sid and not ace[2] and not ace[4])), key=repr)


class FaultLab:
    """An emulator in this process plus the means to run playbooks against it and judge the outcome."""

    def __init__(self, workdir, mailboxes=1200, seed=5, verbose=False):
        ensure_collection_link()
        self.workdir = os.path.abspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.mailboxes = mailboxes
        self.seed = seed
        self.verbose = verbose
        self.server = EmulatorServer(os.path.join(self.workdir, "emulator"), mailboxes=mailboxes, seed=seed)
        self.server.start()
        self.hook = CmdletHook(self.server)
        self.traffic = TrafficProbe(self.server)
        self.tokens = TokenRecorder(self.server)
        self.connection = self.server.connection
        self.domain = self.connection["tenant"]
        self.delegate = "%s@%s" % (DELEGATE_ALIAS, self.domain)
        self._runs = 0

    def close(self):
        self.server.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # ---- tenant -----------------------------------------------------------------------------

    def reset(self, **faults):
        """The initial tenant, zero counters, default faults (then these), no hooks."""
        self.server.reset(counters=True, faults=True)
        self.hook.clear()
        if faults:
            self.server.set_faults(faults)

    @property
    def tenant(self):
        return self.server.tenant()

    @property
    def delegate_sid(self):
        tenant = self.tenant
        with tenant.lock:
            return [r for r in tenant.recipients if r.alias == DELEGATE_ALIAS][0].sid

    def scope(self, size, seed=0):
        """size mailbox addresses: every hard case, then ordinary mailboxes in a seeded random order."""
        tenant = self.tenant
        with tenant.lock:
            mailboxes = [r for r in tenant.recipients if r.rtd in MAILBOX_TYPES and r.is_active and r.primary_smtp
                         and r.alias not in EXCLUDED]
        hard = [r.primary_smtp for r in mailboxes if r.alias in HARD_CASES]
        ordinary = sorted(r.primary_smtp for r in mailboxes if r.alias not in HARD_CASES)
        random.Random(seed).shuffle(ordinary)
        return (hard + ordinary)[:max(size, len(hard))]

    def pre_grant(self, addresses, rights, automapping=True):
        """Give the delegate rights on these mailboxes before a run, the way Add-MailboxPermission would."""
        tenant = self.tenant
        shapes = self.server.app.faults.get("row_shapes")
        with tenant.lock:
            for address in addresses:
                params = {"Identity": address, "User": self.delegate, "AccessRights": list(rights),
                          "AutoMapping": automapping, "GroupMailbox": True}
                add_mailbox_permission(Invocation(tenant, "Add-MailboxPermission", params, shapes))

    def snapshot(self):
        """{address (lower case): MailboxState} for every mailbox of the tenant."""
        tenant = self.tenant
        states = {}
        with tenant.lock:
            for rec in tenant.recipients:
                if rec.is_mailbox and rec.primary_smtp:
                    aces = tuple((a.sid, tuple(sorted(a.to_json()[1])), a.deny, a.inheritance, a.inherited)
                                 for a in rec.aces())
                    states[rec.primary_smtp.lower()] = MailboxState(rec.primary_smtp.lower(), rec.guid, aces,
                                                                    dict(rec.automapping or {}))
        return states

    def counters(self):
        return self.server.counters()

    # ---- ansible-playbook ------------------------------------------------------------------------

    def environment(self, connection=None, extra=None):
        """The environment of a run: the venv first, the collection, the connection in EXO_* variables."""
        env = dict((key, value) for key, value in os.environ.items() if key not in CONNECTION_VARIABLES)
        env.pop("PYTHONHOME", None)
        env["PATH"] = os.pathsep.join([os.path.dirname(tool("ansible-playbook")), env.get("PATH", "")])
        env["ANSIBLE_COLLECTIONS_PATH"] = COLLECTIONS_ROOT
        env["ANSIBLE_LOCALHOST_WARNING"] = "false"
        env["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "false"
        env["ANSIBLE_NOCOLOR"] = "1"
        env["ANSIBLE_FORCE_COLOR"] = "0"
        env["ANSIBLE_RETRY_FILES_ENABLED"] = "false"
        env["ANSIBLE_LOCAL_TEMP"] = os.path.join(self.workdir, "ansible-tmp")
        env["ANSIBLE_REMOTE_TEMP"] = os.path.join(self.workdir, "ansible-tmp")
        conn = self.connection
        values = {
            "EXO_TENANT": conn["tenant"], "EXO_CLIENT_ID": conn["client_id"], "EXO_CLIENT_SECRET": conn["client_secret"],
            "EXO_API_URL": conn["api_url"], "EXO_AUTHORITY_URL": conn["authority_url"], "EXO_CA_PATH": conn["ca_path"],
        }
        values.update(connection or {})
        for key, value in values.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = str(value)
        env.update(extra or {})
        return env

    def start(self, playbook, variables=None, connection=None, env=None, args=()):
        """Start ansible-playbook in its own process group; returns (process, result_dir, started)."""
        self._runs += 1
        run_dir = os.path.join(self.workdir, "runs", "%04d" % self._runs)
        os.makedirs(run_dir)
        vars_file = os.path.join(run_dir, "vars.json")
        with open(vars_file, "w", encoding="utf-8") as handle:
            json.dump(variables or {}, handle)
        result_dir = os.path.join(run_dir, "result")
        extra = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.tree", "ANSIBLE_CALLBACK_TREE_DIR": result_dir}
        extra.update(env or {})
        cmd = [tool("ansible-playbook"), os.path.join(PLAYBOOKS, playbook), "-e", "@" + vars_file] + list(args)
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            cmd, cwd=run_dir, env=self.environment(connection, extra), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        process.run_marker = vars_file  # on the command line of the run's every ansible-playbook process
        return process, result_dir, time.monotonic()

    def run(self, playbook, variables=None, connection=None, env=None, args=(), timeout=300.0, kill_after=None):
        """Run a playbook to its end (or kill its process group after kill_after seconds)."""
        process, result_dir, started = self.start(playbook, variables, connection, env, args)
        killed = timed_out = False
        try:
            stdout, stderr = process.communicate(timeout=kill_after if kill_after is not None else timeout)
        except subprocess.TimeoutExpired:
            killed = kill_after is not None
            timed_out = not killed
            kill_group(process)
            stdout, stderr = process.communicate()
        run = Playbook(process.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"),
                       read_result(result_dir), time.monotonic() - started, killed=killed or process.returncode == -9,
                       timed_out=timed_out)
        run.result_dir = result_dir
        if self.verbose:
            sys.stderr.write("    %s %s\n" % (playbook, run.describe()))
        return run


def _children():
    """{parent pid: [child pids]} of every process, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2:].split()
        if fields and fields[0] != b"Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def process_tree(root):
    """The live processes descending from root, root included."""
    children = _children()
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        if pid not in found:
            found.append(pid)
            pending.extend(children.get(pid, []))
    return found


def _signal(pid, signum):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def signal_group(process):
    """SIGKILL a run like a crash would: ansible-playbook and every process it started, at once.

    Killing the process group is not enough: ansible-core's workers call setsid(), so the module runs in
    a session of its own and would live on, still writing. The tree is frozen (SIGSTOP) until no new
    process appears, then killed. Safe to call from any thread; does not wait.
    """
    frozen = []
    for _round in range(50):
        fresh = [pid for pid in process_tree(process.pid) if pid not in frozen]
        if not fresh:
            break
        for pid in fresh:
            _signal(pid, signal.SIGSTOP)
        frozen.extend(fresh)
    for pid in frozen:
        _signal(pid, signal.SIGKILL)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    # A worker forked while the tree was being frozen escapes it (it calls setsid() and its parent is gone): it
    # would block for ever on the result pipe nobody reads. The run's vars file on its command line finds it.
    for pid in _running_with(getattr(process, "run_marker", None)):
        _signal(pid, signal.SIGKILL)
        frozen.append(pid)
    process.killed_tree = frozen
    return frozen


def _running_with(marker):
    """Pids of the live processes whose command line holds marker (none without a marker)."""
    if not marker:
        return []
    needle = marker.encode("utf-8")
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                if needle in handle.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    return data[data.rfind(b")") + 2:data.rfind(b")") + 3] != b"Z"


def kill_group(process):
    """Kill a run's whole process tree (see signal_group) and wait until every process of it is gone."""
    killed = set(signal_group(process)) if process.poll() is None else set()
    killed.update(getattr(process, "killed_tree", ()))
    for pid in _running_with(getattr(process, "run_marker", None)):  # what outlived an earlier signal_group
        _signal(pid, signal.SIGKILL)
        killed.add(pid)
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        if process.poll() is None:
            try:
                process.wait(0.05)
            except subprocess.TimeoutExpired:
                pass
            continue
        if not [pid for pid in killed if _alive(pid)]:
            return True
        time.sleep(0.05)  # orphans of the killed tree are reaped by init
    return False


def read_result(result_dir):
    """The module's result as the tree callback stored it (the last task of the play)."""
    path = os.path.join(result_dir, "localhost")
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None
