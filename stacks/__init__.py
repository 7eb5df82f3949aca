"""Stacks: config loading and validation, blueprints per stack kind, and the offline preview."""
