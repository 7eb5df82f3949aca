"""Where tenant components go: the namespace and the platform (not user args, so not in them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.catalog.platform import PROFILES, PlatformProfile


@dataclass(frozen=True)
class Tenant:
    """A tenant namespace on a platform profile (``hikube``: Cozystack v1.1.2; ``cozystack-1.4``)."""

    namespace: Any
    """The tenant namespace the apps go into (``tenant-acme``): text, or a ``pulumi.Input[str]``
    (an Output is checked once it is known, see ``components.inputs``)."""
    platform: str = "hikube"
    """A key of ``components.catalog.platform.PROFILES``."""

    def __post_init__(self) -> None:
        if self.platform not in PROFILES:
            raise ValueError(f"unknown platform {self.platform!r}; choose {', '.join(sorted(PROFILES))}")
        if self.namespace is None or self.namespace == "":
            raise ValueError("namespace is required")

    @property
    def profile(self) -> PlatformProfile:
        return PROFILES[self.platform]
