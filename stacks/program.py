"""The Pulumi program: config → validation → blueprint. ``__main__.py`` calls ``main()``."""

from __future__ import annotations

import pulumi

from stacks import platform, tenant
from stacks.config import TenantStack
from stacks.pulumi_config import read_ambient_kubernetes, read_stack_config, with_ambient_defaults
from stacks.validate import validate


def main() -> None:
    """Validate the whole config before registering anything; warnings go to Pulumi's log."""
    raw = with_ambient_defaults(read_stack_config(), read_ambient_kubernetes())
    valid = validate(raw)  # raises ConfigError (a clean RunError) listing every problem
    for warning in valid.warnings:
        pulumi.log.warn(str(warning))
    if isinstance(valid.stack, TenantStack):
        tenant.deploy(valid.stack)
    else:
        platform.deploy(valid.stack)
