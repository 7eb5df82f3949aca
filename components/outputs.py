"""A component's typed outputs from plain values."""

import re
from collections.abc import Mapping
from typing import Any

import pulumi


def publish(component: pulumi.ComponentResource, values: Mapping[str, Any]) -> None:
    """Set each entry (python name → plain value) as the component's ``pulumi.Output``
    attribute (declared on its class) and register them as its outputs, camelCase. The
    registered values stay plain: known at once, and much cheaper for the engine than Outputs."""
    for name, value in values.items():
        setattr(component, name, pulumi.Output.from_input(value))
    component.register_outputs(
        {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in values.items()}
    )
