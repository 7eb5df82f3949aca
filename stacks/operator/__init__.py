"""Objects for the Pulumi Kubernetes Operator: ``python -m stacks operator`` (docs/fleet.md)."""
