"""What a per-model GPU quota allows (the stack rules, the capacity output and, through its
generated tables, the policy pack's ``quota_limit`` say the same)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

Model = TypeVar("Model")


def quota_limit(quota: Mapping[Model, int], model: Model) -> int:
    """The quota's entry for ``model``; a model the quota does not list gets 0 GPUs."""
    return int(quota.get(model, 0))
