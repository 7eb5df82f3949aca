"""The Pulumi program: config → validation → the cluster check → the plan → registration.

``__main__.py`` (``pulumi preview``/``up``) calls ``main(Environment.current())``; the offline
tools run ``main()`` without an environment: they reach no cluster, so nothing is checked.
"""

from __future__ import annotations

import os

import pulumi

from components.registration import plan_scope
from stacks.loading.problems import ConfigError
from stacks.loading.pulumi_config import read_ambient_kubernetes, read_secrets, read_stack_config
from stacks.program import read_only
from stacks.program.kubeconfig_loader import Environment
from stacks.program.plan import plan
from stacks.program.registration import register
from stacks.program.target import WrongCluster, check, missing_guest_contexts
from stacks.validation.adoption import register as register_adoption
from stacks.validation.adoption import take as take_adoption
from stacks.validation.secrets import prepare, redact, validate_prepared


class ConfigRunError(ConfigError, pulumi.RunError):
    """A ``ConfigError`` as Pulumi's clean failure: the message without a traceback."""


class WrongClusterError(pulumi.RunError):
    """``stacks.program.target.WrongCluster`` as Pulumi's clean failure (no traceback)."""


def main(environment: Environment | None = None) -> None:
    """Validate the whole config, then (with the ``environment`` of a real run) check that the
    credential reaches the stack's cluster, before registering anything; warnings go to
    Pulumi's log. An invalid config raises ``ConfigRunError`` listing every problem, a run
    against another cluster ``WrongClusterError`` naming both."""
    try:
        _main(environment)
    except ConfigRunError:
        raise
    except ConfigError as error:
        raise ConfigRunError([*error.problems, *error.warnings]) from None
    except WrongCluster as error:
        raise WrongClusterError(str(error)) from None


def _main(environment: Environment | None) -> None:
    raw = read_stack_config()
    prepared = prepare(raw, read_secrets(raw), read_ambient_kubernetes())
    refused = {p.path for p in prepared.refused}
    adoption, prepared.raw, prepared.before = take_adoption(prepared.raw, refused)  # hikube-gpu:import
    valid = validate_prepared(prepared)  # raises ConfigError listing every problem
    warnings = prepared.warnings + valid.warnings
    if environment is not None:  # before the first resource: a refusal sends nothing
        own = valid.stack.kubeconfig.get_secret_value() if valid.stack.kubeconfig else None
        warnings += check(valid.stack, pulumi.get_stack(), environment, own).warnings
        warnings += missing_guest_contexts(valid.stack, environment)
    for warning in redact(sorted(warnings), prepared.hidden):
        pulumi.log.warn(str(warning))
    if environment is not None and pulumi.runtime.is_dry_run() and read_only.is_set(dict(os.environ)):
        pulumi.log.warn(read_only.NOTE)  # the preview says what its server never checked
    register_adoption(adoption)
    register(plan(valid.stack, plan_scope()[0], secret_quota=prepared.secret_quota))
