"""Run one command and print {"seconds", "peak_rss_mb", "exit", "stderr_tail"} as JSON:
wall time and the peak resident memory of the command (not of this script).

    python bench/measure.py [--stdout FILE] -- CMD ARGS...
"""

import json
import resource
import subprocess
import sys
import time


def main():
    args = sys.argv[1:]
    out = subprocess.DEVNULL
    if args[:1] == ["--stdout"]:
        out = open(args[1], "wb")  # noqa: SIM115 - closed by the process exit
        args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    start = time.perf_counter()
    p = subprocess.run(args, stdout=out, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - start
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    tail = p.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
    print(json.dumps({"seconds": seconds, "peak_rss_mb": rss_kb / 1024, "exit": p.returncode, "stderr_tail": tail}))


if __name__ == "__main__":
    main()
