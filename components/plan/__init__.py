"""What each component registers, as plain data: no Pulumi import.

``plan_*`` functions take the same args as the components and return ``Planned`` resources
(type, name, parent, provider, options and inputs with their secret paths) plus the
component's output values. ``stacks.program.plan`` assembles them per stack kind; the offline
preview, render and diff read the plan instead of running Pulumi's mock runtime, and
``tests/test_plan.py`` proves the plan equals what the components register.
"""

from components.plan.resources import Planned, Scope

__all__ = ["Planned", "Scope"]
