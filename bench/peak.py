"""Run a command and record its wall time and peak RSS, measured from a small process.

    python bench/peak.py RESULT_FILE COMMAND [ARGS...]

Linux charges a child the RSS its parent had when it forked (the high-water mark survives
exec), so measuring from the benchmark runner, which holds llama-index and Chroma in
memory, would inflate every child to the runner's size. This wrapper imports nothing
heavy; its own ~10 MB is the error bound. Writes `{"wall": s, "maxrss_kb": n, "code": c}`.
"""

import json
import os
import sys
import time


def main() -> int:
    result, cmd = sys.argv[1], sys.argv[2:]
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: become the command
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _pid, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    with open(result, "w", encoding="utf-8") as f:
        json.dump({"wall": wall, "maxrss_kb": usage.ru_maxrss, "code": code}, f)
    return code


if __name__ == "__main__":
    sys.exit(main())
