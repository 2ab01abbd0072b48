#!/usr/bin/env python3
"""One process that loads several AWS config files in turn, the way a client process start loads one,
and prints the CPU seconds of each load per file as a JSON object (for config_cost.py's "parse").

    config_parse.py botocore|awscli REPS BUDGET NAME=CONFIG...

Each round loads every file once, a fresh session each time, starting one file later than the round
before (so that no file always follows the same one). The rounds are interleaved, rather than one process
per file, because on a shared machine the speed drifts by more than the difference between two files
over a few seconds: a drift then falls on every file alike. At least REPS rounds, and more until the
loads add up to BUDGET CPU seconds per file on average (capped at 2,000 rounds), so that a load of a few
milliseconds is measured often enough for its median to hold still. One untimed load of each file
first warms the imports and caches; a garbage collection before each load keeps the previous load's
garbage out of its time.

botocore: botocore.session.Session (the installed botocore); awscli: the AWS CLI v2's own copy of it,
awscli.botocore (run it with the interpreter of /usr/bin/aws). Each load resolves [profile other], as the
timed process-start command does; the file is chosen with AWS_CONFIG_FILE, which a session reads when it
is created.
"""
import gc
import json
import os
import sys
import time


def main():
    which, reps, budget = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    files = [arg.split("=", 1) for arg in sys.argv[4:]]
    if which == "awscli":
        from awscli.botocore.session import Session
    else:
        from botocore.session import Session

    def load(path):
        os.environ["AWS_CONFIG_FILE"] = path
        if Session(profile="other").get_scoped_config()["region"] != "us-west-2":
            sys.exit(f"wrong region for [profile other] in {path}")

    for _, path in files:
        load(path)
    times = {name: [] for name, _ in files}
    rounds, spent = 0, 0.0
    while rounds < reps or (spent < budget * len(files) and rounds < 2000):
        k = rounds % len(files)
        for name, path in files[k:] + files[:k]:
            gc.collect()
            t = time.process_time()
            load(path)
            times[name].append(time.process_time() - t)
            spent += times[name][-1]
        rounds += 1
    print(json.dumps(times))


if __name__ == "__main__":
    main()
