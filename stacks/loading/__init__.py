"""Loading a stack's config: the stack file as the Pulumi CLI reads it, customer defaults,
secrets and limits. Imports nothing from the other layers of ``stacks``.
"""
