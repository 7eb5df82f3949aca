"""The policy pack sees GPU misconfigurations in every shape a real program registers them in.

Each shape has a violating and a compliant resource, run through the real CrossGuard
wiring (``gpu_policies.POLICIES``); the pack's tables are the catalog's, and its quota
means what the stack rules mean.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from components.catalog import gpus as catalog_gpus
from components.catalog.gpus import GpuModelName
from components.catalog.platform import PROFILES
from stacks.commands.cli import PROJECT_DIR
from stacks.validation.config import parse
from stacks.validation.rules import check_tenant
from tests.helpers import SSH_KEY, base_config, run_config

sys.path.insert(0, str(PROJECT_DIR / "policy"))
import catalog_tables
import gpu_policies
import stack_rules
from pulumi_policy import (
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

from policy import generate_tables

POLICIES = {p.name: p for p in gpu_policies.POLICIES}
L40S = "nvidia.com/AD102GL_L40S"
Resource = tuple[str, dict[str, Any]]


def violations(policy: str, resources: list[Resource], config: dict[str, Any] | None = None) -> list[str]:
    """Messages ``policy`` reports for ``resources``, through pulumi_policy's own argument types."""
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    urns = [f"urn:pulumi:test::proj::{kind}::r{i}" for i, (kind, _) in enumerate(resources)]
    target = POLICIES[policy]
    if isinstance(target, ResourceValidationPolicy):
        for urn, (kind, props) in zip(urns, resources, strict=True):
            target.validate(ResourceValidationArgs(kind, props, urn, urn, None, None, config), report)  # type: ignore[arg-type]
    else:
        stack = [
            PolicyResource(kind, props, urn, urn, None, None, None, [], {})  # type: ignore[arg-type]
            for urn, (kind, props) in zip(urns, resources, strict=True)
        ]
        target.validate(StackValidationArgs(stack, config), report)  # type: ignore[attr-defined]
    return found


def devices(gpus: list[str] | None = None, host: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if gpus is not None:
        out["gpus"] = [{"name": f"gpu{i}", "deviceName": d} for i, d in enumerate(gpus)]
    if host is not None:
        out["hostDevices"] = [{"name": f"dev{i}", "deviceName": d} for i, d in enumerate(host)]
    return out


def vmi_spec(
    devs: dict[str, Any], eviction: str | None = "None", cpu: dict[str, Any] | None = None
) -> dict[str, Any]:
    domain: dict[str, Any] = {"devices": devs, **({"cpu": cpu} if cpu else {})}
    return {"domain": domain, **({"evictionStrategy": eviction} if eviction else {})}


def vm(devs: dict[str, Any], kind: str = "u1.2xlarge", eviction: str | None = "None") -> Resource:
    spec = {"instancetype": {"name": kind}, "template": {"spec": vmi_spec(devs, eviction)}}
    return "kubernetes:kubevirt.io/v1:VirtualMachine", {"spec": spec}


def vmi(devs: dict[str, Any], eviction: str | None = "None", cpu: dict[str, Any] | None = None) -> Resource:
    return "kubernetes:kubevirt.io/v1:VirtualMachineInstance", {"spec": vmi_spec(devs, eviction, cpu)}


def pool(
    devs: dict[str, Any],
    kind: str = "u1.2xlarge",
    eviction: str | None = "None",
    replicas: int | None = None,
    api: str = "v1alpha1",
) -> Resource:
    template = {"instancetype": {"name": kind}, "template": {"spec": vmi_spec(devs, eviction)}}
    spec: dict[str, Any] = {"virtualMachineTemplate": {"spec": template}}
    if replicas is not None:
        spec["replicas"] = replicas
    return f"kubernetes:pool.kubevirt.io/{api}:VirtualMachinePool", {"spec": spec}


def kubevirt(config: dict[str, Any], patch: bool = False) -> Resource:
    kind = "KubeVirtPatch" if patch else "KubeVirt"
    return f"kubernetes:kubevirt.io/v1:{kind}", {"spec": {"configuration": config}}


def permitted(*entries: tuple[str, str], mediated: bool = False) -> dict[str, Any]:
    key, selector = (
        ("mediatedDevices", "mdevNameSelector") if mediated else ("pciHostDevices", "pciVendorSelector")
    )
    return {key: [{"resourceName": name, selector: sel} for name, sel in entries]}


# --- GPUs under hostDevices, in VirtualMachineInstances and VirtualMachinePools ------------------

SAFETY = "gpu-vm-no-overcommit-no-live-migration"

SHAPE_CASES = [
    # (policy, violating resource, compliant resource, expected message fragment)
    (SAFETY, vm(devices(host=[L40S]), kind="o1.2xlarge"), vm(devices(host=[L40S])), "o1.2xlarge"),
    (SAFETY, vm(devices(host=[L40S]), eviction="LiveMigrate"), vm(devices(host=[L40S])), "LiveMigrate"),
    (SAFETY, vmi(devices(gpus=[L40S]), eviction="LiveMigrate"), vmi(devices(gpus=[L40S])), "LiveMigrate"),
    (SAFETY, vmi(devices(host=[L40S]), eviction="LiveMigrate"), vmi(devices(host=[L40S])), "cannot migrate"),
    (SAFETY, pool(devices(gpus=[L40S]), kind="o1.4xlarge"), pool(devices(gpus=[L40S])), "overcommits memory"),
    (SAFETY, pool(devices(host=[L40S]), eviction="LiveMigrate"), pool(devices(host=[L40S])), "LiveMigrate"),
    (
        SAFETY,
        pool(devices(gpus=[L40S]), kind="o1.xlarge", api="v1beta1"),
        pool(devices(gpus=[L40S]), api="v1beta1"),
        "o1.xlarge",
    ),
    (
        "gpu-vm-vcpu-per-gpu",
        vmi(devices(host=[L40S, L40S]), cpu={"cores": 4}),
        vmi(devices(host=[L40S, L40S]), cpu={"cores": 8, "sockets": 2}),
        "domain.cpu gives 2 vCPU per GPU",
    ),
    (
        "gpu-vm-vcpu-per-gpu",
        pool(devices(gpus=[L40S, L40S]), kind="u1.2xlarge"),
        pool(devices(gpus=[L40S, L40S]), kind="u1.4xlarge"),
        "u1.2xlarge gives 4 vCPU per GPU",
    ),
]


@pytest.mark.parametrize(("policy", "bad", "good", "expected"), SHAPE_CASES)
def test_vm_shapes_are_checked(policy: str, bad: Resource, good: Resource, expected: str) -> None:
    found = violations(policy, [bad])
    assert len(found) == 1, found
    assert expected in found[0]
    assert violations(policy, [good]) == []


def test_a_host_device_that_is_not_an_nvidia_gpu_makes_no_gpu_vm() -> None:
    assert violations(SAFETY, [vm(devices(host=["intel.com/qat"]), kind="o1.2xlarge")]) == []


SHAPES_OF_A_GPU = {
    "vm-hostDevices": lambda device: vm(devices(host=[device])),
    "vmi-gpus": lambda device: vmi(devices(gpus=[device])),
    "vmi-hostDevices": lambda device: vmi(devices(host=[device])),
    "pool-hostDevices": lambda device: pool(devices(host=[device])),
    "pool-v1beta1-gpus": lambda device: pool(devices(gpus=[device]), api="v1beta1"),
}


@pytest.mark.parametrize("shape", SHAPES_OF_A_GPU.values(), ids=list(SHAPES_OF_A_GPU))
def test_vm_gpus_in_every_shape_must_be_permitted(shape: Any) -> None:
    config = kubevirt({"permittedHostDevices": permitted((L40S, "10DE:26B9"))}, patch=True)
    assert violations("vm-gpu-devices-permitted", [config, shape("nvidia.com/GP102GL_Tesla_P40")]) == [
        "GPU nvidia.com/GP102GL_Tesla_P40 is not in the stack's KubeVirt permittedHostDevices"
    ]
    assert violations("vm-gpu-devices-permitted", [config, shape(L40S)]) == []


def test_a_permitted_gpu_has_the_pci_selector_of_its_model() -> None:
    bad = kubevirt({"permittedHostDevices": permitted((L40S, "10DE:20B5"))})
    good = kubevirt({"permittedHostDevices": permitted((L40S, "10de:26b9"))})
    assert violations("vm-gpu-devices-permitted", [bad]) == [
        "permittedHostDevices maps nvidia.com/AD102GL_L40S to 10DE:20B5, but that GPU is 10DE:26B9"
    ]
    assert violations("vm-gpu-devices-permitted", [good]) == []


def test_a_pool_counts_its_replicas_against_the_quota() -> None:
    three = pool(devices(host=[L40S]), replicas=3)
    assert violations("stack-gpu-quota", [three], {"quota": {"L40S": 2}}) == [
        "the stack may hold 3 L40S GPUs but its quota is 2"
    ]
    assert violations("stack-gpu-quota", [three], {"quota": {"L40S": 3}}) == []
    assert violations("stack-gpu-quota", [pool(devices(host=[L40S]))], {"quota": {"L40S": 1}}) == []


# --- the GPU Operator chart: every Helm resource, only exact versions pin ------------------------

HELM_KINDS = {
    "release-v3": "kubernetes:helm.sh/v3:Release",
    "chart-v3": "kubernetes:helm.sh/v3:Chart",
    "chart-v4": "kubernetes:helm.sh/v4:Chart",
    "flux": "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease",
}
REPO = "https://helm.ngc.nvidia.com/nvidia"


def chart(kind: str, name: str = "gpu-operator", version: str | None = None, values: Any = None) -> Resource:
    """The resource ``kind`` deploying chart ``name`` at ``version`` (None: not set)."""
    pinned = {} if version is None else {"version": version}
    if kind == "flux":
        spec = {"chart": {"spec": {"chart": name, **pinned}}, **({"values": values} if values else {})}
        return HELM_KINDS[kind], {"spec": spec}
    props: dict[str, Any] = {"chart": name, **({"values": values} if values else {})}
    if kind == "chart-v3":  # the Node SDK's ChartOpts: version and repo may sit in fetchOpts
        props["fetchOpts"] = {"repo": REPO, **pinned}
    else:
        props.update(pinned, repositoryOpts={"repo": REPO})
    return HELM_KINDS[kind], props


UNPINNED = ["^26", "~26.7", ">=26", ">=v26.0.0", "26.x", "*", "", "latest", "v26.7", None]


@pytest.mark.parametrize("kind", HELM_KINDS)
@pytest.mark.parametrize("version", UNPINNED)
def test_an_unpinned_gpu_operator_is_flagged_in_every_helm_shape(kind: str, version: str | None) -> None:
    found = violations("gpu-operator-chart-pinned", [chart(kind, version=version)])
    assert len(found) == 1, found
    assert "is not an exact version" in found[0]


@pytest.mark.parametrize("kind", HELM_KINDS)
@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("gpu-operator", "v26.7.0"),
        ("nvidia/gpu-operator", "26.7.0"),
        ("oci://nvcr.io/nvidia/gpu-operator", "v26.7.0-rc.1"),
        ("https://helm.ngc.nvidia.com/nvidia/charts/gpu-operator-v26.7.0.tgz", None),
        ("./charts/gpu-operator", None),
        ("ingress-nginx", "^4"),  # not the GPU Operator
    ],
)
def test_a_pinned_gpu_operator_passes_in_every_helm_shape(kind: str, name: str, version: str | None) -> None:
    assert violations("gpu-operator-chart-pinned", [chart(kind, name, version)]) == []


# --- secrets in Helm values --------------------------------------------------------------------

FAKE = "Z" * 40
TOKENS = {
    "a GitHub token": "ghp_" + FAKE,
    "a GitLab token": "glpat-" + FAKE[:20],
    "a Slack token": "xoxb-1234-" + FAKE[:12],
    "an AWS access key ID": "AKIA" + "Q" * 16,
    "a JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLW5vdC1yZWFs",
    "a PEM private key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn...\n",
    "an NGC API key": "nvapi-" + FAKE + "_" + FAKE[:23],
}


@pytest.mark.parametrize("kind", HELM_KINDS)
@pytest.mark.parametrize("what", TOKENS)
def test_token_shapes_are_found_anywhere_in_values(kind: str, what: str) -> None:
    values = {"extra": {"args": [f"--header=Authorization: Bearer {TOKENS[what]}"]}}
    found = violations("helm-values-without-secrets", [chart(kind, "app", "1.0.0", values)])
    assert found == [f"values.extra.args[0] looks like a secret ({what})"]


SECRET_VALUES = [
    (
        {"env": [{"name": "API_TOKEN", "value": "s3cr3t-value"}]},
        "values.env[0] (API_TOKEN) looks like a secret (an environment variable set in clear)",
    ),
    (
        {"driver": {"env": [{"name": "NGC_PASSWORD", "value": 123456}]}},
        "values.driver.env[0] (NGC_PASSWORD) looks like a secret (an environment variable set in clear)",
    ),
    ({"db": {"password": 123456}}, "values.db.password looks like a secret (by its key)"),
    ({"grafana": {"adminPassword": "0000"}}, "values.grafana.adminPassword looks like a secret (by its key)"),
    ({"ngcApiKey": "abc"}, "values.ngcApiKey looks like a secret (by its key)"),
]
CLEAN_VALUES: list[dict[str, Any]] = [
    {"env": [{"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "ngc", "key": "token"}}}]},
    {"env": [{"name": "TOKEN_FILE", "value": "/var/run/secrets/token"}, {"name": "DEBUG", "value": "1"}]},
    {"driver": {"licensingConfig": {"secretName": "licensing-config"}, "secretEnv": "driver-env"}},
    {"auth": {"existingSecret": "grafana-admin", "passwordEnabled": True, "password": "[secret]"}},
    {"imagePullSecrets": ["ngc-secret"], "retries": 123456},
    {"auth": {"tokenTTL": 3600, "passwordLength": 16, "secretType": "Opaque"}},
]


@pytest.mark.parametrize("kind", HELM_KINDS)
@pytest.mark.parametrize(("values", "expected"), SECRET_VALUES)
def test_secret_values_are_found(kind: str, values: dict[str, Any], expected: str) -> None:
    assert violations("helm-values-without-secrets", [chart(kind, "app", "1.0.0", values)]) == [expected]


@pytest.mark.parametrize("values", CLEAN_VALUES)
def test_references_to_secrets_are_not_secrets(values: dict[str, Any]) -> None:
    assert violations("helm-values-without-secrets", [chart("chart-v4", "app", "1.0.0", values)]) == []


# --- cluster-wide LiveMigrate with GPUs --------------------------------------------------------

LIVE = "kubevirt-no-live-migrate-with-gpus"
GPUS_PERMITTED = permitted((L40S, "10DE:26B9"))


def test_cluster_wide_live_migrate_is_flagged_where_gpus_are_permitted() -> None:
    found = violations(
        LIVE, [kubevirt({"evictionStrategy": "LiveMigrate", "permittedHostDevices": GPUS_PERMITTED})]
    )
    assert len(found) == 1
    assert f"it permits GPU host devices ({L40S})" in found[0]
    assert "every node drain would block" in found[0]


def test_cluster_wide_live_migrate_from_a_patch_is_flagged_when_gpu_vms_inherit_it() -> None:
    found = violations(
        LIVE,
        [kubevirt({"evictionStrategy": "LiveMigrate"}, patch=True), vm(devices(gpus=[L40S]), eviction=None)],
    )
    assert len(found) == 1
    assert "GPU VMs inherit it (r1)" in found[0]


@pytest.mark.parametrize(
    "resources",
    [
        [kubevirt({"evictionStrategy": "LiveMigrateIfPossible", "permittedHostDevices": GPUS_PERMITTED})],
        [kubevirt({"evictionStrategy": "LiveMigrate"}), vm(devices(gpus=[L40S]), eviction="None")],
        [kubevirt({"evictionStrategy": "LiveMigrate"}), vm(devices(host=["intel.com/qat"]), eviction=None)],
        [
            kubevirt(
                {
                    "evictionStrategy": "LiveMigrate",
                    "permittedHostDevices": permitted(
                        ("nvidia.com/NVIDIA_A100-4C", "GRID A100-4C"), mediated=True
                    ),
                    "developerConfiguration": {"featureGates": ["VGPULiveMigration"]},
                }
            )
        ],
    ],
    ids=["if-possible", "vms-opt-out", "no-gpus", "vgpu-live-migration"],
)
def test_cluster_wide_eviction_that_spares_gpu_vms_passes(resources: list[Resource]) -> None:
    assert violations(LIVE, resources) == []


# --- GPU ResourceQuotas need the requests. prefix ----------------------------------------------

QUOTA = "kubernetes:core/v1:ResourceQuota"


def resource_quota(hard: dict[str, Any]) -> Resource:
    return QUOTA, {"metadata": {"namespace": "ml"}, "spec": {"hard": hard}}


@pytest.mark.parametrize("key", ["nvidia.com/gpu", "limits.nvidia.com/gpu", "nvidia.com/AD102GL_L40S"])
def test_a_gpu_quota_without_the_requests_prefix_is_flagged(key: str) -> None:
    name = key.removeprefix("limits.")
    assert violations("gpu-quota-uses-requests-prefix", [resource_quota({key: 4, "cpu": "8"})]) == [
        f"spec.hard {key}: Kubernetes ignores quotas on extended resources unless they are written "
        f"requests.<resource>; write requests.{name}"
    ]
    assert violations("gpu-quota-uses-requests-prefix", [resource_quota({f"requests.{name}": 4})]) == []


def test_an_unprefixed_quota_does_not_count_as_the_namespace_gpu_quota() -> None:
    pod = (
        "kubernetes:core/v1:Pod",
        {
            "metadata": {"namespace": "ml"},
            "spec": {"containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": 1}}}]},
        },
    )
    assert violations("gpu-namespaces-have-quota", [pod, resource_quota({"nvidia.com/gpu": 4})]) == [
        "namespace ml has no ResourceQuota on requests.nvidia.com/gpu"
    ]
    assert (
        violations("gpu-namespaces-have-quota", [pod, resource_quota({"requests.nvidia.com/gpu": 4})]) == []
    )


# --- the tables are the catalog's --------------------------------------------------------------


def test_the_generated_tables_are_up_to_date() -> None:
    written = Path(generate_tables.TARGET).read_text(encoding="utf-8")
    assert written == generate_tables.render(), (
        "policy/catalog_tables.py is stale: run .venv/bin/python -m policy.generate_tables"
    )


def test_the_generated_tables_follow_a_catalog_change(monkeypatch: pytest.MonkeyPatch) -> None:
    l40s = catalog_gpus.GPU_MODELS[GpuModelName.L40S]
    changed = {**catalog_gpus.GPU_MODELS, GpuModelName.L40S: replace(l40s, pci_device_id="FFFF")}
    monkeypatch.setattr(generate_tables, "GPU_MODELS", changed)
    assert '"L40S": "10DE:FFFF"' in generate_tables.render()
    assert generate_tables.render() != Path(generate_tables.TARGET).read_text(encoding="utf-8")


def test_the_pack_sizes_node_groups_like_the_platform_profiles() -> None:
    for name, profile in PROFILES.items():
        for low in range(4):
            for high in range(low, 5):
                scale = profile.kubernetes.node_group_scale(low, high)
                assert stack_rules.node_group_nodes(name, low, high) == (scale.steady_max, scale.peak)
    assert set(POLICIES["stack-gpu-quota"].config_schema.properties["platform"]["enum"]) == set(PROFILES)  # type: ignore[union-attr]
    assert catalog_tables.DEFAULT_PLATFORM in PROFILES


# --- the quota means what the stack rules mean -------------------------------------------------

VMS = {
    "ws": {"gpus": {"L40S": 1}, "sshKeys": [SSH_KEY]},
    "trainer": {"gpus": {"A100": 2}, "instanceType": "u1.4xlarge", "sshKeys": [SSH_KEY]},
}
CLUSTERS = {
    "ml": {
        "nodeGroups": {
            "l40s": {"gpus": {"L40S": 1}, "instanceType": "u1.2xlarge", "minReplicas": 0, "maxReplicas": 1}
        }
    }
}
QUOTAS = [{"L40S": 3}, {"L40S": 2, "A100": 2}, {"L40S": 4, "A100": 2}, {"L40S": 1, "A100": 1}, {}]


GPUS_BY_MODEL = re.compile(r"(\d+) (\w+) GPUs")


def _held(messages: list[str]) -> dict[str, int]:
    """{model: GPUs} from quota messages (the stack rules' and the pack's say "N MODEL GPUs")."""
    return {model: int(n) for m in messages for n, model in GPUS_BY_MODEL.findall(m)}


@pytest.mark.parametrize("quota", QUOTAS, ids=[str(q) for q in QUOTAS])
def test_the_pack_quota_flags_what_the_stack_rules_flag(tmp_path: Path, quota: dict[str, int]) -> None:
    """Same config, same quota: the stack rules' errors and warnings are the pack's mandatory
    and advisory violations, model by model and count by count. Unlisted models get 0 in both."""
    config = base_config(vms=VMS, clusters=CLUSTERS)
    run = run_config(tmp_path, config)
    assert run.failure is None, run.failure
    resources = [(r.type, r.inputs) for r in run.resources if r.custom and r.type.startswith("kubernetes:")]

    problems = [
        p for p in check_tenant(parse({**config, "quota": quota})) if p.path.startswith("hikube-gpu:quota")
    ]
    errors = _held([p.message for p in problems if p.severity == "error"])
    warnings = _held([p.message for p in problems if p.severity == "warning"])

    settings = {"quota": quota, "platform": "hikube"}
    assert _held(violations("stack-gpu-quota", resources, settings)) == errors
    assert _held(violations("stack-gpu-quota-rollouts", resources, settings)) == warnings


def test_every_policy_is_documented() -> None:
    page = (PROJECT_DIR / "docs" / "policy-pack.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \| (?:mandatory|advisory) \|", page, re.MULTILINE))
    assert documented == set(POLICIES)
    for name, policy in POLICIES.items():
        level = policy.enforcement_level.value  # type: ignore[union-attr]
        assert f"| `{name}` | {level} |" in page, name
