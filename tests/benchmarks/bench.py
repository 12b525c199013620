# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of m365.exchange against the emulator's cost model (docs/performance.md). Not part of CI.

    python3 noxfile.py -s bench                         the issue's targets (about 8 minutes)
    python3 noxfile.py -s bench -- --scenario scale     throughput from 1k to 100k mailboxes (about 20 minutes)
    python3 noxfile.py -s bench -- --scenario smoke     a quick check that the harness works
    python3 noxfile.py -s bench -- --list

For each scenario the emulator gets the scenario's L/H/C; the playbook runs the real modules through
ansible-playbook; the table gives N, L, H, C, module processes, tokens, cmdlets issued, elapsed, floor
(K*L/C), elapsed/floor, the sequential loop's estimate, speedup, 429s, peak RSS of a module process and
the emulator's CPU use. Results go to build/bench/ (results.json, results.md, logs).
"""

import argparse
import glob
import json
import os
import shlex
import shutil
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(REPO, "tools"), os.path.join(REPO, "build", "collections")]

import report  # noqa: E402 pylint: disable=wrong-import-position
import scenarios as registry  # noqa: E402 pylint: disable=wrong-import-position
from devtools.emulator import EmulatorProcess  # noqa: E402 pylint: disable=wrong-import-position

SEED = 11
SEQUENTIAL_SAMPLE = 300  # mailboxes of the measured sequential loop (it is linear: N * time per mailbox)


class Emulator:
    """One emulator child process for a tenant size, and its admin API."""

    def __init__(self, workdir, mailboxes, log):
        self.mailboxes = mailboxes
        self.process = EmulatorProcess(REPO, os.path.join(workdir, "emulator-%d" % mailboxes), generate=mailboxes,
                                       seed=SEED, python=sys.executable, ready_timeout=600.0,
                                       log_path=os.path.join(workdir, "emulator-%d.log" % mailboxes))
        self.log = log
        self._context = None
        self.identities = None

    def start(self):
        started = time.monotonic()
        self.process.start()
        self._context = ssl.create_default_context(cafile=self.process.connection["ca_path"])
        self.log("emulator: %d generated mailboxes, ready in %.1f s (%s)" % (
            self.mailboxes, time.monotonic() - started, self.process.connection["api_url"]))

    def stop(self):
        self.process.stop()

    @property
    def connection(self):
        return self.process.connection

    @property
    def pid(self):
        return self.process._process.pid  # pylint: disable=protected-access

    def admin(self, route, body=None):
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(self.connection["admin_url"] + "/" + route, data=data,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=self._context, timeout=600) as response:
            return json.load(response)

    def set_cost(self, cost, extra=None):
        settings = cost.faults()
        settings.update(extra or {})
        self.admin("faults", settings)

    def reset(self):
        self.admin("reset", {"counters": True, "faults": False})

    def counters(self):
        return self.admin("counters")

    def reset_counters(self):
        self.admin("counters/reset", {})

    def record_slots(self, enabled=True):
        self.admin("slots", {"enabled": enabled})

    def slots(self):
        return self.admin("slots")

    def cpu_seconds(self):
        return process_cpu_seconds(self.pid)

    def rss_mb(self):
        return process_rss_kb(self.pid) / 1024.0


def process_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


def steal_seconds():
    """CPU time the hypervisor gave this virtual machine's CPUs to other guests since boot (all CPUs; 0 on bare
    metal, None where /proc/stat has no steal column)."""
    try:
        with open("/proc/stat") as handle:
            fields = handle.readline().split()
        return int(fields[8]) / float(os.sysconf("SC_CLK_TCK"))
    except (OSError, IndexError, ValueError):
        return None


def process_status_kb(pid, field):
    try:
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(root):
    """The live processes under root (root included), from /proc: {pid: command line}."""
    children = {}
    commands = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as handle:
                data = handle.read()
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                commands[int(entry)] = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        children.setdefault(int(data[data.rfind(b")") + 2:].split()[1]), []).append(int(entry))
    found, pending = {}, [root]
    while pending:
        pid = pending.pop()
        if pid not in found and pid in commands:
            found[pid] = commands[pid]
            pending.extend(children.get(pid, []))
    return found


class PeakWatch(threading.Thread):
    """The peak RSS (VmHWM) of every process of an ansible-playbook run, sampled every 0.2 s, by kind:
    ansible-playbook itself, its forked workers (where action plugins such as archive_campaign run), the module
    processes (also measured exactly by module_process.py) and the emulator."""

    def __init__(self, root, emulator_pid):
        super(PeakWatch, self).__init__(daemon=True)
        self.root = root
        self.emulator_pid = emulator_pid
        self.peaks = {}
        self.largest = {}  # kind -> (peak MB, seconds from the start when the process was first seen)
        self.started = time.time()
        self.first_seen = {}
        self.done = threading.Event()

    def kind(self, pid, command):
        if pid == self.root:
            return "ansible-playbook"
        if "AnsiballZ_" in command or "module_process.py" in command:
            return "modules"
        if "ansible-playbook" in command:
            return "workers"
        return None

    def sample(self):
        for pid, command in descendants(self.root).items():
            kind = self.kind(pid, command)
            if kind:
                self.first_seen.setdefault(pid, time.time() - self.started)
                peak = process_status_kb(pid, "VmHWM") / 1024.0
                if peak > self.peaks.get(kind, 0):
                    self.peaks[kind] = peak
                    self.largest[kind] = (round(peak), round(self.first_seen[pid], 1))
        self.peaks["emulator"] = max(self.peaks.get("emulator", 0),
                                     process_status_kb(self.emulator_pid, "VmHWM") / 1024.0)

    def run(self):
        while not self.done.wait(0.2):
            self.sample()

    def stop(self):
        self.done.set()
        self.join()
        return self.peaks


def process_rss_kb(pid):
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# --------------------------------------------------------------------------- the collection's client


def client_for(connection):
    """The collection's own client, for the identities and the sequential loop (not for the measured runs)."""
    # pylint: disable=import-outside-toplevel
    from ansible_collections.m365.exchange.plugins.module_utils._client import ExchangeOnlineClient
    from ansible_collections.m365.exchange.plugins.module_utils._connection import ConnectionSettings
    settings = ConnectionSettings.from_params(dict(
        tenant=connection["tenant"], client_id=connection["client_id"], client_secret=connection["client_secret"],
        api_url=connection["api_url"], authority_url=connection["authority_url"], ca_path=connection["ca_path"],
        validate_certs=True))
    return ExchangeOnlineClient(settings, pool_size=4)


def benchmark_identities(emulator):
    """Primary SMTP addresses of the tenant's mailboxes (Get-Mailbox), without the excluded hard cases."""
    if emulator.identities is None:
        client = client_for(emulator.connection)
        try:
            rows = client.invoke("Get-Mailbox", {"ResultSize": "Unlimited"}, ("PrimarySmtpAddress",)).value
        finally:
            client.close()
        excluded = set(registry.EXCLUDED_LOCAL_PARTS)
        emulator.identities = [row["PrimarySmtpAddress"] for row in rows
                               if row["PrimarySmtpAddress"].split("@")[0].lower() not in excluded]
    return emulator.identities


def trustee_of(emulator):
    return "%s@%s" % (registry.TRUSTEE_LOCAL_PART, emulator.connection["tenant"])


def measure_sequential(emulator, identities, trustee):
    """Seconds per mailbox of the PowerShell loop: one Add-MailboxPermission after the other, single calls."""
    client = client_for(emulator.connection)
    sample = identities[:SEQUENTIAL_SAMPLE]
    try:
        client.invoke("Get-Recipient", {"Identity": trustee})  # token and connection, outside the timing
        started = time.monotonic()
        for identity in sample:
            client.invoke("Add-MailboxPermission", {"Identity": identity, "User": trustee,
                                                    "AccessRights": ["FullAccess"], "AutoMapping": False})
        return (time.monotonic() - started) / len(sample)
    finally:
        client.close()


# --------------------------------------------------------------------------- running one scenario


class Runner:
    """Runs scenarios in order, one emulator per tenant size, and collects their measurements."""

    def __init__(self, output, ansible_playbook, verbose=False, faults=None):
        self.output = output
        self.ansible_playbook = ansible_playbook
        self.verbose = verbose
        self.faults = faults or {}  # extra emulator settings for every scenario, e.g. concurrency_retry_after
        self.emulator = None
        self.sequential = {}  # cost key -> seconds per mailbox
        self.interpreter = write_interpreter(output)
        self.peaks = {}

    def log(self, message):
        print(message, flush=True)

    def run(self, chosen):
        results = []
        try:
            for scenario in chosen:
                self.log("")
                self.log("== %s: %s (N=%d, %r)" % (scenario.name, scenario.title, scenario.mailboxes, scenario.cost))
                results.append(self.run_one(scenario))
                report.print_row(results[-1], self.log)
        finally:
            if self.emulator is not None:
                self.emulator.stop()
        return results

    def emulator_for(self, scenario):
        if self.emulator is None or self.emulator.mailboxes != scenario.tenant_size:
            if self.emulator is not None:
                self.emulator.stop()
            self.emulator = Emulator(self.output, scenario.tenant_size, self.log)
            self.emulator.start()
        return self.emulator

    def run_one(self, scenario):
        emulator = self.emulator_for(scenario)
        emulator.set_cost(registry.Cost(0, 0, 0))
        if scenario.fresh:
            emulator.reset()
            campaign = scenario.playbook_vars.get("bench_campaign")
            if campaign:  # a fresh tenant starts a new campaign: the role's files of an earlier run go
                for path in glob.glob(os.path.join(self.output, campaign + ".ledger.jsonl*")):
                    os.remove(path)
                shutil.rmtree(os.path.join(self.output, campaign + "-reports"), ignore_errors=True)
        identities = benchmark_identities(emulator)[:scenario.mailboxes]
        if len(identities) < scenario.mailboxes:
            raise RuntimeError("the tenant has only %d usable mailboxes" % len(identities))
        trustee = trustee_of(emulator)
        emulator.set_cost(scenario.cost, self.faults)
        per_mailbox = self.sequential_time(scenario, emulator, identities, trustee)
        measured = self.play(scenario, emulator, identities, trustee)
        measured["sequential_per_mailbox"] = per_mailbox
        return report.Result(scenario, measured)

    def sequential_time(self, scenario, emulator, identities, trustee):
        """Measured once per cost model, before the scenario's own run (the tenant is reset afterwards)."""
        key = scenario.cost.key()
        if scenario.sequential and key not in self.sequential:
            seconds = measure_sequential(emulator, identities, trustee)
            self.sequential[key] = seconds
            self.log("sequential loop: %.1f ms per mailbox (%d single Add-MailboxPermission calls)" % (
                seconds * 1000, min(len(identities), SEQUENTIAL_SAMPLE)))
            emulator.reset()
            emulator.set_cost(scenario.cost, self.faults)
        return self.sequential.get(key)

    def play(self, scenario, emulator, identities, trustee):
        """One ansible-playbook run with everything it costs measured around it."""
        paths = self.scenario_paths(scenario)
        with open(paths["identities"], "w") as handle:
            json.dump(identities, handle)
        with open(paths["vars"], "w") as handle:
            json.dump(scenario.extra_vars(paths["identities"], len(identities), trustee, self.output), handle)
        emulator.reset_counters()
        # where slot time over the floor goes, for the scenarios that have one (the record costs memory at L=0)
        recording = bool(scenario.cost.floor(1))
        emulator.record_slots(recording)
        cpu_before, load, steal_before = emulator.cpu_seconds(), os.getloadavg()[0], steal_seconds()
        started, started_at = time.monotonic(), time.time()
        code = self.ansible(scenario, emulator, paths)
        elapsed = time.monotonic() - started
        steal_after = steal_seconds()
        load_after = os.getloadavg()[0]
        slots = emulator.slots() if recording else None
        emulator.record_slots(False)
        return {
            "rc": code, "elapsed": elapsed, "started_at": started_at, "load_before": load, "load_after": load_after,
            "emulator_cpu": emulator.cpu_seconds() - cpu_before, "emulator_rss_mb": emulator.rss_mb(),
            "counters": emulator.counters(), "slots": slots, "cpus": os.cpu_count(),
            "steal": None if steal_before is None or steal_after is None else steal_after - steal_before,
            "processes": read_lines(paths["processes"]), "record": read_json(paths["record"]),
            "largest": self.largest,
            "peaks": dict(self.peaks, modules=max([p["peak_rss_kb"] / 1024.0 for p in read_lines(paths["processes"])]
                                                  + [self.peaks.get("modules", 0)])),
            "log": os.path.relpath(paths["log"], REPO),
        }

    def scenario_paths(self, scenario):
        base = os.path.join(self.output, scenario.name)
        paths = dict((name, "%s.%s" % (base, suffix)) for name, suffix in (
            ("vars", "vars.json"), ("identities", "identities.json"), ("processes", "processes.jsonl"),
            ("record", "record.json"), ("log", "ansible-playbook.log")))
        for name in ("processes", "record"):
            if os.path.exists(paths[name]):
                os.remove(paths[name])
        return paths

    def ansible(self, scenario, emulator, paths):
        env = dict(os.environ)
        env.update(emulator.process.module_env())
        env.update({
            "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "bench_recorder",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, "build", "collections"),
            "BENCH_RECORD": paths["record"],
            "BENCH_PROCESS_LOG": paths["processes"],
        })
        cmd = [self.ansible_playbook, os.path.join(HERE, scenario.playbook), "-e", "@" + paths["vars"],
               "-e", "ansible_python_interpreter=%s" % self.interpreter]
        if self.verbose:
            self.log("$ " + " ".join(shlex.quote(part) for part in cmd))
        with open(paths["log"], "w") as log:
            process = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT)
            watch = PeakWatch(process.pid, emulator.pid)
            watch.start()
            code = process.wait()
            self.peaks = watch.stop()
            self.largest = dict(watch.largest)
            return code


def write_interpreter(output):
    """A shell script Ansible runs modules with: this Python under module_process.py (peak RSS per process)."""
    path = os.path.join(output, "module-python")
    with open(path, "w") as handle:
        handle.write("#!/bin/sh\nexec %s %s \"$@\"\n" % (shlex.quote(sys.executable),
                                                         shlex.quote(os.path.join(HERE, "module_process.py"))))
    os.chmod(path, 0o755)
    return path


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_json(path):
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return json.load(handle)


# --------------------------------------------------------------------------- command line


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", action="append", default=[],
                        help="a scenario or a group (%s); repeatable; default: default" % ", ".join(registry.GROUPS))
    parser.add_argument("--output", default=os.path.join(REPO, "build", "bench"),
                        help="directory for results and logs (default: build/bench)")
    parser.add_argument("--ansible-playbook", default=os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                        help="the ansible-playbook to run (default: the one next to this Python)")
    parser.add_argument("--faults", type=json.loads, default={}, metavar="JSON",
                        help="extra emulator settings for every scenario, e.g. '{\"concurrency_retry_after\": \"30\"}'")
    parser.add_argument("--list", action="store_true", help="list the scenarios and groups and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the ansible-playbook commands")
    return parser.parse_args(argv)


def list_scenarios(log=print):
    for scenario in registry.SCENARIOS:
        log("%-16s N=%-7d %-16r %s" % (scenario.name, scenario.mailboxes, scenario.cost, scenario.title))
    for name, members in sorted(registry.GROUPS.items()):
        log("group %-10s %s" % (name, " ".join(members)))


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        list_scenarios()
        return 0
    try:
        chosen = registry.select(args.scenario or ["default"])
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    args.output = os.path.abspath(args.output)  # Ansible runs the module interpreter from another directory
    os.makedirs(args.output, exist_ok=True)
    print("m365.exchange benchmark: %d scenarios, results in %s; %d CPUs, load average %.2f" % (
        len(chosen), os.path.relpath(args.output, REPO), os.cpu_count(), os.getloadavg()[0]), flush=True)
    if args.faults:
        print("extra emulator settings: %s" % json.dumps(args.faults), flush=True)
    results = Runner(args.output, args.ansible_playbook, args.verbose, args.faults).run(chosen)
    report.write(results, args.output)
    report.print_table(results)
    report.print_targets(results)
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
