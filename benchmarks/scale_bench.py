"""Time and peak memory of the offline preview per VM, at growing stack sizes.

Each size runs in a child process (peak RSS is per process; ``--engine pulumi``: under Pulumi's
mock runtime, default: from the plan), on the synthetic tenant stack of
``benchmarks.preview_bench`` (one-GPU VMs plus one cluster with two node groups and two
workloads per 10 VMs). Prints one line per size and the marginal cost per VM.

    python -m benchmarks.scale_bench [--sizes 250,500,1000,2000] [--engine plan|pulumi] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from benchmarks.preview_bench import stack_file, synthetic_config
    from stacks.commands.preview.render import planned
    from stacks.commands.preview.runner import run_config
    size, engine = int(sys.argv[1]), sys.argv[2]
    config = stack_file(synthetic_config(size), "scale")
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    run = run_config(config, engine)
    files = planned(run)  # the rendered files, in memory
    seconds = time.monotonic() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert run.failure is None, run.failure
    print(json.dumps({"vms": size, "seconds": seconds, "peak_mib": peak / 1024,
                      "base_mib": base / 1024, "resources": len(run.resources), "files": len(files)}))
    """
)


def measure(size: int, engine: str = "plan") -> dict[str, float]:
    """One child process: render a stack of ``size`` VMs with ``engine`` (``plan`` or
    ``pulumi``, the mock runtime), report seconds and peak RSS."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(size), engine], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="250,500,1000,2000")
    parser.add_argument("--engine", choices=("plan", "pulumi"), default="plan", help="how the stack is made")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    results = [measure(int(size), args.engine) for size in args.sizes.split(",")]
    for row in results:
        print(
            f"{row['vms']:>6.0f} VMs: {row['seconds']:7.1f} s  peak {row['peak_mib']:7.0f} MiB  "
            f"({row['resources']:.0f} resources)"
        )
    first, last = results[0], results[-1]
    vms = last["vms"] - first["vms"]
    if vms > 0:
        print(
            f"per VM (marginal): {(last['seconds'] - first['seconds']) / vms * 1000:.1f} ms, "
            f"{(last['peak_mib'] - first['peak_mib']) / vms * 1024:.0f} KiB"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=2)


if __name__ == "__main__":
    main()
