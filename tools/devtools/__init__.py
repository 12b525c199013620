"""Development helpers of m365.exchange that no standard tool provides; noxfile.py uses them.

- ``collection``: the collection's files, the copies ansible-test runs in, what the tarball may hold.
- ``ansible_test``: the offline stand-in for ansible-test's get-pip download, the sanity checks' coverage.
- ``emulator``: the Exchange Online emulator as a child process (integration tests, demo, benchmarks).
- ``debian_root``: a cached Debian 13 root (Python 3.13) to run the newest ansible-core in.
- ``checks``: what the lint session checks of galaxy-importer's and ansible-builder's output.

Standard library only; Python 3.9 or later. Tests: tools/tests.
"""
