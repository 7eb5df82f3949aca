"""How a node group shares its GPUs: not at all, time-slicing, MIG or MPS (one choice)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from components.models.base import MigInstances, NotBoolean, StrictModel

SharingKind = Literal["none", "timeSlicing", "mig", "mps"]


class TimeSlicing(StrictModel):
    """Time-slicing: each GPU is advertised ``replicas`` times; no memory or fault isolation."""

    replicas: Annotated[int, NotBoolean] = Field(ge=2, le=64)
    """Pods that may share one GPU (2-64). Required."""


class Mps(StrictModel):
    """CUDA MPS: GPUs shared by ``replicas`` pods with a memory and compute share each."""

    replicas: Annotated[int, NotBoolean] = Field(ge=2, le=48)
    """Pods that may share one GPU (2-48, the MPS client limit). Required."""


class Mig(StrictModel):
    """Multi-Instance GPU (A100, H100): each GPU split into isolated instances.

    Give ``profile`` to split every GPU into as many instances of one profile as fit
    (``1g.10gb`` → 7 per A100), or ``layout`` for a mix (``{1g.10gb: 2, 2g.20gb: 1}``).
    """

    profile: str | None = None
    """One MIG profile for the whole GPU, e.g. ``1g.10gb``. Default: none (use layout)."""
    layout: dict[str, MigInstances] | None = None
    """MIG instances per GPU by profile (1-7 each). Default: none (use profile)."""

    @model_validator(mode="after")
    def _one_of(self) -> Mig:
        if (self.profile is None) == (self.layout is None):
            raise ValueError("set either profile or layout")
        if self.layout is not None and not self.layout:
            raise ValueError("layout needs at least one profile")
        return self


class Sharing(StrictModel):
    """At most one of ``timeSlicing``, ``mig``, ``mps``; none of them = whole GPUs."""

    time_slicing: TimeSlicing | None = None
    """Time-slicing. Default: off."""
    mig: Mig | None = None
    """MIG partitioning (A100/H100 only). Default: off."""
    mps: Mps | None = None
    """CUDA MPS. Default: off."""

    @model_validator(mode="after")
    def _at_most_one(self) -> Sharing:
        chosen = [k for k in ("timeSlicing", "mig", "mps") if self._get(k) is not None]
        if len(chosen) > 1:
            raise ValueError(f"choose one way to share GPUs, not {' and '.join(chosen)}")
        return self

    def _get(self, kind: str) -> object:
        return {"timeSlicing": self.time_slicing, "mig": self.mig, "mps": self.mps}[kind]

    @property
    def kind(self) -> SharingKind:
        if self.time_slicing is not None:
            return "timeSlicing"
        if self.mig is not None:
            return "mig"
        if self.mps is not None:
            return "mps"
        return "none"

    @property
    def replicas(self) -> int:
        """Pods per GPU for time-slicing and MPS; 1 otherwise."""
        if self.time_slicing is not None:
            return self.time_slicing.replicas
        if self.mps is not None:
            return self.mps.replicas
        return 1
