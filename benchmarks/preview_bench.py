"""The cost of an offline preview and how it grows with the estate.

For synthetic tenant stacks of 10, 100 and 1,000 GPU VMs (plus one cluster with two GPU
node groups and two workloads per 10 VMs) it measures, in one process:

- the program: config → validation → components → objects, under the mock runtime;
- the floor: the identical Kubernetes objects registered directly with pulumi_kubernetes
  under the same mock runtime (no program can be faster);
- validation alone (no registration);
and, in child processes, the start-up of the dev stack under the mock runtime (``preview
--engine pulumi``: process start → first registered resource, with the slowest imports) and the
peak RSS of the largest render.

    python -m benchmarks.preview_bench [--repeat 5] [--sizes 10,100,1000]
        [--json benchmarks/results/preview.json]

``make test`` runs it at ``--sizes 2,5 --repeat 1`` (``tests/test_bench_smoke.py``).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from benchmarks.common import timed
from stacks.commands.cli import PROJECT_DIR
from stacks.commands.preview.engine import OfflineRun, Registered, run_offline
from stacks.loading.stack_file import StackConfigFile
from stacks.program.main import main as program
from stacks.validation.validate import validate

SIZES = (10, 100, 1000)
MODELS = ("L40S", "A100", "H100")
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHikubeGpuDevOnlyExampleKeyDoNotUse bench@example"


def synthetic_config(vms: int) -> dict[str, Any]:
    """A valid tenant stack: ``vms`` one-GPU VMs and one cluster per 10 VMs."""
    config: dict[str, Any] = {
        "kind": "tenant",
        "platform": {"namespace": "tenant-bench"},
        "vms": {
            f"vm-{i:04d}": {"gpus": {MODELS[i % 3]: 1}, "sshKeys": [SSH_KEY], "disk": {"size": "60Gi"}}
            for i in range(vms)
        },
        "clusters": {},
    }
    for c in range(max(1, vms // 10)):
        config["clusters"][f"k-{c:03d}"] = {
            "version": "v1.33",
            "nodeGroups": {
                "l40s": {"gpus": {"L40S": 1}, "maxReplicas": 2, "sharing": {"timeSlicing": {"replicas": 2}}},
                "a100": {"instanceType": "u1.4xlarge", "gpus": {"A100": 2}, "maxReplicas": 2},
            },
            "workloads": {
                "serve": {
                    "image": "vllm/vllm-openai:v0.6.3",
                    "gpus": {"L40S": 1},
                    "replicas": 2,
                    "ports": [8000],
                },
                "train": {"kind": "Job", "image": "nvcr.io/nvidia/pytorch:24.10-py3", "gpus": {"A100": 2}},
            },
        }
    return config


def stack_file(config: dict[str, Any], name: str) -> StackConfigFile:
    values = {f"hikube-gpu:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    return StackConfigFile(project="hikube-gpu", stack=name, config=values)


def floor_program(objects: list[Registered]) -> Callable[[], None]:
    """A program that registers ``objects`` directly: one provider, no components, no checks."""

    def register() -> None:
        provider = k8s.Provider("floor", namespace="tenant-bench")
        opts = pulumi.ResourceOptions(provider=provider)
        for obj in objects:
            inputs = {k: v for k, v in obj.inputs.items() if k not in ("apiVersion", "kind", "__defaults")}
            if obj.type.startswith("kubernetes:apps.cozystack.io"):
                k8s.apiextensions.CustomResource(
                    obj.name,
                    api_version=obj.inputs["apiVersion"],
                    kind=obj.inputs["kind"],
                    opts=opts,
                    **inputs,
                )
            else:
                cls = {
                    "kubernetes:core/v1:Namespace": k8s.core.v1.Namespace,
                    "kubernetes:core/v1:ResourceQuota": k8s.core.v1.ResourceQuota,
                    "kubernetes:core/v1:Service": k8s.core.v1.Service,
                    "kubernetes:apps/v1:Deployment": k8s.apps.v1.Deployment,
                    "kubernetes:batch/v1:Job": k8s.batch.v1.Job,
                }[obj.type]
                cls(obj.name, metadata=inputs["metadata"], spec=inputs.get("spec"), opts=opts)

    return register


def measure_size(vms: int, repeat: int) -> dict[str, Any]:
    """Program vs floor for one size; the 1,000-VM size runs at most twice (~45 s a round)."""
    repeat = min(repeat, 2) if vms >= 1000 else repeat
    config = synthetic_config(vms)
    file = stack_file(config, f"bench-{vms}")
    program_s, program_spread, run = timed(lambda: run_offline(file, program), repeat)
    assert isinstance(run, OfflineRun)
    assert run.failure is None, run.failure
    objects = [r for r in run.resources if r.custom and not r.read and r.type.startswith("kubernetes:")]
    floor_file = StackConfigFile(project="hikube-gpu", stack=f"floor-{vms}", config={})
    floor_s, floor_spread, floor_run = timed(lambda: run_offline(floor_file, floor_program(objects)), repeat)
    assert isinstance(floor_run, OfflineRun)
    assert len(floor_run.custom_resources()) == len(objects) + 1
    validate_s, validate_spread, _ = timed(lambda: validate(config), repeat)
    floor_registrations = len(floor_run.resources)
    return {
        "vms": vms,
        "repeat": repeat,
        "objects": len(objects),
        "registrations": len(run.resources),
        "floor_registrations": floor_registrations,
        "program_s": round(program_s, 4),
        "floor_s": round(floor_s, 4),
        "ratio": round(program_s / floor_s, 3),
        "per_registration_ratio": round(
            (program_s / len(run.resources)) / (floor_s / floor_registrations), 3
        ),
        "per_object_ms": round(1000 * program_s / len(objects), 3),
        "validate_s": round(validate_s, 4),
        "validate_share": round(validate_s / program_s, 3),
        "spread": {
            "program": round(program_spread, 3),
            "floor": round(floor_spread, 3),
            "validate": round(validate_spread, 3),
        },
    }


STARTUP_PROBE = textwrap.dedent(
    """
    import sys, time
    from stacks.commands.preview import engine
    original = engine._RecordingMonitor.RegisterResource
    def first(self, request):
        if request.type != "pulumi:pulumi:Stack" and not getattr(engine, "_bench_seen", False):
            engine._bench_seen = True
            print(f"FIRST {time.time()}", flush=True)
        return original(self, request)
    engine._RecordingMonitor.RegisterResource = first
    from stacks.commands.cli import main
    sys.exit(main(["preview", "--stack", "dev", "--engine", "pulumi"]))
    """
)
"""Prints ``FIRST <time>`` when the program registers its first resource under the mock runtime
(``--engine pulumi``: the default engine reads the plan and registers nothing)."""


def _probe(importtime: bool) -> tuple[float, str]:
    flags = ["-X", "importtime"] if importtime else []
    start = time.time()
    result = subprocess.run(
        [sys.executable, *flags, "-c", STARTUP_PROBE],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    firsts = [float(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("FIRST ")]
    if not firsts:
        raise RuntimeError("the start-up probe saw no registered resource: does preview still take --engine?")
    return firsts[0] - start, result.stderr


def startup(repeat: int) -> dict[str, Any]:
    """Process start → the dev stack's first resource (after imports and validation); slowest imports.

    Timed without ``-X importtime`` (it slows imports down); one more run lists the imports.
    """
    times = [_probe(importtime=False)[0] for _ in range(repeat)]
    imports: dict[str, int] = {}
    for line in _probe(importtime=True)[1].splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s+(.*)$", line)
        if match:  # self time: where the import time really goes
            name = match.group(2).strip()
            imports[name] = max(imports.get(name, 0), int(match.group(1)))
    slowest = sorted(imports.items(), key=lambda item: -item[1])[:8]
    median = statistics.median(times)
    return {
        "first_resource_s": round(median, 3),
        "spread": round((max(times) - min(times)) / median, 3),
        "slowest_imports_ms": {name: round(us / 1000, 1) for name, us in slowest},
    }


RSS_PROBE = textwrap.dedent(
    """
    import json, resource, sys
    from benchmarks.preview_bench import stack_file, synthetic_config
    from stacks.commands.preview.engine import run_offline
    from stacks.program.main import main as program
    run = run_offline(stack_file(synthetic_config(int(sys.argv[1])), "rss"), program)
    assert run.failure is None
    print(json.dumps({"max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """
)


def peak_rss(vms: int) -> float:
    result = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, str(vms)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return round(float(json.loads(result.stdout.splitlines()[-1])["max_rss_mb"]), 1)


def warm_up() -> None:
    """One untimed round, so imports (pulumi_kubernetes loads modules on first use) are not timed."""
    run = run_offline(stack_file(synthetic_config(10), "warm-up"), program)
    objects = [r for r in run.resources if r.custom and not r.read and r.type.startswith("kubernetes:")]
    run_offline(
        StackConfigFile(project="hikube-gpu", stack="warm-up-floor", config={}), floor_program(objects)
    )


def _scaling(sizes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Cost per object at the largest size over the one before it, for the program and the floor."""
    if len(sizes) < 2:
        return None
    small, large = sizes[-2], sizes[-1]
    return {
        "vms": [small["vms"], large["vms"]],
        "program": round(large["per_object_ms"] / small["per_object_ms"], 3),
        "floor": round((large["floor_s"] / large["objects"]) / (small["floor_s"] / small["objects"]), 3),
    }


def run(repeat: int, vm_counts: tuple[int, ...] = SIZES) -> dict[str, Any]:
    warm_up()
    sizes = [measure_size(vms, repeat) for vms in sorted(vm_counts)]
    return {
        "machine": {
            "python": platform.python_version(),
            "system": platform.platform(),
            "cpu": platform.processor(),
        },
        "repeat": repeat,
        "sizes": sizes,
        "scaling": _scaling(sizes),
        "startup": startup(repeat),
        "peak_rss_mb": {"vms": sizes[-1]["vms"], "mb": peak_rss(sizes[-1]["vms"])},
        "targets": {
            "ratio_max": 1.3,
            "scaling_max": 1.2,
            "startup_max_s": 1.0,
            "validate_share_max": 0.1,
        },
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"preview benchmark (median of {result['repeat']} runs, 1000 VMs and more: at most 2; "
        "spread = (max-min)/median)"
    ]
    header = (
        "VMs",
        "objects",
        "regs",
        "program",
        "floor",
        "ratio",
        "per-reg",
        "ms/obj",
        "validate",
        "spread",
    )
    lines.append("  " + " ".join(f"{h:>9}" for h in header))
    for s in result["sizes"]:
        cells = (
            s["vms"],
            s["objects"],
            s["registrations"],
            f"{s['program_s']:.3f}s",
            f"{s['floor_s']:.3f}s",
            f"{s['ratio']:.2f}",
            f"{s['per_registration_ratio']:.2f}",
            f"{s['per_object_ms']:.2f}",
            f"{s['validate_share']:.1%}",
            f"{s['spread']['program']:.1%}",
        )
        lines.append("  " + " ".join(f"{c:>9}" for c in cells))
    targets = result["targets"]
    worst = max(s["ratio"] for s in result["sizes"])
    largest = result["sizes"][-1]["vms"]
    share = result["sizes"][-1]["validate_share"]
    start = result["startup"]["first_resource_s"]
    checks = [
        (
            f"program / floor <= {targets['ratio_max']} at every size",
            f"{worst:.2f} (worst)",
            worst <= targets["ratio_max"],
        ),
    ]
    if (scaling := result["scaling"]) is not None:
        small, large = scaling["vms"]
        checks.append(
            (
                f"per object, {large} vs {small} VMs <= {targets['scaling_max']}",
                f"{scaling['program']:.2f} (the floor itself: {scaling['floor']:.2f})",
                scaling["program"] <= targets["scaling_max"],
            )
        )
    checks += [
        (
            f"start-up to first resource <= {targets['startup_max_s']} s",
            f"{start:.2f} s",
            start <= targets["startup_max_s"],
        ),
        (
            f"validation <= {targets['validate_share_max']:.0%} of render ({largest} VMs)",
            f"{share:.1%}",
            share <= targets["validate_share_max"],
        ),
        (f"peak RSS, {result['peak_rss_mb']['vms']}-VM render", f"{result['peak_rss_mb']['mb']} MB", True),
    ]
    lines.append("")
    lines += [f"  {'met ' if met else 'MISS'}  {name}: {value}" for name, value, met in checks]
    slowest = ", ".join(f"{name} {ms}" for name, ms in result["startup"]["slowest_imports_ms"].items())
    lines += ["", f"  slowest imports (ms, own time): {slowest}"]
    return "\n".join(lines)


def _vm_counts(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(","))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--sizes", type=_vm_counts, default=SIZES, help="VMs per synthetic stack (default: 10,100,1000)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = run(args.repeat, args.sizes)
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
