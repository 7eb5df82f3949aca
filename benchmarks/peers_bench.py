"""This project against its peers, whole processes in interleaved rounds (issue 16, item 4).

For N tenant VMs with one L40S and a boot disk each (a VMDisk and a VMInstance per VM, the
manifests this project's builders produce, ``benchmarks.peers_manifests``), every contender
is a fresh ``python`` process that starts from data and writes one YAML file per object:

- ``ours``: ``python -m stacks render --config-file <stack file> --out DIR`` (once per
  ``--engine`` choice when ``render --help`` offers one); refused past the stack loader's
  limit (``stacks.loading.limits.MAX_STACK_OBJECTS``);
- ``builders``: this project's validation and builders alone, no Pulumi runtime;
- ``pulumi``: raw pulumi_kubernetes ``CustomResource``s under ``pulumi.runtime.mocks``;
- ``cdk8s``: cdk8s ``ApiObject``s, ``App.synth()`` (skipped, with the reason, without Node.js
  or the ``cdk8s`` package: ``pip install -r benchmarks/requirements-peers.txt``);
- ``dicts``: plain dicts → YAML with PyYAML's C dumper.

Each round runs every contender once per size, in turn; CPU seconds (user + system of the
process and the children it reaped, ``os.wait4``), wall seconds and peak RSS; min and median
over the rounds. Plus the start-up of ``preview --stack dev`` and the diff of 1,000 stacks
with one stack file changed (a temporary git repository). Writes JSON with the ratios and the
targets; ``benchmarks.peers_table`` turns it into ``docs/reference/performance-peers.md``.

    python -m benchmarks.peers_bench [--sizes 100,1000,3000,10000] [--rounds 3] [--large-rounds 2]
        [--fleet 1000] [--json benchmarks/results/peers.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import PROJECT_DIR, copy_project
from benchmarks.peers_manifests import NAMESPACE, write_manifests, write_stack_file

LARGE = 10_000
"""Sizes from here on run ``--large-rounds`` rounds."""


class RunFailed(RuntimeError):
    """A measured process exited with an unexpected code (the message has its stderr tail)."""


@dataclass(frozen=True)
class Sample:
    cpu_s: float
    wall_s: float
    peak_mib: float


_LAUNCHER: list[subprocess.Popen[str]] = []


def launcher() -> subprocess.Popen[str]:
    """The one ``benchmarks.peers_launcher`` process, started on first use (start it early:
    its children's peak RSS starts at its own)."""
    if not _LAUNCHER:
        argv = [sys.executable, "-m", "benchmarks.peers_launcher"]
        pipe = subprocess.PIPE
        _LAUNCHER.append(subprocess.Popen(argv, cwd=PROJECT_DIR, stdin=pipe, stdout=pipe, text=True))
    return _LAUNCHER[0]


def run_process(argv: list[str], cwd: Path, ok: tuple[int, ...] = (0,), timeout: float = 3600) -> Sample:
    """Run ``argv`` to its end (through the launcher); its CPU (user + system, with the children
    it reaped), wall time and peak RSS."""
    process = launcher()
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(json.dumps({"argv": argv, "cwd": str(cwd), "timeout": timeout}) + "\n")
    process.stdin.flush()
    done = json.loads(process.stdout.readline())
    if done["code"] not in ok:
        raise RunFailed(f"{' '.join(argv[:6])}: exit {done['code']}\n{done['stderr']}")
    return Sample(done["cpu_s"], done["wall_s"], done["peak_kib"] / 1024)


def engines() -> list[str]:
    """The ``--engine`` choices of ``python -m stacks render``, or ``[]`` without the option."""
    done = subprocess.run(
        [sys.executable, "-m", "stacks", "render", "--help"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"--engine \{([^}]+)\}", done.stdout)
    return found.group(1).split(",") if found else []


def cdk8s_missing() -> str | None:
    """Why cdk8s cannot run here, or None."""
    if shutil.which("node") is None:
        return "Node.js is not installed (cdk8s runs on jsii, which needs node)"
    if importlib.util.find_spec("cdk8s") is None:
        return "the cdk8s package is not installed (pip install -r benchmarks/requirements-peers.txt)"
    return None


@dataclass(frozen=True)
class Contender:
    name: str
    limit: int | None
    """The largest number of VMs it accepts, or None."""

    def argv(self, vms: int, inputs: Path, out: Path) -> list[str]:
        python = sys.executable
        if self.name == "builders":
            return [python, "-m", "benchmarks.peers_manifests", str(vms), str(out)]
        if self.name.startswith("ours"):
            stack = inputs / "Pulumi.bench.yaml"
            engine = self.name.partition(":")[2]
            extra = ["--engine", engine] if engine else []
            return [python, "-m", "stacks", "render", "--config-file", str(stack), "--out", str(out), *extra]
        module = "benchmarks.peers_contenders"
        return [python, "-m", module, self.name, str(inputs / "manifests.json"), str(out)]


def contenders(with_cdk8s: bool) -> tuple[list[Contender], dict[str, str]]:
    """Who runs, and who is skipped with the reason."""
    from stacks.loading.limits import MAX_STACK_OBJECTS

    ours = [
        Contender(f"ours:{engine}" if engine else "ours", MAX_STACK_OBJECTS) for engine in engines() or [""]
    ]
    chosen = [*ours, Contender("builders", None), Contender("pulumi", None), Contender("dicts", None)]
    skipped: dict[str, str] = {}
    reason = cdk8s_missing() if with_cdk8s else "not requested (--no-cdk8s)"
    if reason is None:
        chosen.insert(len(ours) + 2, Contender("cdk8s", None))
    else:
        skipped["cdk8s"] = reason
    return chosen, skipped


def documents(folder: Path) -> list[Any]:
    """Every YAML document under ``folder``, sorted (comments and file names do not matter)."""
    loaded = [
        yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        for path in folder.rglob("*.yaml")
    ]
    return sorted(loaded, key=lambda doc: json.dumps(doc, sort_keys=True))


def summary(samples: list[Sample]) -> dict[str, Any]:
    cpu = [s.cpu_s for s in samples]
    wall = [s.wall_s for s in samples]
    return {
        "rounds": len(samples),
        "cpu_min_s": round(min(cpu), 3),
        "cpu_median_s": round(statistics.median(cpu), 3),
        "wall_min_s": round(min(wall), 3),
        "wall_median_s": round(statistics.median(wall), 3),
        "peak_mib": round(max(s.peak_mib for s in samples), 1),
    }


def measure_renders(
    sizes: list[int], rounds: int, large_rounds: int, chosen: list[Contender], work: Path
) -> dict[str, dict[str, Any]]:
    """``{size: {contender: summary or {"skipped": reason}}}``; rounds interleave contenders."""
    results: dict[str, dict[str, Any]] = {}
    for vms in sizes:
        inputs = work / f"in-{vms}"
        inputs.mkdir()
        write_stack_file(inputs / "Pulumi.bench.yaml", vms)
        expected = [
            entry["object"]
            for entry in json.loads(write_manifests(inputs / "manifests.json", vms).read_text())
        ]
        expected.sort(key=lambda doc: json.dumps(doc, sort_keys=True))
        samples: dict[str, list[Sample]] = {c.name: [] for c in chosen}
        row: dict[str, Any] = {}
        for number in range(large_rounds if vms >= LARGE else rounds):
            for contender in chosen:
                if contender.limit is not None and vms > contender.limit:
                    row[contender.name] = {
                        "skipped": f"the stack loader refuses stacks above {contender.limit:,} objects "
                        "(stacks/loading/limits.py)"
                    }
                    continue
                out = work / f"out-{vms}-{contender.name.replace(':', '-')}"
                samples[contender.name].append(run_process(contender.argv(vms, inputs, out), PROJECT_DIR))
                if number == 0 and documents(out) != expected:
                    raise RunFailed(f"{contender.name} at {vms} VMs wrote other objects than the builders'")
                shutil.rmtree(out)
                print(
                    f"  {vms:>6,} VMs  round {number + 1}  {contender.name:<12} "
                    f"{samples[contender.name][-1].cpu_s:8.2f} s CPU",
                    file=sys.stderr,
                    flush=True,
                )
        for name, taken in samples.items():
            if taken:
                row[name] = summary(taken)
        results[str(vms)] = row
        shutil.rmtree(inputs)
    return results


def measure_startup(rounds: int) -> dict[str, Any]:
    """``python -m stacks preview --stack dev``: the whole process, wall and CPU."""
    argv = [sys.executable, "-m", "stacks", "preview", "--stack", "dev"]
    return summary([run_process(argv, PROJECT_DIR) for _ in range(rounds)])


CODE = ("components/", "stacks/", "policy/")


def _git(repo: Path, *args: str) -> None:
    command = ["git", "-C", str(repo), "-c", "user.email=b@example.com", "-c", "user.name=b", *args]
    subprocess.run(command, capture_output=True, text=True, check=True)


def fleet_stack(index: int, size: str = "60Gi") -> dict[str, Any]:
    return {
        "config": {
            "hikube-gpu:platform": {"namespace": f"tenant-s{index:04d}"},
            "hikube-gpu:quota": {"L40S": 1},
            "hikube-gpu:vms": {"ws": {"gpus": {"L40S": 1}, "disk": {"image": "ubuntu-2404", "size": size}}},
        }
    }


def make_fleet(root: Path, stacks: int) -> None:
    """A git repository: this project's code and ``stacks`` stack files, then one commit that
    changes one stack's disk size."""
    copy_project(root, lambda name: name.startswith(CODE) or name in ("__main__.py", "pyproject.toml"))
    project = (PROJECT_DIR / "Pulumi.yaml").read_text(encoding="utf-8") + "stackConfigDir: environments\n"
    (root / "Pulumi.yaml").write_text(project, encoding="utf-8")
    (root / "environments").mkdir()
    for index in range(stacks):
        text = yaml.safe_dump(fleet_stack(index), sort_keys=False)
        (root / "environments" / f"Pulumi.s{index:04d}.yaml").write_text(text, encoding="utf-8")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "fleet")
    changed = root / "environments" / f"Pulumi.s{stacks // 2:04d}.yaml"
    changed.write_text(yaml.safe_dump(fleet_stack(stacks // 2, "80Gi"), sort_keys=False), encoding="utf-8")
    _git(root, "commit", "-qam", "one stack changed")


def measure_diff(stacks: int, rounds: int, work: Path, timeout: float) -> dict[str, Any]:
    """``python -m stacks diff --base HEAD~1`` over ``stacks`` stacks, one changed (exit 1)."""
    root = work / "fleet"
    root.mkdir()
    make_fleet(root, stacks)
    argv = [sys.executable, "-m", "stacks", "diff", "--base", "HEAD~1", "--project-dir", str(root)]
    try:
        result = summary([run_process(argv, root, ok=(1,), timeout=timeout) for _ in range(rounds)])
    except RunFailed as failed:
        return {"stacks": stacks, "failed": str(failed).splitlines()[0], "timeout_s": timeout}
    return {"stacks": stacks, "cores": os.cpu_count(), **result}


def _cpu(row: dict[str, Any], name: str) -> float | None:
    """The median CPU seconds: on a shared machine (SMT siblings, other jobs) CPU time varies in
    both directions, and a lucky minimum skews a ratio as much as an unlucky maximum."""
    entry = row.get(name, {})
    return entry.get("cpu_median_s") if isinstance(entry, dict) else None


def ratios(renders: dict[str, dict[str, Any]], ours: str) -> dict[str, dict[str, float]]:
    """Per size: ours' median CPU over each peer's (below 1.0: ours is cheaper)."""
    out: dict[str, dict[str, float]] = {}
    for size, row in renders.items():
        mine = _cpu(row, ours)
        if mine is None:
            continue
        found = {name: round(mine / other, 3) for name in row if name != ours and (other := _cpu(row, name))}
        if found:
            out[size] = found
    return out


def marginal(renders: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per contender: median CPU ms per extra VM between consecutive sizes, and the last over the first."""
    sizes = sorted(int(size) for size in renders)
    names = {name for row in renders.values() for name in row}
    out: dict[str, dict[str, float]] = {}
    for name in sorted(names):
        points = [(n, cpu) for n in sizes if (cpu := _cpu(renders[str(n)], name)) is not None]
        steps = {
            f"{a}-{b}": round(1000 * (cb - ca) / (b - a), 3)
            for (a, ca), (b, cb) in itertools.pairwise(points)
        }
        if len(steps) >= 2 and next(iter(steps.values())) > 0:
            values = list(steps.values())
            steps["flatness"] = round(values[-1] / values[0], 3)
        out[name] = steps
    return out


def targets(result: dict[str, Any], ours: str) -> dict[str, dict[str, Any]]:
    """Each of issue 16's targets: what was measured, the value, the bound, met (None: not measured)."""

    def check(what: str, value: float | None, bound: float) -> dict[str, Any]:
        return {
            "what": what,
            "value": value,
            "bound": bound,
            "met": None if value is None else value <= bound,
        }

    at_1000 = result["ratios"].get("1000", {})
    steps = result["marginal"].get(ours, {})
    spans = [k for k in steps if k != "flatness"]
    span = f"{spans[-1]} VMs over {spans[0]} VMs" if len(spans) >= 2 else "needs three sizes"
    large = result.get("large", {})
    large_what = f"{large.get('vms', 0):,} VMs ({large.get('contender', '-')})"
    diff = result.get("diff", {})
    diff_what = f"diff of {diff.get('stacks', 0):,} stacks, one changed, wall s ({diff.get('cores')} cores)"
    return {
        "render_1000_vs_cdk8s": check("render of 1,000 VMs, CPU ratio to cdk8s", at_1000.get("cdk8s"), 1.0),
        "render_1000_vs_dicts": check(
            "render of 1,000 VMs, CPU ratio to plain dicts", at_1000.get("dicts"), 3.0
        ),
        "marginal_flatness": check(f"marginal CPU per VM, {span}", steps.get("flatness"), 1.2),
        "startup_s": check(
            "`preview --stack dev` start-up, wall s", result["startup"].get("wall_median_s"), 0.7
        ),
        "diff_1000_s": check(diff_what, diff.get("wall_median_s"), 10.0),
        "large_s": check(f"{large_what}, wall s", large.get("wall_median_s"), 60.0),
        "large_mib": check(f"{large_what}, peak MiB", large.get("peak_mib"), 1024.0),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    launcher()  # before the harness grows: a child's peak RSS starts at its parent's
    chosen, skipped = contenders(args.cdk8s)
    ours = next(c.name for c in chosen if c.name.startswith("ours"))  # the default engine
    with tempfile.TemporaryDirectory(prefix="peers-bench-") as temp:
        work = Path(temp)
        renders = measure_renders(args.sizes, args.rounds, args.large_rounds, chosen, work)
        result: dict[str, Any] = {
            "machine": {
                "python": platform.python_version(),
                "cores": os.cpu_count(),
                "system": platform.system(),
            },
            "workload": f"N tenant VMs with one L40S and a boot disk each in {NAMESPACE}: "
            "a VMDisk and a VMInstance per VM",
            "ours": ours,
            "skipped": skipped,
            "renders": renders,
            "ratios": ratios(renders, ours),
            "marginal": marginal(renders),
            "startup": measure_startup(args.rounds),
        }
        if args.large:
            who = (
                ours
                if args.large <= (next(c.limit for c in chosen if c.name == ours) or args.large)
                else "builders"
            )
            large = measure_renders([args.large], 1, 1, [c for c in chosen if c.name == who], work)
            result["large"] = {"vms": args.large, "contender": who, **large[str(args.large)][who]}
        if args.fleet:
            result["diff"] = measure_diff(args.fleet, 1, work, args.diff_timeout)
    result["targets"] = targets(result, ours)
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", type=lambda s: [int(n) for n in s.split(",")], default=[100, 1000, 3000, 10000]
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--large-rounds", type=int, default=2, help=f"rounds at {LARGE:,} VMs and more")
    parser.add_argument("--large", type=int, default=20000, help="VMs of the one-shot large run (0: none)")
    parser.add_argument("--fleet", type=int, default=1000, help="stacks of the diff run (0: none)")
    parser.add_argument("--diff-timeout", type=float, default=1800)
    parser.add_argument("--no-cdk8s", dest="cdk8s", action="store_false")
    parser.add_argument("--json", type=Path)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    from benchmarks.peers_table import table

    args = parse(argv)
    result = run(args)
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
