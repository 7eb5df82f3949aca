"""The Pulumi program: config → validation → blueprint. ``__main__.py`` calls ``main()``."""

from __future__ import annotations

import pulumi

from stacks import platform, tenant
from stacks.adoption import register as register_adoption
from stacks.adoption import take as take_adoption
from stacks.config import TenantStack
from stacks.problems import ConfigError
from stacks.pulumi_config import read_ambient_kubernetes, read_secrets, read_stack_config
from stacks.secrets import prepare, redact, validate_prepared


class ConfigRunError(ConfigError, pulumi.RunError):
    """A ``ConfigError`` as Pulumi's clean failure: the message without a traceback."""


def main() -> None:
    """Validate the whole config before registering anything; warnings go to Pulumi's log.
    An invalid config raises ``ConfigRunError`` listing every problem."""
    try:
        _main()
    except ConfigRunError:
        raise
    except ConfigError as error:
        raise ConfigRunError([*error.problems, *error.warnings]) from None


def _main() -> None:
    raw = read_stack_config()
    prepared = prepare(raw, read_secrets(raw), read_ambient_kubernetes())
    refused = {p.path for p in prepared.refused}
    adoption, prepared.raw, prepared.before = take_adoption(prepared.raw, refused)  # hikube-gpu:import
    valid = validate_prepared(prepared)  # raises ConfigError listing every problem
    for warning in redact(sorted(prepared.warnings + valid.warnings), prepared.hidden):
        pulumi.log.warn(str(warning))
    register_adoption(adoption)
    if isinstance(valid.stack, TenantStack):
        tenant.deploy(valid.stack, secret_quota=prepared.secret_quota)
    else:
        platform.deploy(valid.stack)
