#!/usr/bin/env python3
"""One process that loads $AWS_CONFIG_FILE REPS times the way a client process start does, with a fresh
session each time (after one untimed load), and prints the CPU seconds of each load as a JSON list (for config_cost.py's "parse").

    config_parse.py botocore|awscli REPS [BUDGET]

At least REPS loads, and more until they add up to BUDGET CPU seconds (default 0), so that a load of a
few milliseconds is measured often enough for its median to hold still.

botocore: botocore.session.Session (the installed botocore); awscli: the AWS CLI v2's own copy of it,
awscli.botocore (run it with the interpreter of /usr/bin/aws). Each load resolves [profile other], as the
timed process-start command does.
"""
import gc
import json
import sys
import time


def main():
    which, reps = sys.argv[1], int(sys.argv[2])
    budget = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    if which == "awscli":
        from awscli.botocore.session import Session
    else:
        from botocore.session import Session
    Session(profile="other").get_scoped_config()  # untimed: imports and caches warmed
    times = []
    while len(times) < reps or (sum(times) < budget and len(times) < 2000):
        gc.collect()  # the previous load's garbage is not this load's cost
        t = time.process_time()
        if Session(profile="other").get_scoped_config()["region"] != "us-west-2":
            sys.exit("wrong region for [profile other]")
        times.append(time.process_time() - t)
    print(json.dumps(times))


if __name__ == "__main__":
    main()
