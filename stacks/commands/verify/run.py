"""One verify run: the expectations of the stack, the facts read, the checks, and ``--smoke``."""

from __future__ import annotations

from dataclasses import dataclass, field

from stacks.commands.doctor.check import CANT_TELL, DIFFERS, OK, Check
from stacks.commands.doctor.reader import Reader
from stacks.commands.verify.cluster import cluster_checks
from stacks.commands.verify.expect import platform_expectation, tenant_clusters, tenant_vms
from stacks.commands.verify.facts import ClusterFacts, cluster_facts, platform_facts, vm_facts
from stacks.commands.verify.platform import platform_checks
from stacks.commands.verify.smoke import IMAGE, Smoke
from stacks.commands.verify.vms import vm_checks
from stacks.validation.config import Stack, TenantStack


@dataclass
class Run:
    reader: Reader
    stack: Stack
    smoke: bool = False
    image: str | None = None
    seconds: float = 180.0
    smokes: list[Smoke] = field(default_factory=list)

    def checks(self) -> list[Check]:
        if isinstance(self.stack, TenantStack):
            return self._tenant(self.stack)
        expected = platform_expectation(self.stack)
        found = platform_facts(self.reader, self.stack, expected)
        return platform_checks(self.stack, expected, found)

    def _tenant(self, stack: TenantStack) -> list[Check]:
        checks: list[Check] = []
        for vm in tenant_vms(stack):
            checks += vm_checks(vm, vm_facts(self.reader, vm))
        for cluster in tenant_clusters(stack):
            found: ClusterFacts = cluster_facts(self.reader, cluster)
            checks += cluster_checks(cluster, found)
            if not self.smoke or not cluster.gpu_groups:
                continue
            if found.reader is None:
                why = f"the cluster could not be asked ({found.why_not})"
                checks.append(Check("smoke", CANT_TELL, why, "see the cluster check", cluster.name))
                continue
            smoke = Smoke(found.reader, cluster, self.image or IMAGE, self.seconds)
            self.smokes.append(smoke)
            checks += smoke.run()
            checks.append(_cleanup(smoke))
        return checks

    def leftovers(self) -> list[str]:
        """What ``--smoke`` made and could not delete, with the command that deletes it."""
        return [
            f"namespace {s.namespace} not deleted ({s.cleanup}): kubectl delete namespace {s.namespace}"
            for s in self.smokes
            if s.cleanup
        ]


def _cleanup(smoke: Smoke) -> Check:
    if smoke.cleanup:
        return Check(
            "smoke-cleanup",
            DIFFERS,
            f"namespace {smoke.namespace} not deleted: {smoke.cleanup}",
            f"kubectl delete namespace {smoke.namespace}",
            smoke.cluster.name,
        )
    done = "was not made: nothing to delete" if smoke.refused else "deleted"
    return Check("smoke-cleanup", OK, f"namespace {smoke.namespace} {done}", "", smoke.cluster.name)
