"""Validating a stack's config: the models of every key, the rules, the identities of
what it makes, and one message per problem. Imports only ``stacks.loading``.
"""
