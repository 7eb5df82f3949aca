"""Runs the measured processes of ``benchmarks.peers_bench`` and reports their rusage.

On Linux a child's peak RSS starts at its parent's at fork/exec, so the harness, which holds
the expected manifests, would inflate every child's figure. This small process is started
first and launches every measured process instead: one JSON request a line on stdin
(``{"argv", "cwd", "timeout"}``), one JSON result a line on stdout
(``{"code", "cpu_s", "wall_s", "peak_kib", "stderr"}``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any


def launch(request: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1"}
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            request["argv"], cwd=request["cwd"], stdout=subprocess.DEVNULL, stderr=err, env=env
        )
        timer = threading.Timer(request["timeout"], process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        process.returncode = code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace")
    return {
        "code": code,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "wall_s": wall,
        "peak_kib": usage.ru_maxrss,
        "stderr": tail,
    }


def main() -> int:
    for line in sys.stdin:
        print(json.dumps(launch(json.loads(line))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
