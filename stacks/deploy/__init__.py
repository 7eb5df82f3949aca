"""Deploy stacks with Pulumi's Automation API: ``python -m stacks up`` (see docs/fleet.md)."""
