"""Deploy stacks with Pulumi's Automation API: ``hikube-gpu up`` (see docs/fleet.md)."""
