"""The components as a multi-language Pulumi package (Pulumi's Python component provider host)."""
