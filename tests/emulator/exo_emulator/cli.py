"""Command line: ``generate`` a tenant file, or ``serve`` until SIGTERM/SIGINT."""

import argparse
import json
import os
import signal
import sys
import threading
import time

from .faults import DEFAULTS
from .generate import generate
from .server import EmulatorServer, TenantSource

FAULT_FLAGS = ("latency_ms", "http_latency_ms", "concurrency_limit", "concurrency_retry_after", "throttle_rate",
               "throttle_retry_after", "error_rate", "reset_rate", "reset_after_write_rate", "token_lifetime",
               "page_expiry", "default_page_size", "rate_limit", "rate_limit_window", "seed")


def _parser():
    parser = argparse.ArgumentParser(prog="python -m exo_emulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write a generated tenant file")
    gen.add_argument("--mailboxes", type=int, default=50)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--domain", default="contoso.onmicrosoft.com")
    gen.add_argument("--tenant-id")
    gen.add_argument("--no-system-aces", action="store_true", help="omit the inherited system ACEs of every mailbox")
    gen.add_argument("--output", required=True)
    serve = commands.add_parser("serve", help="run the HTTPS emulator")
    serve.add_argument("--workdir", required=True)
    serve.add_argument("--tenant", action="append", default=[], help="tenant JSON file (repeatable)")
    serve.add_argument("--generate", type=int, metavar="N", help="generate a tenant with N mailboxes")
    serve.add_argument("--seed", dest="generate_seed", type=int, default=1)
    serve.add_argument("--domain", action="append", default=[],
                       help="domain of a generated tenant (repeat for several tenants)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--connection-file", required=True)
    serve.add_argument("--save-on-exit", metavar="FILE")
    serve.add_argument("--faults", metavar="JSON", help="fault settings as a JSON object")
    serve.add_argument("--fault-script", metavar="FILE", help="JSON list of scripted fault rules")
    serve.add_argument("--nextlink-broken", action="store_true")
    for name in FAULT_FLAGS:
        flag = "--fault-seed" if name == "seed" else "--" + name.replace("_", "-")
        serve.add_argument(flag, dest="fault_" + name, type=type(DEFAULTS[name]), default=None)
    return parser


def _generate(args):
    tenant = generate(args.mailboxes, args.seed, args.domain, args.tenant_id, system_aces=not args.no_system_aces)
    tenant.save(args.output)
    print(json.dumps({"output": os.path.abspath(args.output), "tenant_id": tenant.tenant_id,
                      "domain": tenant.domain, "summary": tenant.summary()}))
    return 0


def _fault_settings(args):
    settings = json.loads(args.faults) if args.faults else {}
    for name in FAULT_FLAGS:
        value = getattr(args, "fault_" + name)
        if value is not None:
            settings[name] = value
    if args.nextlink_broken:
        settings["nextlink_broken"] = True
    return settings


def _sources(args):
    sources = [TenantSource("file", path) for path in args.tenant]
    domains = args.domain or (["contoso.onmicrosoft.com"] if args.generate is not None or not sources else [])
    for domain in domains:
        sources.append(TenantSource("generate", {"n": args.generate if args.generate is not None else 50,
                                                 "seed": args.generate_seed, "domain": domain}))
    return sources


def _serve(args):
    server = EmulatorServer(args.workdir, tenants=_sources(args), faults=_fault_settings(args), host=args.host,
                            port=args.port, connection_file=os.path.abspath(args.connection_file))
    if args.fault_script:
        with open(args.fault_script, encoding="utf-8") as handle:
            server.add_fault_rules(json.load(handle))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    print(json.dumps({"listening": server.base_url, "connection_file": os.path.abspath(args.connection_file)}),
          flush=True)
    while not stop.is_set():
        stop.wait(0.5)
    if args.save_on_exit:
        server.save(args.save_on_exit)
    server.stop()
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)
    started = time.time()
    try:
        return _generate(args) if args.command == "generate" else _serve(args)
    except (OSError, ValueError) as exc:
        print("exo_emulator: %s (after %.1fs)" % (exc, time.time() - started), file=sys.stderr)
        return 2
