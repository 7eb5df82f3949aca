"""Checks of each VM: its VMInstance and VMDisks Ready, the VM running, its GPUs attached.

A Cozystack app reports its HelmRelease's ``Ready`` condition (cozystack v1.1.2
``pkg/registry/apps/application/rest.go`` copies ``Ready``/``Released``); the KubeVirt VM and
its VirtualMachineInstance (VMI) are named ``vm-instance-<vm>`` (the vm-instance chart). A
VMI runs only once virt-launcher got every GPU in ``spec.domain.devices.gpus`` from the
device plugin, so "running with these GPUs in its spec" is "these GPUs attached".
"""

from __future__ import annotations

from collections import Counter

from stacks.commands.doctor.check import CANT_TELL, DIFFERS, OK, Check, Status, fix_for, guarded
from stacks.commands.doctor.reader import Fetched
from stacks.commands.doctor.shape import Json
from stacks.commands.verify.expect import RUNNING, VmExpectation
from stacks.commands.verify.facts import VmFacts
from stacks.commands.verify.objects import condition


def _app_state(kind: str, name: str, fetched: Fetched) -> tuple[Status, str, str]:
    """(status, what, fix) of one Cozystack app from its Ready condition."""
    if fetched.missing:
        return DIFFERS, f"{kind} {name} does not exist", "`pulumi up` creates it"
    if not fetched.ok:
        return CANT_TELL, fetched.why(), fix_for(fetched, f"use a credential that can get {kind.lower()}s")
    ready = condition(Json.of(fetched), "Ready")
    if ready is None:
        return (
            DIFFERS,
            f"{kind} {name} has no Ready condition yet (its release has not run)",
            "wait, then run again",
        )
    if not ready.true:
        return (
            DIFFERS,
            f"{kind} {name} is not Ready ({ready.text()})",
            f"see `kubectl describe helmrelease` of {kind.lower()} {name} and fix what it says",
        )
    return OK, f"{kind} {name} Ready", ""


def check_vm_instance(vm: VmExpectation, facts: VmFacts) -> Check:
    assert facts.instance is not None, "tenant VMs have a VMInstance"
    status, what, fix = _app_state("VMInstance", vm.name, facts.instance)
    return Check("vm-instance", status, what, fix, vm.subject)


def check_vm_disks(vm: VmExpectation, facts: VmFacts) -> Check:
    states = [_app_state("VMDisk", disk, fetched) for disk, fetched in facts.disks.items()]
    for status in (DIFFERS, CANT_TELL):
        found = [(what, fix) for s, what, fix in states if s == status]
        if found:
            fixes = "; ".join(dict.fromkeys(fix for _, fix in found if fix))
            return Check("vm-disks", status, "; ".join(what for what, _ in found), fixes, vm.subject)
    return Check("vm-disks", OK, "Ready: " + ", ".join(facts.disks), "", vm.subject)


def _printable(vm: Fetched) -> str:
    """The VirtualMachine's ``status.printableStatus`` (``Starting``, ``ErrorUnschedulable``…)."""
    if not vm.ok:
        return ""
    return Json.of(vm).object("status").text("printableStatus", "") or ""


def check_vm_running(vm: VmExpectation, facts: VmFacts) -> Check:
    status, what, fix = _vm_says(vm, facts) if _vmi_forbidden(facts) else _running(vm, facts)
    return Check("vm-running", status, what, fix, vm.subject)


def _vmi_forbidden(facts: VmFacts) -> bool:
    """Cozystack's tenant roles may get VirtualMachines but not their VMIs (cozystack v1.1.2
    ``packages/system/cozystack-basics/templates/clusterroles.yaml``): then the VM's status
    (``ready``, ``printableStatus``, which KubeVirt takes from its VMI) answers."""
    return facts.vmi.denied and facts.vm.ok


def _vm_ready(facts: VmFacts) -> tuple[bool, str]:
    status = Json.of(facts.vm).object("status")
    return status.flag("ready"), status.text("printableStatus", "") or "no status yet"


SOURCE = " (the VirtualMachine's status: its VMI is not readable with this credential)"


def _vm_says(vm: VmExpectation, facts: VmFacts) -> tuple[Status, str, str]:
    ready, state = _vm_ready(facts)
    if vm.run_strategy == "Halted":
        if ready:
            return DIFFERS, f"runs ({state}), but runStrategy is Halted{SOURCE}", "`pulumi up` stops it"
        return OK, f"stopped, as runStrategy Halted says: {state}{SOURCE}", ""
    if ready and state == "Running":
        return OK, f"Running and Ready{SOURCE}", ""
    if vm.run_strategy in RUNNING:
        fix = f"see `kubectl describe vm {vm.kubevirt_name} -n {vm.namespace}`"
        return DIFFERS, f"not running: {state}{SOURCE}", fix
    return OK, f"{state} (runStrategy {vm.run_strategy}){SOURCE}", ""


def _running(vm: VmExpectation, facts: VmFacts) -> tuple[Status, str, str]:
    if not facts.vmi.ok and not facts.vmi.missing:
        return (
            CANT_TELL,
            facts.vmi.why(),
            fix_for(facts.vmi, "use a credential that can get virtualmachineinstances"),
        )
    if facts.vm.missing:
        fix = "see the vm-instance check" if vm.app else "`pulumi up` creates it"
        return DIFFERS, f"no VirtualMachine {vm.kubevirt_name} in {vm.namespace}", fix
    state = _printable(facts.vm)
    shown = f" (VirtualMachine: {state})" if state else ""
    if facts.vmi.missing:
        return _not_running(vm, shown)
    vmi = Json.of(facts.vmi)
    phase = vmi.object("status").text("phase", "") or "no phase yet"
    ready = condition(vmi, "Ready")
    if vm.run_strategy == "Halted":
        return (
            DIFFERS,
            f"runs ({phase}), but runStrategy is Halted",
            "`pulumi up` stops it, or set runStrategy",
        )
    if phase == "Running" and ready is not None and ready.true:
        return OK, f"Running and Ready on {vmi.object('status').text('nodeName', '') or '?'}", ""
    why = phase + (f", Ready: {ready.text()}" if ready is not None and not ready.true else "")
    return (
        DIFFERS,
        f"not running yet: {why}{shown}",
        f"see `kubectl describe vmi {vm.kubevirt_name} -n {vm.namespace}`",
    )


def _not_running(vm: VmExpectation, shown: str) -> tuple[Status, str, str]:
    """No VMI: right for a halted VM, wrong for one that should run."""
    if vm.run_strategy == "Halted":
        return OK, f"stopped, as runStrategy Halted says{shown}", ""
    if vm.run_strategy in RUNNING:
        return (
            DIFFERS,
            f"not running: no VirtualMachineInstance {vm.kubevirt_name}{shown}",
            f"see `kubectl describe vm {vm.kubevirt_name} -n {vm.namespace}` (scheduling, GPUs, quota)",
        )
    return OK, f"not running (runStrategy {vm.run_strategy}){shown}", ""


def _gpus(obj: Json, *path: str) -> list[str]:
    node = obj
    for key in path:
        node = node.object(key)
    return [gpu.need_text("deviceName") for gpu in node.objects("gpus")]


def check_vm_gpus(vm: VmExpectation, facts: VmFacts) -> Check:
    status, what, fix = _attached(vm, facts) if facts.vmi.ok else _declared(vm, facts)
    return Check("vm-gpus", status, what, fix, vm.subject)


def _attached(vm: VmExpectation, facts: VmFacts) -> tuple[Status, str, str]:
    """From the running VMI."""
    expected, wanted = Counter(vm.gpus), _describe(Counter(vm.gpus))
    attached = Counter(_gpus(Json.of(facts.vmi), "spec", "domain", "devices"))
    if attached != expected:
        return (
            DIFFERS,
            f"the VMI asks for {_describe(attached)}, the stack for {wanted}",
            "`pulumi up` (the VM takes the new GPUs at its next restart)",
        )
    if Json.of(facts.vmi).object("status").text("phase") == "Running":
        return OK, f"attached: {wanted}", ""
    return CANT_TELL, f"the VMI asks for {wanted} but does not run yet", "see vm-running"


def _declared(vm: VmExpectation, facts: VmFacts) -> tuple[Status, str, str]:
    """No VMI to read: what the VirtualMachine declares (and, when the VMI is forbidden,
    whether the VM is Ready with them: then they are attached)."""
    if not facts.vmi.missing and not _vmi_forbidden(facts):
        return (
            CANT_TELL,
            facts.vmi.why(),
            fix_for(facts.vmi, "use a credential that can get virtualmachineinstances"),
        )
    if not facts.vm.ok:
        why = facts.vm.why() if not facts.vm.missing else f"no VirtualMachine {vm.kubevirt_name}"
        return CANT_TELL, f"nothing runs; {why}", "see vm-running"
    expected, wanted = Counter(vm.gpus), _describe(Counter(vm.gpus))
    declared = Counter(_gpus(Json.of(facts.vm), "spec", "template", "spec", "domain", "devices"))
    if declared != expected:
        return (
            DIFFERS,
            f"the VirtualMachine declares {_describe(declared)}, the stack {wanted}",
            "`pulumi up`",
        )
    if _vmi_forbidden(facts) and _vm_ready(facts) == (True, "Running"):
        return OK, f"attached: {wanted}{SOURCE}", ""
    if vm.run_strategy in RUNNING:
        return CANT_TELL, f"declared ({wanted}) but not attached: the VM does not run", "see vm-running"
    return OK, f"declared: {wanted} (attached when the VM starts)", ""


def _describe(gpus: Counter[str]) -> str:
    return ", ".join(f"{n} × {name}" for name, n in sorted(gpus.items())) or "no GPU"


def vm_checks(vm: VmExpectation, facts: VmFacts) -> list[Check]:
    checks = []
    if vm.app:
        checks += [
            guarded("vm-instance", lambda: check_vm_instance(vm, facts), vm.subject),
            guarded("vm-disks", lambda: check_vm_disks(vm, facts), vm.subject),
        ]
    checks += [
        guarded("vm-running", lambda: check_vm_running(vm, facts), vm.subject),
        guarded("vm-gpus", lambda: check_vm_gpus(vm, facts), vm.subject),
    ]
    return checks
