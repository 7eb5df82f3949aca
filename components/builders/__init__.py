"""Pure builders: validated models in, Kubernetes manifests (plain dicts) out. No Pulumi here."""
