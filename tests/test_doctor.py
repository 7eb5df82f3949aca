"""``hikube-gpu doctor``: the real kubernetes client against recorded API objects.

A local HTTP server (127.0.0.1) answers with the objects in tests/fixtures/doctor and records
every request, so the client's whole code path runs: kubeconfig, auth header, JSON, errors.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from stacks.commands.cli import PROJECT_DIR, main
from stacks.commands.doctor.check import CHECKS
from stacks.commands.doctor.facts import APPS_OPENAPI, KUBERNETES_APP_DEFINITION, VERSION_CONFIG_MAP
from stacks.commands.doctor.reader import READ_ONLY_POSTS, RULES_REVIEW, Reader
from stacks.commands.doctor.version import KUBERNETES_SCHEMA
from tests.fake_api import TOKEN, FakeApi, kubeconfig, listing, running, status

FIXTURES = Path(__file__).parent / "fixtures" / "doctor"
NAMESPACE = "tenant-acme"
KUBEVIRT = "/apis/kubevirt.io/v1/namespaces/cozy-kubevirt/kubevirts/kubevirt"
RELEASES = "/api/v1/namespaces/gpu-operator/secrets"
QUOTAS = f"/api/v1/namespaces/{NAMESPACE}/resourcequotas"
INSTANCE_TYPES = "/apis/instancetype.kubevirt.io/v1beta1/virtualmachineclusterinstancetypes"


def fixture(name: str) -> Any:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else yaml.safe_load(text)


def openapi_document(app_definition: str) -> dict[str, Any]:
    """The apps API's OpenAPI v3 document as cozystack's server builds it: ``spec`` = the values schema."""
    schema = json.loads(fixture(app_definition)["spec"]["application"]["openAPISchema"])
    kind = {"type": "object", "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
            "metadata": {"type": "object"}, "spec": schema}}  # fmt: skip
    return {
        "openapi": "3.0.0",
        "info": {"title": "Cozy"},
        "paths": {},
        "components": {"schemas": {KUBERNETES_SCHEMA: kind}},
    }


def helm_secret(chart_version: str, status_label: str = "deployed") -> dict[str, Any]:
    """The release Secret with Helm's encoding: base64(gzip(JSON)), base64 again as Secret data."""
    secret = fixture("helm-release-gpu-operator.yaml")
    record = {"name": "gpu-operator", "version": 2, "namespace": "gpu-operator",
              "info": {"status": status_label},
              "chart": {"metadata": {"name": "gpu-operator", "version": chart_version, "appVersion": chart_version}}}  # fmt: skip
    helm = base64.b64encode(gzip.compress(json.dumps(record).encode()))
    secret["data"] = {"release": base64.b64encode(helm).decode()}
    secret["metadata"]["labels"]["status"] = status_label
    return secret


def kubevirt_cr(gates: list[str], devices: list[tuple[str, str]], version: str = "v1.9.0") -> dict[str, Any]:
    """KubeVirt's API-testing object with this cluster's name, version, gates and PCI devices."""
    cr = fixture("kubevirt-apitesting-v1.9.0.yaml")
    cr["metadata"].update(name="kubevirt", namespace="cozy-kubevirt")
    configuration = cr["spec"]["configuration"]
    configuration["developerConfiguration"]["featureGates"] = gates
    configuration["permittedHostDevices"] = {
        "pciHostDevices": [
            {"pciVendorSelector": selector, "resourceName": name, "externalResourceProvider": True}
            for selector, name in devices
        ]
    }
    cr["status"]["observedKubeVirtVersion"] = version
    return cr


GATES = ["HotplugVolumes", "ExpandDisks", "LiveMigration"]
DEVICES = [("10DE:26B9", "nvidia.com/AD102GL_L40S"), ("10DE:2321", "nvidia.com/GH100_H100L_94GB")]


class DoctorApi(FakeApi):
    """The fake API with the doctor's two recorded worlds."""

    def tenant(self) -> DoctorApi:
        """A Hikube tenant's view: Cozystack internals forbidden, the apps schema readable."""
        self.deny(VERSION_CONFIG_MAP, KUBERNETES_APP_DEFINITION, f"/api/v1/namespaces/{NAMESPACE}")
        self.serve(APPS_OPENAPI, openapi_document("applicationdefinition-kubernetes-v1.1.2.yaml"))
        self.serve(f"/apis/core.cozystack.io/v1alpha1/tenantnamespaces/{NAMESPACE}",
                   {"apiVersion": "core.cozystack.io/v1alpha1", "kind": "TenantNamespace", "metadata": {"name": NAMESPACE}})  # fmt: skip
        self.serve(QUOTAS, listing("ResourceQuota", [fixture("resourcequota-tenant.yaml")]))
        types = [
            d for d in yaml.safe_load_all((FIXTURES / "clusterinstancetypes-v1.1.2.yaml").read_text()) if d
        ]
        self.serve(INSTANCE_TYPES, listing("VirtualMachineClusterInstancetype", types))
        self.serve(RULES_REVIEW, fixture("rules-read-only.json"), 201)
        return self

    def platform(self) -> DoctorApi:
        """A Cozystack v1.1.2 host seen by its admin."""
        self.serve(VERSION_CONFIG_MAP, fixture("cozystack-version.yaml"))
        self.serve(KUBERNETES_APP_DEFINITION, fixture("applicationdefinition-kubernetes-v1.1.2.yaml"))
        self.serve(APPS_OPENAPI, openapi_document("applicationdefinition-kubernetes-v1.1.2.yaml"))
        self.serve("/api/v1/nodes", fixture("nodes.yaml"))
        self.serve(KUBEVIRT, kubevirt_cr(GATES, DEVICES))
        self.serve(RELEASES, listing("Secret", [helm_secret("v26.7.0")]))
        return self


@pytest.fixture
def api() -> Iterator[DoctorApi]:
    with running(DoctorApi()) as fake:
        yield fake


def stack_file(tmp_path: Path, name: str, **changes: Any) -> Path:
    """A fixture stack with top-level ``hikube-gpu:*`` keys replaced (None removes one)."""
    document = fixture(name)
    for key, value in changes.items():
        full = f"hikube-gpu:{key}"
        if value is None:
            document["config"].pop(full, None)
        else:
            document["config"][full] = value
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document))
    return path


def doctor(
    tmp_path: Path, api: DoctorApi, stack: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    code = main(["doctor", "--config-file", str(stack), "--project-dir", str(PROJECT_DIR),
                 "--kubeconfig", str(kubeconfig(tmp_path, api.url))])  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def line(out: str, check: str) -> str:
    """The report line of ``check`` and its fix line, if any."""
    lines = out.splitlines()
    for index, text in enumerate(lines):
        if text.split()[1:2] == [check] or text.startswith(f"can't tell {check} "):
            following = lines[index + 1] if index + 1 < len(lines) else ""
            return text + ("\n" + following if following.strip().startswith("fix:") else "")
    raise AssertionError(f"no {check} line in:\n{out}")


def assert_only_reads(api: DoctorApi) -> None:
    assert api.requests
    for method, path in api.requests:
        read_only = method == "GET" or (method == "POST" and urlsplit(path).path in READ_ONLY_POSTS)
        assert read_only, (method, path)
    assert api.auth == {f"Bearer {TOKEN}"}


TENANT_CHECKS = ["cozystack-version", "namespace", "gpu-quota", "instance-types", "write-access"]
PLATFORM_CHECKS = ["cozystack-version", "nodes", "kubevirt-version", "kubevirt-feature-gates",
                   "kubevirt-permitted-devices", "gpu-resource-names", "gpu-operator-release", "vm-namespaces"]  # fmt: skip
RAW_VM = {"cuda-lab": {"gpus": {"L40S": 1}, "namespace": "gpu-vms"}}


def test_tenant_all_ok(tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]) -> None:
    platform = {"profile": "hikube", "namespace": "tenant-acme", "apiServer": api.tenant().url}
    stack = stack_file(tmp_path, "stack-tenant.yaml", platform=platform)
    code, out, err = doctor(tmp_path, api, stack, capsys)
    assert (code, err) == (0, "")
    for check in ["api-server", *TENANT_CHECKS]:
        assert line(out, check).startswith("ok "), out
    assert "ephemeralStorage (apps API schema)" in line(out, "cozystack-version")
    assert "nvidia.com/GA100_A100_PCIE_80GB 4/8" in line(out, "gpu-quota")
    assert "6 ok, 0 differs, 0 can't tell" in out
    assert_only_reads(api)


def test_a_credential_for_another_cluster_is_refused_before_any_request(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]
) -> None:
    """``platform.apiServer`` names another server than the credential's: exit 2, both named,
    not one request sent (issue 20.4)."""
    other = "https://api.other-cluster.example:6443"
    platform = {"profile": "hikube", "namespace": "tenant-acme", "apiServer": other}
    code, out, err = doctor(
        tmp_path, api.tenant(), stack_file(tmp_path, "stack-tenant.yaml", platform=platform), capsys
    )
    assert code == 2
    assert out == ""
    assert f"belongs to {other} (hikube-gpu:platform.apiServer)" in err
    assert f"reaches {api.url}" in err
    assert api.requests == []


def test_a_stack_without_its_api_server_gets_the_command_that_records_it(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = doctor(tmp_path, api.tenant(), FIXTURES / "stack-tenant.yaml", capsys)
    assert code == 0
    text = line(out, "api-server")
    assert text.startswith("can't tell api-server")
    assert f"pulumi config set --path hikube-gpu:platform.apiServer {api.url} --stack dev" in text


def test_platform_all_ok(tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = doctor(tmp_path, api.platform(), FIXTURES / "stack-platform.yaml", capsys)
    assert (code, err) == (0, "")
    for check in PLATFORM_CHECKS:
        assert line(out, check).startswith("ok "), out
    assert "Cozystack v1.1 (cozystack-version 35)" in line(out, "cozystack-version")
    assert "chart v26.7.0, revision 2, deployed" in line(out, "gpu-operator-release")
    assert_only_reads(api)


def test_doctor_sends_only_reads_even_when_everything_differs(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.platform().serve(VERSION_CONFIG_MAP, {"data": {"version": "40"}})
    api.serve(KUBEVIRT, kubevirt_cr(["Snapshot"], [], "v1.6.3"))
    api.serve(RELEASES, listing("Secret", []))
    api.serve("/api/v1/nodes", listing("Node", fixture("nodes.yaml")["items"][2:]))  # no GPU node
    stack = stack_file(tmp_path, "stack-platform.yaml", nodes={"gpu-node-9": "vm-passthrough"}, vms=RAW_VM)
    code, out, _ = doctor(tmp_path, api, stack, capsys)
    assert code == 1
    assert all(line(out, check).startswith("differs ") for check in PLATFORM_CHECKS), out
    methods = {method for method, _ in api.requests}
    assert methods == {"GET"}
    api.requests.clear()
    api.tenant().serve(RULES_REVIEW, fixture("rules-tenant-base.json"), 201)
    doctor(tmp_path, api, FIXTURES / "stack-tenant.yaml", capsys)
    assert ("POST", RULES_REVIEW) in api.requests
    assert_only_reads(api)


def test_reader_refuses_to_write() -> None:
    reader = Reader(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="never sends PATCH"):
        reader.send("PATCH", "/apis/apps.cozystack.io/v1alpha1/namespaces/x/vminstances/y", {}, {})


@pytest.mark.parametrize(
    "definition",
    ["applicationdefinition-kubernetes-v1.6.0.yaml", "applicationdefinition-kubernetes-main.yaml"],
)
def test_wrong_profile_from_the_schema_a_tenant_can_read(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str], definition: str
) -> None:
    """Node groups take diskSize from v1.4 and maxUnhealthy/nodeStartupTimeout from v1.6: a v1.6
    (or newer) schema is the cozystack-1.6 profile, whose groups start at minReplicas."""
    api.tenant().serve(APPS_OPENAPI, openapi_document(definition))
    code, out, _ = doctor(tmp_path, api, FIXTURES / "stack-tenant.yaml", capsys)
    assert code == 1
    text = line(out, "cozystack-version")
    assert text.startswith("differs ")
    assert "take maxUnhealthy, nodeStartupTimeout (apps API schema), as on Cozystack v1.6+" in text
    assert "hikube-gpu:platform.profile is hikube" in text
    assert "fix: pulumi config set --path platform.profile cozystack-1.6" in text


@pytest.mark.parametrize(
    ("counter", "expected"),
    [("40", "Cozystack v1.4 (cozystack-version 40), but hikube-gpu:platform.profile is hikube"),
     ("45", "Cozystack v1.5 (cozystack-version 45), but hikube-gpu:platform.profile is hikube"),
     ("54", "Cozystack v1.6+ (cozystack-version 54), but hikube-gpu:platform.profile is hikube"),
     ("39", "Cozystack v1.3 (cozystack-version 39): no profile is written for it")],
)  # fmt: skip
def test_wrong_profile_from_the_version_config_map(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str], counter: str, expected: str
) -> None:
    api.platform().serve(VERSION_CONFIG_MAP, {"data": {"version": counter}})
    code, out, _ = doctor(tmp_path, api, FIXTURES / "stack-platform.yaml", capsys)
    assert code == 1
    text = line(out, "cozystack-version")
    assert expected in text
    fix = {"40": "cozystack-1.4", "45": "cozystack-1.4", "54": "cozystack-1.6"}.get(counter)
    if fix:
        assert f"fix: pulumi config set --path platform.profile {fix}" in text


def test_version_cant_tell_when_every_source_is_forbidden(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.tenant().deny(APPS_OPENAPI)
    code, out, _ = doctor(tmp_path, api, FIXTURES / "stack-tenant.yaml", capsys)
    text = line(out, "cozystack-version")
    assert text.startswith("can't tell cozystack-version")
    assert f"403 Forbidden on {APPS_OPENAPI}" in text
    assert "fix: ask the platform team" in text
    assert code == 0  # nothing differs


def test_missing_node(tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]) -> None:
    nodes = {"gpu-node-1": "vm-passthrough", "gpu-nod-2": "vm-passthrough"}
    stack = stack_file(tmp_path, "stack-platform.yaml", nodes=nodes)
    code, out, _ = doctor(tmp_path, api.platform(), stack, capsys)
    assert code == 1
    text = line(out, "nodes")
    assert text.startswith("differs ")
    assert "no such node: gpu-nod-2" in text
    assert "fix the names in hikube-gpu:nodes.gpu-nod-2" in text


def test_h100_name_mismatch(tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]) -> None:
    kubevirt = fixture("stack-platform.yaml")["config"]["hikube-gpu:kubevirt"]
    kubevirt.pop("resourceNaming")  # Hikube's names: nvidia.com/H100_94GB
    stack = stack_file(tmp_path, "stack-platform.yaml", kubevirt=kubevirt)
    code, out, _ = doctor(tmp_path, api.platform(), stack, capsys)
    assert code == 1
    text = line(out, "gpu-resource-names")
    assert "H100: nodes publish nvidia.com/GH100_H100L_94GB, not nvidia.com/H100_94GB" in text
    assert "L40S" not in text.split(";")[0]
    assert "fix: pulumi config set --path kubevirt.resourceNaming upstream" in text


def test_missing_permitted_device(tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.platform().serve(KUBEVIRT, kubevirt_cr(GATES, DEVICES[:1]))
    code, out, _ = doctor(tmp_path, api, FIXTURES / "stack-platform.yaml", capsys)
    assert code == 1
    text = line(out, "kubevirt-permitted-devices")
    assert "not permitted: 10DE:2321 as nvidia.com/GH100_H100L_94GB" in text
    assert line(out, "kubevirt-feature-gates").startswith("ok ")


def test_feature_gates_the_patch_would_drop(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.platform().serve(KUBEVIRT, kubevirt_cr([*GATES, "Snapshot"], DEVICES))
    code, out, _ = doctor(tmp_path, api, FIXTURES / "stack-platform.yaml", capsys)
    assert code == 1
    text = line(out, "kubevirt-feature-gates")
    assert "would drop Snapshot" in text
    assert "add Snapshot to hikube-gpu:kubevirt.featureGates" in text


def test_chart_version_mismatch(tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.platform().serve(RELEASES, listing("Secret", [helm_secret("v25.10.1")]))
    code, out, _ = doctor(tmp_path, api, FIXTURES / "stack-platform.yaml", capsys)
    assert code == 1
    text = line(out, "gpu-operator-release")
    assert "chart v25.10.1, revision 2, deployed, but hikube-gpu:gpuOperator.version is v26.7.0" in text


def test_write_capable_credential(tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.tenant().serve(RULES_REVIEW, fixture("rules-tenant-base.json"), 201)
    code, out, _ = doctor(tmp_path, api, FIXTURES / "stack-tenant.yaml", capsys)
    assert code == 1
    text = line(out, "write-access")
    assert text.startswith("differs ")
    assert "may create/update/patch/delete apps.cozystack.io objects in tenant-acme" in text
    assert "P1" in text
    assert line(out, "namespace").startswith("ok ")


def test_quota_without_the_name_the_vm_requests(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]
) -> None:
    quota = fixture("resourcequota-tenant.yaml")
    hard = quota["spec"]["hard"]
    for prefix in ("requests.", "limits."):
        hard[f"{prefix}nvidia.com/GH100_H100L_94GB"] = hard.pop(f"{prefix}nvidia.com/H100_94GB")
    api.tenant().serve(QUOTAS, listing("ResourceQuota", [quota]))
    code, out, _ = doctor(tmp_path, api, FIXTURES / "stack-tenant.yaml", capsys)
    assert code == 1
    text = line(out, "gpu-quota")
    assert "H100: the quota has no nvidia.com/H100_94GB (it names nvidia.com/GH100_H100L_94GB" in text


def test_missing_instance_type_and_namespace(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.tenant()
    types = copy.deepcopy(api.body(INSTANCE_TYPES))
    types["items"] = [t for t in types["items"] if t["metadata"]["name"] != "u1.4xlarge"]
    api.serve(INSTANCE_TYPES, types)
    api.serve(f"/apis/core.cozystack.io/v1alpha1/tenantnamespaces/{NAMESPACE}", status(404, "NotFound"), 404)
    code, out, _ = doctor(tmp_path, api, FIXTURES / "stack-tenant.yaml", capsys)
    assert code == 1
    assert "not on the cluster: u1.4xlarge (hikube-gpu:vms.llm.instanceType)" in line(out, "instance-types")
    assert "namespace tenant-acme does not exist" in line(out, "namespace")


def test_unreachable_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    code = main(["doctor", "--config-file", str(FIXTURES / "stack-platform.yaml"),
                 "--kubeconfig", str(kubeconfig(tmp_path, f"http://127.0.0.1:{port}"))])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2
    assert f"http://127.0.0.1:{port} did not answer" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_encrypted_kubeconfig_needs_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "must-not-be-used"))
    stack = stack_file(tmp_path, "stack-tenant.yaml", kubeconfig={"secure": "v1:abc"})
    code = main(["doctor", "--config-file", str(stack)])
    err = capsys.readouterr().err
    assert code == 2
    assert "hikube-gpu:kubeconfig is a Pulumi secret" in err
    assert "`pulumi config get kubeconfig > kc`" in err
    assert "--kubeconfig" in err


def test_invalid_stack_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = stack_file(tmp_path, "stack-tenant.yaml", vms={"ws-1": {"gpus": {"H200": 1}}})
    code = main(["doctor", "--config-file", str(stack), "--kubeconfig", str(tmp_path / "unused")])
    err = capsys.readouterr().err
    assert code == 2
    assert "hikube-gpu:vms.ws-1.gpus.H200" in err


def test_help_lists_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["doctor", "--help"])
    out = capsys.readouterr().out
    for name in CHECKS:
        assert f"  {name} " in out


def test_chart_version_from_the_operator_deployment_when_secrets_are_forbidden(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.platform().deny(RELEASES)
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "gpu-operator", "namespace": "gpu-operator",
                               "labels": {"helm.sh/chart": "gpu-operator-v26.3.1", "app.kubernetes.io/component": "gpu-operator"}}}  # fmt: skip
    api.serve("/apis/apps/v1/namespaces/gpu-operator/deployments/gpu-operator", deployment)
    code, out, _ = doctor(tmp_path, api, FIXTURES / "stack-platform.yaml", capsys)
    assert code == 1
    text = line(out, "gpu-operator-release")
    assert "chart v26.3.1 (helm.sh/chart of the operator Deployment; release Secrets: 403)" in text
    assert "but hikube-gpu:gpuOperator.version is v26.7.0" in text
    api.deny("/apis/apps/v1/namespaces/gpu-operator/deployments/gpu-operator")
    code, out, _ = doctor(tmp_path, api, FIXTURES / "stack-platform.yaml", capsys)
    assert code == 0
    assert line(out, "gpu-operator-release").startswith("can't tell gpu-operator-release")


def test_raw_vm_namespaces(tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]) -> None:
    stack = stack_file(tmp_path, "stack-platform.yaml", vms=RAW_VM)
    code, out, _ = doctor(tmp_path, api.platform(), stack, capsys)
    assert code == 1
    assert "no such namespace: gpu-vms" in line(out, "vm-namespaces")
    api.serve(
        "/api/v1/namespaces/gpu-vms",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gpu-vms"}},
    )
    code, out, _ = doctor(tmp_path, api, stack, capsys)
    assert code == 0
    assert line(out, "vm-namespaces").startswith("ok ")


def test_context_from_the_stack_and_a_plain_kubeconfig_in_the_stack(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stack's own kubeconfig (plain text) is used, with ``platform.context`` over the current one."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "must-not-be-used"))
    api.platform()
    document = yaml.safe_load(kubeconfig(tmp_path, api.url).read_text())
    document["clusters"].append({"name": "dead", "cluster": {"server": "http://127.0.0.1:9"}})
    document["contexts"].append({"name": "dead", "context": {"cluster": "dead", "user": "test"}})
    document["current-context"] = "dead"
    platform = {"context": "test"}
    stack = stack_file(
        tmp_path, "stack-platform.yaml", kubeconfig=yaml.safe_dump(document), platform=platform
    )
    code = main(["doctor", "--config-file", str(stack)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"on {api.url} with hikube-gpu:kubeconfig, context test" in out
    assert_only_reads(api)
    code = main(["doctor", "--config-file", str(stack), "--context", "dead"])
    assert code == 2
    assert "http://127.0.0.1:9 did not answer" in capsys.readouterr().err


# --- untrusted answers (issue 23) and the doctor's advice (issue 25, item 5) ---------------------


def assert_no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text
        assert "Error:" not in text.replace("error:", ""), text


def test_a_list_item_without_metadata_is_cant_tell_not_a_traceback(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]
) -> None:
    """``items: [{"metadata": null}]`` crashed check_instance_types with an AttributeError."""
    api.tenant().serve(INSTANCE_TYPES, listing("VirtualMachineClusterInstancetype", [{"metadata": None}]))
    code, out, err = doctor(tmp_path, api, FIXTURES / "stack-tenant.yaml", capsys)
    assert code == 0, out + err
    text = line(out, "instance-types")
    assert text.startswith("can't tell instance-types")
    assert f"items[0].metadata is null, expected an object (answer of {INSTANCE_TYPES})" in text
    assert "fix: the API server (or a proxy in front of it) sent an answer of the wrong shape" in text
    assert_no_traceback(out, err)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"raw": b'{"apiVersion": "v1", "kind": "VirtualMachineClusterInstancetypeList", "items": [{"metad'},
         f"the answer is not JSON (cut short?) on {INSTANCE_TYPES}"),
        ({"raw": b"[]"}, f"the answer is JSON but not an object (list) on {INSTANCE_TYPES}"),
        ({"body": {"kind": "Status"}}, f"items is missing, expected a list (answer of {INSTANCE_TYPES})"),
        ({"code": 500, "body": status(500, "InternalError")}, f"500 InternalError on {INSTANCE_TYPES}"),
        ({"body": {}, "cut": True}, "the answer broke off"),
    ],
    ids=["truncated-json", "json-list", "no-items", "500", "connection-cut"],
)  # fmt: skip
def test_a_garbled_answer_is_cant_tell_never_differs(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str], answer: dict[str, Any], expected: str
) -> None:
    """A garbled list was read as an empty one: every instance type 'not on the cluster' (differs)."""
    from tests.fake_api import Answer

    body = api.tenant().body(INSTANCE_TYPES)
    if answer.get("cut"):
        answer = {**answer, "body": body}
    api.answer(INSTANCE_TYPES, Answer(**answer))
    code, out, err = doctor(tmp_path, api, FIXTURES / "stack-tenant.yaml", capsys)
    text = line(out, "instance-types")
    assert text.startswith("can't tell instance-types"), out
    assert expected in text
    assert code == 0
    assert_no_traceback(out, err)


def test_a_slow_answer_is_cant_tell_for_its_check_only(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read timeout ended the whole run ("did not answer", exit 2); now it is one check's can't tell."""
    from tests.fake_api import Answer

    monkeypatch.setattr("stacks.commands.doctor.reader.TIMEOUT", (2.0, 0.3))
    api.tenant().answer(QUOTAS, Answer(body=api.body(QUOTAS), delay=1.0))
    code, out, err = doctor(tmp_path, api, FIXTURES / "stack-tenant.yaml", capsys)
    assert code == 0, err
    text = line(out, "gpu-quota")
    assert text.startswith("can't tell gpu-quota")
    assert f"no answer within 0.3 s (GET {QUOTAS})" in text
    assert "fix: run again (a slow or overloaded API server" in text
    assert line(out, "instance-types").startswith("ok ")


def test_a_404_is_not_called_a_permission_problem(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.tenant().serve(QUOTAS, status(404, "NotFound"), 404)
    _, out, _ = doctor(tmp_path, api, FIXTURES / "stack-tenant.yaml", capsys)
    text = line(out, "gpu-quota")
    assert f"404 NotFound on {QUOTAS}" in text
    assert "a 404 is not a permission problem: this server does not serve" in text
    assert "use a credential" not in text
    api.deny(QUOTAS)
    _, out, _ = doctor(tmp_path, api, FIXTURES / "stack-tenant.yaml", capsys)
    assert "fix: use a credential that can list resourcequotas in tenant-acme" in line(out, "gpu-quota")


def test_without_a_kubeconfig_the_error_names_the_three_ways_to_give_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    code = main(["doctor", "--config-file", str(FIXTURES / "stack-tenant.yaml")])
    err = capsys.readouterr().err
    assert code == 2
    assert "~/.kube/config: no kubeconfig at ~/.kube/config; give one with --kubeconfig PATH" in err
    assert "the KUBECONFIG environment variable" in err
    assert "the stack's hikube-gpu:kubeconfig" in err


def test_a_quota_stored_as_a_secret_is_accepted_as_preview_accepts_it(
    tmp_path: Path, api: DoctorApi, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = stack_file(tmp_path, "stack-tenant.yaml", quota={"secure": "v1:AAAAquota"})
    assert main(["preview", "--config-file", str(stack), "--project-dir", str(PROJECT_DIR)]) == 0
    capsys.readouterr()
    code, out, err = doctor(tmp_path, api.tenant(), stack, capsys)
    assert code == 0, err
    assert line(out, "gpu-quota").startswith("ok ")
    assert "v1:AAAAquota" not in out + err


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_insecure_skip_tls_verify_is_said_once_not_per_request(tmp_path: Path, api: DoctorApi) -> None:
    """urllib3 warned once per request (seven InsecureRequestWarnings); now one line says it."""
    import ssl
    import subprocess
    import sys
    import threading
    from http.server import ThreadingHTTPServer

    from tests.fake_api import _handler

    api.platform()
    cert, key = _self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}"
        config = kubeconfig(tmp_path, url, **{"insecure-skip-tls-verify": True})
        result = subprocess.run(
            [sys.executable, "-m", "stacks", "doctor", "--config-file", str(FIXTURES / "stack-platform.yaml"),
             "--kubeconfig", str(config)],
            capture_output=True, text=True, cwd=PROJECT_DIR, check=False, timeout=120,
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "InsecureRequestWarning" not in result.stderr
    assert result.stderr.count("is not checked (insecure-skip-tls-verify in the kubeconfig)") == 1
    assert len(api.received) > 1  # one warning per request before
