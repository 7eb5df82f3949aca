"""Where a standalone ``GpuWorkload`` may run: the node groups it is placed on (``placement``)."""

from __future__ import annotations

from pydantic import Field

from components.catalog.gpus import GpuModelName
from components.models.base import GpuCount, Name, StrictModel
from components.models.cluster import ResourceNaming
from components.models.sharing import Sharing


class GroupPlacementInput(StrictModel):
    """One node group a workload may run on: what a ``GpuNodeGroup`` publishes."""

    group: Name
    """The node group's name in its cluster (its nodes carry the role ``gpu-<group>``)."""
    gpus: dict[GpuModelName, GpuCount] = Field(default_factory=dict)
    """GPUs per node, by model (``{"L40S": 1}``)."""
    sharing: Sharing = Sharing()
    """How the group's GPUs are shared (as the node group's ``sharing``). Default: not shared."""
    resource_naming: ResourceNaming = "generic"
    """The cluster's ``resourceNaming``: ``generic`` (default) or ``per-model``."""
