"""The Pulumi program: the plan of a stack (pure) and its registration, the providers'
credentials and the cluster check. Imports ``stacks.loading`` and ``stacks.validation`` only.
"""
