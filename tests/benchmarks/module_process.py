# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The interpreter the benchmark gives Ansible (ansible_python_interpreter): runs each module process with
this Python and appends its peak RSS, CPU time and wall time to the JSON Lines file BENCH_PROCESS_LOG.

    <python> module_process.py <AnsiballZ file or -c ...>   # what Ansible runs, passed through unchanged
"""

import json
import os
import resource
import subprocess
import sys
import time


def module_name(argv):
    """AnsiballZ_mailbox_permission.py -> mailbox_permission; anything else as given."""
    for arg in argv:
        base = os.path.basename(arg)
        if base.startswith("AnsiballZ_") and base.endswith(".py"):
            return base[len("AnsiballZ_"):-3]
    return " ".join(argv)[:80] or "(stdin)"


def main():
    started = time.time()
    code = subprocess.call([sys.executable] + sys.argv[1:])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    record = {"module": module_name(sys.argv[1:]), "started": started, "seconds": time.time() - started,
              "peak_rss_kb": usage.ru_maxrss, "cpu_seconds": usage.ru_utime + usage.ru_stime, "rc": code}
    path = os.environ.get("BENCH_PROCESS_LOG")
    if path:
        with open(path, "a") as handle:
            handle.write(json.dumps(record) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
