#!/usr/bin/env python3
"""botocore's own SSO provider resolving a native profile N times inside one warm Python process (a new
botocore Session each time, so nothing is reused but the imported modules): what an SDK pays per
resolution once it is running, without the interpreter start-up. Writes hyperfine-shaped JSON.

    creds_inprocess.py PROFILE RUNS OUT.json
"""
import json
import sys
import time

import botocore.session


def resolve(profile):
    return botocore.session.Session(profile=profile).get_credentials().get_frozen_credentials()


def main(profile, runs, out):
    for _ in range(5):  # warm-up: imports, service models, connection set-up code paths
        resolve(profile)
    times = []
    for _ in range(int(runs)):
        start = time.perf_counter_ns()
        creds = resolve(profile)
        times.append((time.perf_counter_ns() - start) / 1e9)
        assert creds.access_key
    with open(out, "w") as f:
        json.dump({"results": [{"command": f"(in-process) botocore.session.Session(profile={profile!r}).get_credentials().get_frozen_credentials()", "times": times}]}, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
