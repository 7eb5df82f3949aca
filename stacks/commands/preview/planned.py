"""The program's steps without the Pulumi runtime: a stack file → validated stack → plan → run.

``run_planned`` reads the config as the program does under the offline engine (the same
decoding, customer defaults, secrets, ambient ``kubernetes:*`` values, validation and
warnings; ``stacks.program.main``), then turns ``stacks.program.plan`` into an ``OfflineRun``: what
``preview``, ``render`` and ``diff`` show, without Pulumi's mock runtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.plan.resources import Scope
from stacks.loading import customer_defaults
from stacks.loading.problems import NAMESPACE, ConfigError, Problem
from stacks.loading.pulumi_config import AMBIENT_KEYS, decode, secret_leaves
from stacks.loading.stack_file import StackConfigFile
from stacks.program.plan import as_run, plan
from stacks.program.records import OfflineRun
from stacks.validation.adoption import Adoption
from stacks.validation.adoption import take as take_adoption
from stacks.validation.secrets import Prepared, prepare, redact, validate_prepared

if TYPE_CHECKING:
    from stacks.validation.validate import ValidStack


def read_config(config: StackConfigFile) -> dict[str, Any]:
    """``stacks.loading.pulumi_config.read_stack_config`` on the stack file's values."""
    raw: dict[str, Any] = {}
    problems: list[Problem] = []
    for full_key in sorted(config.config):
        namespace, _, key = full_key.partition(":")
        if namespace == NAMESPACE and key:
            try:
                raw[key] = decode(key, config.config[full_key])
            except ConfigError as error:
                problems += error.problems
    if problems:
        raise ConfigError(problems)
    try:  # the engine's runtime has no project folder: the defaults are found from here
        return customer_defaults.apply_program(Path.cwd(), NAMESPACE, raw, decode)
    except customer_defaults.DefaultsError as error:
        raise ConfigError([Problem(*error.problem(NAMESPACE))]) from None


def ambient(config: StackConfigFile) -> dict[str, str]:
    """``stacks.loading.pulumi_config.read_ambient_kubernetes`` on the stack file's values."""
    found = {}
    for key in AMBIENT_KEYS:
        value = config.config.get(f"kubernetes:{key}")
        if isinstance(value, str) and value:
            found[key] = value
    return found


@dataclass(frozen=True)
class Validated:
    """A stack file's config as the program reads it: adoption, prepared secrets, valid stack."""

    adoption: Adoption
    prepared: Prepared
    valid: ValidStack


def validate_file(config: StackConfigFile) -> Validated:
    """Read and validate the stack file's config as the program does (secrets that stay secret,
    quotas that are secret, adoption, ``kubernetes:*`` defaults); raises ``ConfigError`` listing
    every problem. ``run_planned`` and ``doctor``/``verify`` (``stacks.commands.doctor.stack``) share it."""
    raw = read_config(config)
    secret_keys = set(config.secret_keys)
    prepared = prepare(raw, secret_leaves(raw, secret_keys.__contains__, lambda: None), ambient(config))
    refused = {p.path for p in prepared.refused}
    adoption, prepared.raw, prepared.before = take_adoption(prepared.raw, refused)
    return Validated(adoption, prepared, validate_prepared(prepared))


def run_planned(config: StackConfigFile) -> OfflineRun:
    """The stack's ``OfflineRun`` from its plan; an invalid config is the run's ``failure``
    (a ``ConfigError`` listing every problem), with nothing registered."""
    try:
        validated = validate_file(config)
    except ConfigError as error:
        return OfflineRun(stack=config.stack, project=config.project, failure=error)
    prepared, valid = validated.prepared, validated.valid
    warnings = [str(w) for w in redact(sorted(prepared.warnings + valid.warnings), prepared.hidden)]
    scope = Scope(config.stack, config.project)
    stack_plan = plan(
        valid.stack, scope, secret_quota=prepared.secret_quota, imported=validated.adoption.resources
    )
    return as_run(stack_plan, warnings)
