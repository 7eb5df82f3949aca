"""The checks of a ``GpuNodeGroup``'s args: replicas, disk, instance type, GPU sharing."""

from __future__ import annotations

from collections.abc import Iterator

from components.catalog.gpus import GPU_MODELS, MIG_COMPUTE_SLICES, MIG_MEMORY_SLICES, gpu
from components.catalog.instance_types import gpu_memory_problem, vcpu_advice
from components.catalog.quantity import GIB, parse_quantity
from components.checks.issues import Issue, prop
from components.models.node_group import NodeGroupArgs
from components.models.sharing import Mig
from components.resolve.instance_types import node_type_resolution


def check_node_group(group: NodeGroupArgs) -> list[Issue]:
    """Every problem of one node group's args (paths relative to the group)."""
    return list(_node_group(group))


def _node_group(group: NodeGroupArgs) -> Iterator[Issue]:
    path: tuple[str, ...] = ()
    if group.min_replicas > group.max_replicas:
        yield Issue(
            prop(*path, "minReplicas"),
            f"{group.min_replicas} is more than maxReplicas ({group.max_replicas})",
        )
    if parse_quantity(group.ephemeral_storage) < GIB:
        yield Issue(
            prop(*path, "ephemeralStorage"),
            f"{group.ephemeral_storage} is less than 1Gi (a size without a unit is in bytes)",
        )
    yield from _node_size(path, group)
    yield from _group_sharing(path, group)


def _node_size(path: tuple[str, ...], group: NodeGroupArgs) -> Iterator[Issue]:
    type_path = prop(*path, "instanceType")
    resolution = node_type_resolution(group)
    if resolution.chosen is None:
        yield Issue(type_path, resolution.problem)
        return
    chosen = resolution.chosen
    if not group.gpu_count:
        return
    memory = gpu_memory_problem(chosen.name, chosen.memory_bytes)
    if memory:
        yield Issue(type_path, memory)
    advice = vcpu_advice(chosen.name, chosen.vcpu, group.gpu_count, chosen.series)
    if advice:
        yield Issue(type_path, advice, "warning")


def _group_sharing(path: tuple[str, ...], group: NodeGroupArgs) -> Iterator[Issue]:
    sharing = group.sharing
    if sharing.kind == "none":
        return
    where = prop(*path, "sharing")
    if not group.gpus:
        yield Issue(where, "the group has no GPUs to share")
        return
    if len(group.gpus) > 1:
        yield Issue(where, "sharing needs a group with one GPU model (it is selected per model on each node)")
        return
    if sharing.mig is not None:
        yield from _mig(prop(*path, "sharing", "mig"), next(iter(group.gpus)).value, sharing.mig)


def _mig(path: str, model_name: str, mig: Mig) -> Iterator[Issue]:
    model = gpu(model_name)
    if not model.mig_capable:
        yield Issue(
            path, f"{model_name} does not support MIG (only {_mig_models()} do); use timeSlicing or mps"
        )
        return
    if mig.profile is not None:
        if model.mig_profile(mig.profile) is None:
            names = ", ".join(p.name for p in model.mig_profiles)
            yield Issue(
                f"{path}.profile", f"{mig.profile!r} is not a MIG profile of {model_name}; choose {names}"
            )
        return
    yield from mig_layout_problems(f"{path}.layout", model_name, mig.layout or {})


def _mig_models() -> str:
    return ", ".join(m.value for m, spec in GPU_MODELS.items() if spec.mig_capable)


def mig_layout_problems(path: str, model_name: str, layout: dict[str, int]) -> Iterator[Issue]:
    """Problems of a MIG layout (instances per GPU by profile) for ``model_name``, at ``path``."""
    model = gpu(model_name)
    if not model.mig_capable:
        yield Issue(path, f"{model_name} does not support MIG (only {_mig_models()} do)")
        return
    names = ", ".join(p.name for p in model.mig_profiles)
    compute = memory = 0
    for profile_name, count in layout.items():
        profile = model.mig_profile(profile_name)
        if profile is None:
            yield Issue(f"{path}.{profile_name}", f"not a MIG profile of {model_name}; choose {names}")
            return
        if count > profile.per_gpu:
            yield Issue(
                f"{path}.{profile_name}", f"{count} instances; a {model_name} holds at most {profile.per_gpu}"
            )
            return
        compute += profile.compute_slices * count
        memory += profile.memory_slices * count
    if compute > MIG_COMPUTE_SLICES or memory > MIG_MEMORY_SLICES:
        yield Issue(
            path,
            f"needs {compute}/{MIG_COMPUTE_SLICES} compute and {memory}/{MIG_MEMORY_SLICES} memory slices "
            f"of one {model_name}; it does not fit",
        )
