"""Fuzzed configuration: thousands of tenant and platform stacks, valid and invalid.

Every valid one renders and its objects pass the conformance checks; every invalid one
fails with a config error whose paths exist in the input; never a traceback, never another
exception, never a registered resource. ``HYPOTHESIS_PROFILE=thorough`` runs 3,000
examples per test; CI runs a bounded, derandomized profile.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stacks.commands.preview.engine import run_offline
from stacks.loading.problems import NAMESPACE, ConfigError
from stacks.loading.stack_file import StackConfigFile
from stacks.program.main import main as program
from tests.conformance import check_file, rendered

settings.register_profile(
    "ci", max_examples=100, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKeyOnlyForUnitTests fuzz@example"
MODELS = ["L40S", "A100", "H100"]

names = st.one_of(
    st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]", fullmatch=True),
    st.sampled_from(["Bad_Name", "x" * 45, "9lives", "ok-"]),
)
models = st.one_of(st.sampled_from(MODELS), st.sampled_from(["H200", "T4"]))
gpus = st.dictionaries(models, st.integers(min_value=-1, max_value=5), max_size=2)
instance_types = st.sampled_from(
    [
        "u1.2xlarge",
        "u1.4xlarge",
        "u1.8xlarge",
        "u1.small",
        "o1.2xlarge",
        "s1.2xlarge",
        "m1.4xlarge",
        "gn1.xlarge",
        "z9",
    ]
)

vm = st.fixed_dictionaries(
    {"gpus": gpus},
    optional={
        "instanceType": instance_types,
        "runStrategy": st.sampled_from(["Always", "Halted", "Sometimes"]),
        "disk": st.fixed_dictionaries(
            {},
            optional={
                "size": st.sampled_from(["60Gi", "2Gi", "10", "1Ti"]),
                "image": st.sampled_from(["ubuntu-2404", "rocky-9", "nope"]),
            },
        ),
        "sshKeys": st.lists(st.sampled_from([KEY, "not a key"]), max_size=2),
        "external": st.fixed_dictionaries({"method": st.sampled_from(["PortList", "WholeIP"])}),
        "dataDisks": st.dictionaries(
            names, st.fixed_dictionaries({"size": st.sampled_from(["100Gi", "0"])}), max_size=1
        ),
        "systemDisk": st.just({"size": "10Gi"}),
    },
)

sharing = st.one_of(
    st.just({}),
    st.builds(lambda r: {"timeSlicing": {"replicas": r}}, st.integers(min_value=1, max_value=8)),
    st.builds(lambda r: {"mps": {"replicas": r}}, st.integers(min_value=1, max_value=8)),
    st.builds(
        lambda p: {"mig": {"profile": p}}, st.sampled_from(["1g.10gb", "3g.47gb", "7g.80gb", "9g.9gb"])
    ),
    st.builds(
        lambda n: {"mig": {"layout": {"1g.10gb": n, "3g.40gb": 1}}}, st.integers(min_value=1, max_value=7)
    ),
)
node_group = st.fixed_dictionaries(
    {},
    optional={
        "gpus": st.dictionaries(st.sampled_from(MODELS), st.integers(min_value=1, max_value=4), max_size=2),
        "instanceType": instance_types,
        "minReplicas": st.integers(min_value=0, max_value=3),
        "maxReplicas": st.integers(min_value=0, max_value=4),
        "sharing": sharing,
        "roles": st.lists(st.sampled_from(["ingress-nginx", "gpu", "Bad Role"]), max_size=2),
    },
)
workload = st.fixed_dictionaries(
    {
        "image": st.just("registry.example.com/app:1"),
        "gpus": st.dictionaries(models, st.integers(1, 9), min_size=1, max_size=1),
    },
    optional={
        "kind": st.sampled_from(["Deployment", "Job", "StatefulSet", "DaemonSet"]),
        "replicas": st.integers(min_value=1, max_value=6),
        "migProfile": st.sampled_from(["1g.10gb", "3g.40gb", "2g.24gb"]),
        "cpu": st.sampled_from(["1", "64"]),
        "memory": st.sampled_from(["4Gi", "1Ti"]),
        "namespace": st.sampled_from(["team-a", "kube-system"]),
        "runAsRoot": st.booleans(),
    },
)
cluster = st.fixed_dictionaries(
    {"nodeGroups": st.dictionaries(names, node_group, max_size=3)},
    optional={
        "version": st.sampled_from(["v1.33", "v1.30", "v1.29"]),
        "workloads": st.dictionaries(names, workload, max_size=2),
        "resourceNaming": st.sampled_from(["generic", "per-model"]),
    },
)
tenant = st.fixed_dictionaries(
    {
        "kind": st.just("tenant"),
        "platform": st.fixed_dictionaries(
            {},
            optional={
                "namespace": st.just("tenant-fuzz"),
                "profile": st.sampled_from(["hikube", "cozystack-1.4"]),
            },
        ),
    },
    optional={
        "quota": st.dictionaries(st.sampled_from(MODELS), st.integers(min_value=0, max_value=40)),
        "vms": st.dictionaries(names, vm, max_size=3),
        "clusters": st.dictionaries(names, cluster, max_size=2),
    },
)
platform = st.fixed_dictionaries(
    {
        "kind": st.just("platform"),
        "platform": st.fixed_dictionaries({}, optional={"namespace": st.just("gpu-vms")}),
    },
    optional={
        "gpuOperator": st.fixed_dictionaries(
            {},
            optional={
                "version": st.sampled_from(["v26.7.0", "v25.10.1", "v24.9.2"]),
                "defaultWorkload": st.sampled_from(["container", "vm-passthrough", "vm-vgpu"]),
                "sandboxWorkloads": st.booleans(),
                "sharingConfigs": st.dictionaries(
                    names, st.just({"timeSlicing": {"replicas": 2}}), max_size=1
                ),
            },
        ),
        "kubevirt": st.fixed_dictionaries(
            {
                "version": st.sampled_from(["1.3", "1.6", "1.9", "0.59"]),
                "gpus": st.lists(st.sampled_from(MODELS), min_size=1, max_size=3),
            },
            optional={
                "featureGates": st.lists(st.sampled_from(["GPU", "HostDevices", "GPUsWithDRA"]), max_size=2)
            },
        ),
        "nodes": st.dictionaries(
            st.from_regex(r"gpu-node-[0-9]", fullmatch=True),
            st.one_of(
                st.sampled_from(["container", "vm-passthrough", "vm-vgpu", "vm"]),
                st.fixed_dictionaries(
                    {"workload": st.just("container")}, optional={"mig": st.just("all-balanced")}
                ),
            ),
            max_size=3,
        ),
        "vms": st.dictionaries(
            names,
            st.fixed_dictionaries(
                {"gpus": st.dictionaries(st.sampled_from(MODELS), st.integers(1, 2), min_size=1, max_size=1)},
                optional={
                    "evictionStrategy": st.sampled_from(["None", "LiveMigrate"]),
                    "instanceType": instance_types,
                },
            ),
            max_size=2,
        ),
    },
)


def _segments(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for token in path.split("."):
        match = re.fullmatch(r"(.*?)((\[\d+\])*)", token)
        assert match is not None
        if match.group(1):
            parts.append(match.group(1))
        parts += [int(i) for i in re.findall(r"\[(\d+)\]", match.group(2))]
    return parts


def _walk(node: Any, parts: list[str | int]) -> int:
    """How many of ``parts`` exist in ``node`` (keys may contain dots, like ``1g.10gb``)."""
    if not parts:
        return 0
    head = parts[0]
    if isinstance(head, int):
        return 1 + _walk(node[head], parts[1:]) if isinstance(node, list) and head < len(node) else 0
    if not isinstance(node, dict):
        return 0
    for width in range(len(parts), 0, -1):  # the longest dotted key first
        chunk = parts[:width]
        if all(isinstance(p, str) for p in chunk) and ".".join(map(str, chunk)) in node:
            return width + _walk(node[".".join(map(str, chunk))], parts[width:])
    return 0


def path_exists(config: dict[str, Any], path: str) -> bool:
    """The problem's path is in the input (for a missing required key: its parent is)."""
    assert path.startswith(f"{NAMESPACE}:")
    parts = _segments(path.removeprefix(f"{NAMESPACE}:"))
    return _walk(config, parts) >= len(parts) - 1


def _file(config: dict[str, Any]) -> StackConfigFile:
    values = {f"{NAMESPACE}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    return StackConfigFile(project="hikube-gpu", stack="fuzz", config=values)


def _property(config: dict[str, Any]) -> None:
    run = run_offline(_file(config), program, timeout=60)  # any other exception fails the test
    if run.failure is not None:
        assert isinstance(run.failure, ConfigError), run.failure
        assert run.failure.problems
        for problem in run.failure.problems:
            assert path_exists(config, problem.path), f"{problem.path} is not in the input"
        assert [r.type for r in run.resources if r.type != "pulumi:pulumi:Stack"] == []
        return
    assert run.errors == []
    profile = (config.get("platform") or {}).get("profile", "hikube")
    with tempfile.TemporaryDirectory() as out:
        for path in rendered(run, Path(out)):
            check_file(path, profile)


@given(tenant)
def test_fuzzed_tenant_stacks(config: dict[str, Any]) -> None:
    _property(config)


@given(platform)
def test_fuzzed_platform_stacks(config: dict[str, Any]) -> None:
    _property(config)


def test_path_check_understands_dotted_keys_and_indexes() -> None:
    config = {
        "clusters": {
            "c": {"nodeGroups": {"g": {"sharing": {"mig": {"layout": {"5g.50gb": 1}}}, "roles": ["x"]}}}
        }
    }
    assert path_exists(config, "hikube-gpu:clusters.c.nodeGroups.g.sharing.mig.layout.5g.50gb")
    assert path_exists(config, "hikube-gpu:clusters.c.nodeGroups.g.roles[0]")
    assert path_exists(config, "hikube-gpu:clusters.c.nodeGroups.g.minReplicas")  # missing key, parent exists
    assert not path_exists(config, "hikube-gpu:clusters.d.nodeGroups")
