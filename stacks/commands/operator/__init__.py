"""Objects for the Pulumi Kubernetes Operator: ``hikube-gpu operator`` (docs/fleet.md)."""
