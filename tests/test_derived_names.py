"""The names the platform derives, and what a node leaves to pods, as the upstream sources say.

``components.catalog.derived_names`` and ``components.catalog.node_allocatable`` cite template
lines and code at the tag each profile targets; these tests read the vendored copies
(``tests/upstream``) and check every citation and every number against them, and that the
catalog misses no HelmRelease, Job or ``app`` label the templates derive from a name.
"""

from __future__ import annotations

import re
from functools import cache

import pytest

from components.catalog.derived_names import (
    DERIVED_NAMES,
    FLUX_NAME_LABEL,
    HELM_RELEASE,
    JOB_NAME_LABEL,
    LABEL_KEY_NAME,
    LABEL_VALUE,
    DerivedName,
)
from components.catalog.node_allocatable import NODE_RESERVATIONS
from components.catalog.platform import PROFILES
from components.catalog.quantity import GIB, MIB
from components.checks.workload import STATEFULSET_NAME_MAX
from tests.helpers import reference
from tests.upstream.refresh import folder_files, numbered_excerpt

TAGS = {"hikube": "v1.1.2", "cozystack-1.4": "v1.4.0", "cozystack-1.6": "v1.6.0"}
"""The Cozystack tag each profile's entries cite (``DERIVED_NAMES``' docstring)."""


@cache
def templates(tag: str, app: str) -> dict[str, list[str]]:
    """The vendored templates of ``packages/apps/<app>/templates/`` at ``tag``, by path."""
    return folder_files(reference("cozystack", tag, "apps", app, "templates.txt").read_text(encoding="utf-8"))


def excerpt(*parts: str) -> dict[int, str]:
    return numbered_excerpt(reference(*parts).read_text(encoding="utf-8"))


def cited(entry: DerivedName) -> tuple[str, str, int]:
    """(tag, path in the repository, line) of an entry's template source."""
    match = re.fullmatch(r"cozystack/cozystack (v[\d.]+) (packages/apps/[\w/.-]+):(\d+)", entry.source)
    assert match, entry.source
    return match[1], match[2], int(match[3])


def as_template(text: str) -> str:
    """A template line with the release and group placeholders written as the patterns write them."""
    text = re.sub(r"\{\{-?\s*\$?\.Release\.Name\s*\}\}", "{release}", text)
    return re.sub(r"\{\{-?\s*\$?\.?groupName\s*\}\}", "{group}", text).strip().strip('"')


def as_release(pattern: str) -> str:
    for prefix in ("kubernetes-{cluster}", "vm-instance-{vm}", "vm-disk-{disk}"):
        pattern = pattern.replace(prefix, "{release}")
    return pattern


def test_every_profile_has_its_names_and_its_node_reservations() -> None:
    assert set(DERIVED_NAMES) == set(PROFILES) == set(NODE_RESERVATIONS) == set(TAGS)


@pytest.mark.parametrize(
    ("profile", "entry"),
    [(p, e) for p, entries in DERIVED_NAMES.items() for e in entries if e.limit is not HELM_RELEASE],
    ids=lambda value: value.pattern if isinstance(value, DerivedName) else value,
)
def test_each_derived_name_is_on_the_template_line_it_cites(profile: str, entry: DerivedName) -> None:
    tag, path, line = cited(entry)
    assert tag == TAGS[profile]
    app = path.split("/")[2]
    lines = templates(tag, app)[path]
    text = as_template(lines[line - 1])
    if entry.pattern == "{role}":
        assert text.startswith("node-role.kubernetes.io/{{ . }}:"), text
        return
    assert text.endswith(as_release(entry.pattern)), (text, entry.pattern)
    guard = _guard(lines, line)
    if entry.addon is not None:  # rendered only with the add-on on
        assert f".Values.addons.{entry.addon}.enabled" in guard, guard
    elif entry.limit is FLUX_NAME_LABEL:
        assert ".Values.addons." not in guard, guard


def _guard(lines: list[str], line: int) -> str:
    """The template conditions (at the start of a line) still open at ``line`` (1-based)."""
    opened: list[str] = []
    for raw in lines[: line - 1]:
        if re.match(r"\{\{-?\s*(if|range|with|define)\b", raw):
            opened.append(raw)
        elif re.match(r"\{\{-?\s*end\b", raw) and opened:
            opened.pop()
    return " ".join(raw for raw in opened if re.match(r"\{\{-?\s*if\b", raw))


@pytest.mark.parametrize("profile", list(DERIVED_NAMES))
def test_the_helm_release_limit_is_the_platforms_api(profile: str) -> None:
    tag = TAGS[profile]
    lines = excerpt("cozystack", tag, "pkg", "rest-name-length.go.txt")
    sources = {e.source for e in DERIVED_NAMES[profile] if e.limit is HELM_RELEASE}
    assert len(sources) == 1
    first, last = (int(n) for n in sources.pop().rsplit(":", 1)[1].split("-"))
    assert set(lines) == set(range(first, last + 1))
    text = "\n".join(lines.values())
    assert f"const maxHelmReleaseName = {HELM_RELEASE.max}" in text
    assert "maxLen := maxHelmReleaseName - len(r.releaseConfig.Prefix)" in text
    assert "if len(name) > maxLen {" in text


def _released(tag: str) -> set[str]:
    """Every HelmRelease the Kubernetes app's templates name after the release: their suffixes."""
    found = set()
    for lines in templates(tag, "kubernetes").values():
        for index, line in enumerate(lines):
            if line.startswith("kind: HelmRelease"):
                name = next(raw for raw in lines[index:] if raw.startswith("  name:"))
                found.add(as_template(name.split(":", 1)[1]).removeprefix("{release}-"))
    return found


@pytest.mark.parametrize("profile", list(DERIVED_NAMES))
def test_no_helm_release_job_or_app_label_of_the_templates_is_missing(profile: str) -> None:
    tag = TAGS[profile]
    catalog = {as_release(e.pattern) for e in DERIVED_NAMES[profile]}
    releases = {f"{{release}}-{suffix}" for suffix in _released(tag)}
    assert releases <= catalog, releases - catalog
    derived = set()
    for app in ("kubernetes", "vm-instance", "vm-disk"):
        for lines in templates(tag, app).values():
            for index, line in enumerate(lines):
                if re.match(r"\s+(app|k8s-app): .*Release\.Name", line):
                    derived.add(as_template(line.split(":", 1)[1]))
                if line.startswith("kind: Job"):
                    name = next(raw for raw in lines[index:] if raw.startswith("  name:"))
                    name = as_template(name.split(":", 1)[1])
                    if not _kept_short(lines, name):
                        derived.add(name)
    assert derived <= catalog, derived - catalog
    assert len(derived) >= 5


def _kept_short(lines: list[str], name: str) -> bool:
    """A name its template keeps within a label value: ``{{ $prefix }}-{{ $hash }}``, each
    variable cut (``| trunc N``) so that both and the dash fit (v1.6.0's talos-reconcile Job)."""
    match = re.fullmatch(r"\{\{ \$(\w+) \}\}-\{\{ \$(\w+) \}\}", name)
    if not match:
        return False
    cuts = []
    for variable in match.groups():
        definition = next(raw for raw in lines if re.match(rf"\{{\{{-?\s*\${variable} :=", raw))
        cut = re.search(r"\| trunc (\d+)", definition)
        if not cut:
            return False
        cuts.append(int(cut[1]))
    return sum(cuts) + len("-") <= JOB_NAME_LABEL.max


def test_a_job_name_cut_by_its_template_limits_no_name() -> None:
    """cozystack v1.6.0 talos/talos-reconcile-job.yaml:555-565: the prefix cut to 56
    characters, a dash, a hash cut to 6."""
    reconcile = templates("v1.6.0", "kubernetes")[
        "packages/apps/kubernetes/templates/talos/talos-reconcile-job.yaml"
    ]
    name = "{{ $jobName }}-{{ $jobHash }}"
    assert reconcile[564] == f"  name: {name}"
    assert _kept_short(reconcile, name)
    assert not _kept_short([raw.replace("trunc 56", "trunc 57") for raw in reconcile], name)
    assert not _kept_short([raw.replace("| trunc 6", "") for raw in reconcile], name)


def test_flux_labels_every_object_with_its_helm_release_name() -> None:
    build = excerpt("fluxcd", "helm-controller", "v1.4.5", "postrender-build.go.txt")
    assert "NewOriginLabels(v2.GroupVersion.Group, rel.Namespace, rel.Name)" in build[48]
    labels = excerpt("fluxcd", "helm-controller", "v1.4.5", "postrender-common_renderer.go.txt")
    assert 'fmt.Sprintf("%s/name", group):' in labels[80]
    assert labels[80].rstrip().endswith("name,")


def test_the_limits_are_kubernetes_limits() -> None:
    validation = excerpt("kubernetes", "apimachinery", "v0.34.0", "validation.go.txt")
    assert f"const LabelValueMaxLength int = {LABEL_VALUE.max}" in validation[158]
    assert f"const qualifiedNameMaxLength int = {LABEL_KEY_NAME.max}" in validation[33]
    jobs = excerpt("kubernetes", "api", "v0.34.0", "batch-v1-types.go.txt")
    assert 'JobNameLabel = labelPrefix + "job-name"' in jobs[48]
    assert JOB_NAME_LABEL.max == FLUX_NAME_LABEL.max == LABEL_VALUE.max


def test_a_statefulset_name_leaves_room_for_the_revision_hash() -> None:
    """``controller-revision-hash: <name>-<hash>``; the hash encodes a uint32's decimal digits
    one character each (``SafeEncodeString``), so it has at most 10."""
    rand = excerpt("kubernetes", "apimachinery", "v0.34.0", "rand.go.txt")
    assert "r := make([]byte, len(s))" in rand[122]  # one character per character
    longest_hash = len(str(2**32 - 1))
    assert STATEFULSET_NAME_MAX == LABEL_VALUE.max - len("-") - longest_hash == 52


def test_the_tightest_cluster_names_per_profile() -> None:
    """What the data says a cluster name may be: the always-rendered prometheus-operator-crds
    release, and the monitoring add-on's victoria-metrics-operator release when it is on."""
    for profile in DERIVED_NAMES:
        limits = {
            (e.addon, e.limit.max - e.fixed)
            for e in DERIVED_NAMES[profile]
            if e.owner == "cluster" and e.limit is not HELM_RELEASE
        }
        assert min(n for addon, n in limits if addon is None) == 27
        assert min(n for addon, n in limits if addon == "monitoringAgents") == 21


# --- what a node leaves to pods -----------------------------------------------------------------


def test_cozystack_v1_1_2_reserves_nothing_and_kamaji_writes_the_kubelet_defaults() -> None:
    lines = templates("v1.1.2", "kubernetes")["packages/apps/kubernetes/templates/cluster.yaml"]
    assert lines[250].strip() == "kubeletExtraArgs: {}"  # cluster.yaml:251
    assert [line.strip() for line in lines[139:144]] == [
        "kubelet:",
        "cgroupfs: systemd",
        "preferredAddressTypes:",
        "- InternalIP",
        "- ExternalIP",
    ]
    everything = "\n".join(line for chart in templates("v1.1.2", "kubernetes").values() for line in chart)
    for flag in ("system-reserved", "kube-reserved", "systemReserved", "kubeReserved", "eviction-hard"):
        assert flag not in everything
    kamaji = excerpt("kamaji", "edge-26.2.4", "uploadconfig.go.txt")
    assert "kubeletv1beta1.SetDefaults_KubeletConfiguration(&kc)" in kamaji[78]
    kubelet = excerpt("kubernetes", "kubelet", "v0.34.0", "config-v1beta1-types.go.txt")
    assert 'memory.available:  "100Mi"' in kubelet[554]
    assert "Default: nil" in kubelet[692]
    assert "SystemReserved" in kubelet[694]
    assert "Default: nil" in kubelet[700]
    assert "KubeReserved" in kubelet[702]
    defaults = NODE_RESERVATIONS["hikube"]
    assert (defaults.reservations, defaults.eviction_memory_bytes) == (0, 100 * MIB)


def test_cozystack_v1_4_0_reserves_what_its_chart_computes() -> None:
    text = "\n".join(templates("v1.4.0", "kubernetes")["packages/apps/kubernetes/templates/cluster.yaml"])
    reservation = NODE_RESERVATIONS["cozystack-1.4"]
    low, high = reservation.memory_mib
    cpu_low, cpu_high = reservation.cpu_millicores
    assert f"mulf ($effectiveMemMi | float64) 0.0{reservation.percent}" in text
    assert f"min (max $fivePercentMi {low}) {high}" in text
    assert f"min (max $fivePercentMillis {cpu_low}) {cpu_high}" in text
    assert f'$kubeletOverride.evictionHardMemory | default "{reservation.eviction_memory_percent}%"' in text
    flags = re.findall(r"^\s+(system-reserved|kube-reserved): ", text, re.MULTILINE)
    assert sorted(flags) == ["kube-reserved", "system-reserved"]
    assert len(flags) == reservation.reservations


def test_cozystack_v1_6_0_writes_the_reservations_into_the_talos_workers_kubelet() -> None:
    """v1.6.0 workers run Talos: no kubeadm flags any more; the per-group reconcile Job puts
    the reservations and the hard eviction threshold into the machineconfig's kubelet."""
    chart = templates("v1.6.0", "kubernetes")
    job = chart["packages/apps/kubernetes/templates/talos/talos-reconcile-job.yaml"]
    reservation = NODE_RESERVATIONS["cozystack-1.6"]
    low, high = reservation.memory_mib
    cpu_low, cpu_high = reservation.cpu_millicores
    computed = "\n".join(job[515:534])  # :516-534
    assert f"mulf ($effectiveMemMi | float64) 0.0{reservation.percent}" in computed
    assert f"min (max $fivePercentMi {low}) {high}" in computed
    assert f"min (max $fivePercentMillis {cpu_low}) {cpu_high}" in computed
    assert (
        f'$kubeletOverride.evictionHardMemory | default "{reservation.eviction_memory_percent}%"' in computed
    )
    assert [line.strip() for line in job[393:404]] == [  # :394-404
        "kubelet:",
        "image: ghcr.io/siderolabs/kubelet:{{ .kubeletVersion }}",
        "extraConfig:",
        "systemReserved:",
        'cpu: "{{ .systemReservedCpu }}"',
        'memory: "{{ .systemReservedMemory }}"',
        "kubeReserved:",
        'cpu: "{{ .kubeReservedCpu }}"',
        'memory: "{{ .kubeReservedMemory }}"',
        "evictionHard:",
        'memory.available: "{{ .evictionHardMemory }}"',
    ]
    assert reservation.reservations == 2  # systemReserved and kubeReserved
    assert '$_ := set $jobContext "systemReservedMemory" $systemReservedMemory' in "\n".join(job)
    # cluster.yaml computes the same numbers for its checks and the autoscaler's annotations
    assert chart["packages/apps/kubernetes/templates/cluster.yaml"][549:568] == job[515:534]  # :550-568
    everything = "\n".join(line for lines in chart.values() for line in lines)
    assert "kind: KubeadmConfigTemplate" not in everything
    assert not re.findall(r"^\s+(kubeletExtraArgs|system-reserved|kube-reserved):", everything, re.MULTILINE)


@pytest.mark.parametrize(
    ("profile", "vcpu", "memory", "millicores", "memory_mib"),
    [
        # no reservation: all CPUs, the memory less the 100Mi eviction threshold
        ("hikube", 8, 32 * GIB, 8000, 32 * 1024 - 100),
        # 5% of 32768Mi is 1638Mi, clamped to 1024Mi, twice; 7% of the memory evicts;
        # CPU: 5% of 8000m is 400m, twice. The chart's autoscaler annotation says 28426Mi and 7200m.
        ("cozystack-1.4", 8, 32 * GIB, 7200, 28426),
        # small nodes: 5% of 4096Mi is 204Mi, raised to 256Mi; 5% of 2000m is 100m
        ("cozystack-1.4", 2, 4 * GIB, 1800, 3297),
        # v1.6.0 computes the same
        ("cozystack-1.6", 8, 32 * GIB, 7200, 28426),
        ("cozystack-1.6", 2, 4 * GIB, 1800, 3297),
    ],
)
def test_allocatable_per_profile(
    profile: str, vcpu: int, memory: int, millicores: int, memory_mib: int
) -> None:
    left = NODE_RESERVATIONS[profile].allocatable(vcpu, memory)
    assert (left.millicores, left.memory_bytes // MIB) == (millicores, memory_mib)
