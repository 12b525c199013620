# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark's scenarios: what runs, on which tenant, under which cost model.

Adding a scenario is adding one Scenario to SCENARIOS (and, if it should run by
default, its name to a group). A scenario names a playbook under
tests/benchmarks/playbooks/ (or anywhere in the repository) and the variables
it gets; the runner passes every scenario the same facts (a file with the
identities and their count, trustee, chunk size, state) through -e @vars.json,
so a playbook that grants through a role instead of the module is one more
entry, for example::

    Scenario("role-grant-10k", "grant FullAccess through the archive_access role",
             mailboxes=10000, cost=FAST, playbook="playbooks/role_grant.yml", fresh=True,
             setup_processes=3, expect={"failed": 0})

The runner measures every scenario the same way (module processes, tokens,
cmdlets, 429s, peak RSS, elapsed against the floor K*L/C). "role-grant-100k"
below is such an entry: the archive_access role selects its own scope.
"""


class Cost:
    """The emulator's cost model: L ms per cmdlet, H ms per HTTP request, C concurrent cmdlets per tenant."""

    __slots__ = ("latency_ms", "http_latency_ms", "concurrency_limit")

    def __init__(self, latency_ms, http_latency_ms, concurrency_limit):
        self.latency_ms = latency_ms
        self.http_latency_ms = http_latency_ms
        self.concurrency_limit = concurrency_limit

    def faults(self):
        """The emulator fault settings of this cost model."""
        return {"latency_ms": self.latency_ms, "http_latency_ms": self.http_latency_ms,
                "concurrency_limit": self.concurrency_limit}

    def floor(self, cmdlets):
        """K*L/C seconds: no client can do better on this tenant (0 when L or C is 0)."""
        if not self.latency_ms or not self.concurrency_limit:
            return 0.0
        return cmdlets * self.latency_ms / 1000.0 / self.concurrency_limit

    def key(self):
        return (self.latency_ms, self.http_latency_ms, self.concurrency_limit)

    def __repr__(self):
        return "L=%g H=%g C=%d" % self.key()


# The cost model (near the throttle floor) and the CPU-bound one (L=0) for tenant scale.
THROTTLED = Cost(50, 20, 10)
FAST = Cost(0, 20, 10)
SMOKE = Cost(5, 2, 4)

TRUSTEE_LOCAL_PART = "archive.admin"
# Hard-case mailboxes left out of the benchmark's identities: the trustee already holds rights on the first
# three (a grant would not start from "nothing granted"), the last one has 500 ACEs (a grant fails there).
EXCLUDED_LOCAL_PARTS = ("ceo", "legal.hold", "inherited", "full.acl")


class Scenario:  # pylint: disable=too-many-instance-attributes
    """One measured playbook run."""

    def __init__(self, name, title, mailboxes, cost, playbook, state="present", chunk_size=5000, fresh=False,
                 sequential=False, expect=None, concurrency=None, setup_processes=0, list_unchanged=False,
                 role=False, playbook_vars=None):
        self.name = name
        self.title = title
        self.mailboxes = mailboxes  # N: identities given to the playbook (and the tenant is a little larger)
        self.cost = cost
        self.playbook = playbook  # relative to tests/benchmarks/
        self.state = state
        self.chunk_size = chunk_size  # identities per module process; None: one process whatever N (mailbox_info)
        self.fresh = fresh  # reset the tenant to its generated state first (nothing granted)
        self.sequential = sequential  # measure the sequential PowerShell-style loop for the speedup
        self.expect = expect or {}  # summary counts the run must report, e.g. {"added": "N", "failed": 0}
        self.concurrency = concurrency  # the modules' concurrency option (None: the module's default)
        self.setup_processes = setup_processes  # module processes besides the chunks (a role's preflight)
        # mailbox_permission's list_unchanged: false, as a run over thousands of mailboxes is written (README)
        self.list_unchanged = list_unchanged
        # a play of the archive_access role: cmdlets per mailbox count every cmdlet of the play (preflight included),
        # and N is the number of mailboxes the role's scope selected
        self.role = role
        self.playbook_vars = playbook_vars or {}  # more -e variables, e.g. bench_check_acl_limit

    @property
    def tenant_size(self):
        """Mailboxes to generate so that N usable ones exist (about 2% are group mailboxes, some hard cases)."""
        return tenant_size_for(self.mailboxes)

    def extra_vars(self, identities_file, identity_count, trustee, output):
        """What the playbook gets (-e @vars.json). The identities wait in a JSON file that only a playbook that
        needs them reads (from_json): Ansible parses -e @file as YAML, 0.25 s for 5,000 addresses, seconds for
        100,000, which is the harness's cost and not the collection's."""
        variables = {"bench_identities_file": identities_file, "bench_identity_count": identity_count,
                     "bench_trustee": trustee, "bench_chunk_size": self.chunk_size, "bench_state": self.state,
                     "bench_output": output, "bench_list_unchanged": self.list_unchanged}
        if self.concurrency:
            variables["bench_concurrency"] = self.concurrency
        variables.update(self.playbook_vars)
        return variables


def _role_pair(size, label, cost, chunk_size=5000):
    """The archive_access role's grant over a fresh tenant of about `size` mailboxes, and its rerun."""
    return [
        Scenario("role-grant-%s" % label, "grant through the archive_access role (preflight, ledger, chunks, reports)",
                 size, cost, "playbooks/role_grant.yml", chunk_size=chunk_size, fresh=True, setup_processes=2,
                 role=True, expect={"failed": 0}, playbook_vars={"bench_campaign": "role-%s" % label}),
        Scenario("role-rerun-%s" % label, "the role's grant again: nothing to change", size, cost,
                 "playbooks/role_grant.yml", chunk_size=chunk_size, setup_processes=2, role=True,
                 expect={"failed": 0, "added": 0}, playbook_vars={"bench_campaign": "role-%s" % label}),
    ]


def tenant_size_for(mailboxes):
    return int(mailboxes * 1.03) + 40


def _grant_pair(size, label, cost, sequential=True, chunk_size=5000):
    """A first grant (nothing granted yet) and its idempotent rerun on the same tenant."""
    return [
        Scenario("grant-%s" % label, "grant FullAccess, nothing granted yet", size, cost, "playbooks/grant.yml",
                 chunk_size=chunk_size, fresh=True, sequential=sequential, expect={"added": "N", "failed": 0}),
        Scenario("rerun-%s" % label, "the same grant again: nothing to change", size, cost, "playbooks/grant.yml",
                 chunk_size=chunk_size, sequential=sequential, expect={"unchanged": "N", "failed": 0}),
    ]


SCENARIOS = (
    _grant_pair(5000, "5k", THROTTLED)
    + [Scenario("info-100k", "mailbox_info over the whole tenant", 100000, FAST, "playbooks/info.yml",
                chunk_size=None)]
    + _grant_pair(100000, "100k", FAST, sequential=True)
    + _grant_pair(1000, "1k", THROTTLED)
    + _grant_pair(20000, "20k", THROTTLED)
    + _grant_pair(1000, "1k-fast", FAST)
    + _grant_pair(10000, "10k-fast", FAST)
    + _grant_pair(200, "smoke", SMOKE, chunk_size=100)
    # what was tried and dropped (docs/performance.md): the old cap of 10 cmdlets in flight
    + [Scenario("grant-5k-c10", "grant FullAccess with concurrency=10 (the old default)", 5000, THROTTLED,
                "playbooks/grant.yml", fresh=True, concurrency=10, expect={"added": "N", "failed": 0})]
    # the rerun with the module's default result: one entry per mailbox, 5,000 of them unchanged
    + [Scenario("rerun-5k-listed", "the same grant again, every unchanged mailbox listed (list_unchanged=true)",
                5000, THROTTLED, "playbooks/grant.yml", list_unchanged=True, expect={"unchanged": "N", "failed": 0})]
    # The archive_access role over the whole tenant: N is what its scope selects (every type but group mailboxes,
    # about 98% of the tenant). Its preflight runs 2 mailbox_info processes (the delegate, the scope: one Get-Mailbox
    # query, no read per mailbox); each chunk's mailbox_permission reads every mailbox once.
    + _role_pair(20000, "20k", THROTTLED)
    + _role_pair(100000, "100k", FAST)
    + _role_pair(1000, "1k", THROTTLED)
    + _role_pair(5000, "5k", THROTTLED)
    + _role_pair(10000, "10k-fast", FAST)
    + _role_pair(200, "smoke", SMOKE, chunk_size=100)
    # the opt-in preflight count of every mailbox's permissions (archive_access_check_acl_limit), for its cost
    + [Scenario("role-grant-5k-checked", "the role's grant with the preflight's ACL count "
                "(archive_access_check_acl_limit)", 5000, THROTTLED, "playbooks/role_grant.yml", fresh=True,
                setup_processes=3, role=True, expect={"failed": 0},
                playbook_vars={"bench_check_acl_limit": True, "bench_campaign": "role-5k-checked"})]
)

GROUPS = {
    # the targets
    "default": ["grant-5k", "rerun-5k", "info-100k", "role-grant-20k", "role-rerun-20k", "role-grant-100k"],
    # the archive_access role: the three targets
    "role": ["role-grant-20k", "role-rerun-20k", "role-grant-100k"],
    # the role from 1k to 100k mailboxes (docs/performance.md, the role's scaling table)
    "role-scale": ["role-grant-1k", "role-rerun-1k", "role-grant-5k", "role-rerun-5k", "role-grant-10k-fast",
                   "role-rerun-10k-fast", "role-grant-20k", "role-rerun-20k", "role-grant-100k", "role-rerun-100k"],
    # throughput from 1k to 100k mailboxes (docs/performance.md, scaling table)
    "scale": ["grant-1k", "rerun-1k", "grant-1k-fast", "rerun-1k-fast", "grant-5k", "rerun-5k",
              "grant-10k-fast", "rerun-10k-fast", "grant-20k", "rerun-20k", "grant-100k", "rerun-100k"],
    # design alternatives, for docs/performance.md
    "alternatives": ["grant-5k-c10", "rerun-5k-listed", "role-grant-5k-checked"],
    # a quick check that the harness works (about a minute)
    "smoke": ["grant-smoke", "rerun-smoke", "role-grant-smoke", "role-rerun-smoke"],
}


def by_name():
    return dict((scenario.name, scenario) for scenario in SCENARIOS)


def select(names):
    """Scenarios for names (scenario or group names), in the order given, each once."""
    known = by_name()
    chosen = []
    for name in names:
        for member in GROUPS.get(name, [name]):
            if member not in known:
                raise KeyError("unknown scenario or group %r (known: %s; groups: %s)" % (
                    member, ", ".join(sorted(known)), ", ".join(sorted(GROUPS))))
            if known[member] not in chosen:
                chosen.append(known[member])
    return chosen
