"""Validation front door: raw config in, a valid stack and its warnings out (or ConfigError)."""

from __future__ import annotations

from dataclasses import dataclass

from stacks.loading.problems import ConfigError, Problem
from stacks.validation.config import Stack, TenantStack, parse
from stacks.validation.identities import check_identities, identities
from stacks.validation.platform_rules import check_platform
from stacks.validation.rules import check_tenant


@dataclass(frozen=True)
class ValidStack:
    stack: Stack
    warnings: list[Problem]


def validate(raw: dict[str, object]) -> ValidStack:
    """Structure first (pydantic), then the semantic rules, then one identity per object (no
    two resources share a URN, no two Kubernetes objects a name); every problem at once per phase."""
    stack = parse(raw)
    problems = check_tenant(stack) if isinstance(stack, TenantStack) else check_platform(stack)
    if not any(p.severity == "error" for p in problems):
        problems += check_identities(identities(stack))  # the name helpers expect valid args
    if any(p.severity == "error" for p in problems):
        raise ConfigError(problems)
    return ValidStack(stack, sorted(p for p in problems if p.severity == "warning"))
