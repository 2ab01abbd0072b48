"""The README's commands install what they run: scripts/lib/need.sh's self-test, run as a test.

It checks need() against a fake apt-get (one `apt-get update`, one install of exactly the missing
packages, nothing when all is there, nothing at all under --no-install) and that every script's `need`
line names each command of need.sh's table that the script runs, and test.sh's each program the tests
spawn. ./scripts/try.sh on a machine without libsecret-tools is the end-to-end proof (.ci/run runs it).
"""
import subprocess

from awsso_harness import REPO


def test_every_script_needs_what_it_runs():
    r = subprocess.run(
        ["bash", str(REPO / "scripts" / "lib" / "need.sh"), "--selftest"],
        capture_output=True, text=True, timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("ok ") == 3, r.stdout
