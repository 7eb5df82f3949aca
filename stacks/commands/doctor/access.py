"""Which kubeconfig and context the doctor uses, and the API client built from them.

Order: ``--kubeconfig``, else the stack's kubeconfig (``hikube-gpu:kubeconfig`` or
``kubernetes:kubeconfig``) when it is not a Pulumi secret, else ``KUBECONFIG``/``~/.kube/config``.
The context: ``--context``, else ``hikube-gpu:platform.context``, else the kubeconfig's own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

from components.models.vm import ENCRYPTED_PLACEHOLDER
from stacks.commands.doctor.reader import Reader

DEFAULT_KUBECONFIG = "~/.kube/config"
HOW_TO_GIVE = (
    "give one with --kubeconfig PATH, the KUBECONFIG environment variable, "
    "or the stack's hikube-gpu:kubeconfig (`pulumi config set --secret kubeconfig …`; "
    "a secret one needs --kubeconfig here)"
)


class AccessError(Exception):
    """No usable kubeconfig: the message says which and what to do."""


@dataclass(frozen=True)
class Credentials:
    """Where the kubeconfig comes from: a file, or the text of the stack's config key."""

    source: str
    """For the report: ``--kubeconfig kc``, ``hikube-gpu:kubeconfig``, ``KUBECONFIG``…"""
    path: Path | None = None
    text: str | None = None
    context: str | None = None


def choose(
    option: Path | None,
    context: str | None,
    stack_kubeconfig: str | None,
    stack_key: str,
    stack_context: str | None,
) -> Credentials:
    """Pick the credentials; raises ``AccessError`` for a stack kubeconfig that is a Pulumi secret."""
    chosen_context = context or stack_context
    if option is not None:
        return Credentials(f"--kubeconfig {option}", path=option, context=chosen_context)
    if stack_kubeconfig is not None:
        if stack_kubeconfig == ENCRYPTED_PLACEHOLDER:
            key = stack_key.partition(":")[2]
            raise AccessError(
                f"{stack_key} is a Pulumi secret, which cannot be decrypted offline; pass the "
                f"kubeconfig with --kubeconfig (e.g. `pulumi config get {key} > kc` for "
                f"`{stack_key}`, then --kubeconfig kc)"
            )
        if _is_kubeconfig_text(stack_kubeconfig):
            return Credentials(stack_key, text=stack_kubeconfig, context=chosen_context)
        return Credentials(stack_key, path=Path(stack_kubeconfig), context=chosen_context)
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return Credentials("KUBECONFIG", path=Path(env), context=chosen_context)
    return Credentials(DEFAULT_KUBECONFIG, path=Path(DEFAULT_KUBECONFIG), context=chosen_context)


def _is_kubeconfig_text(value: str) -> bool:
    """Pulumi's provider takes a kubeconfig's contents or its path; contents are a mapping."""
    try:
        return isinstance(yaml.safe_load(value), dict)
    except yaml.YAMLError:
        return False


def api_client(credentials: Credentials) -> client.ApiClient:
    """An API client with these credentials; raises ``AccessError`` when the kubeconfig is unusable.

    A kubeconfig given as text (the stack's, or a cluster's from its Secret) may hold tokens:
    its errors name the kind of problem and the line, never the text."""
    configuration = client.Configuration()
    try:
        if credentials.text is not None:
            document: Any = yaml.safe_load(credentials.text)
            config.load_kube_config_from_dict(  # type: ignore[no-untyped-call]
                document,
                context=credentials.context,
                client_configuration=configuration,
                persist_config=False,
            )
        else:
            path = credentials.path or Path(DEFAULT_KUBECONFIG)
            files = [Path(p).expanduser() for p in str(path).split(os.pathsep) if p]
            if not any(f.is_file() for f in files):
                raise AccessError(f"{credentials.source}: no kubeconfig at {path}; {HOW_TO_GIVE}")
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=os.pathsep.join(str(f) for f in files),
                context=credentials.context,
                client_configuration=configuration,
                persist_config=False,
            )
    except (config.ConfigException, OSError, yaml.YAMLError, ValueError, TypeError, KeyError) as error:
        why = _text_error(error) if credentials.text is not None else str(error)
        raise AccessError(f"{credentials.source}: not a usable kubeconfig: {why}") from None
    configuration.retries = 0  # an unreachable server fails at once, with one clear message
    return client.ApiClient(configuration)


def _text_error(error: Exception) -> str:
    """What is wrong with a kubeconfig text, without quoting it."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        return f"not YAML ({error.problem}, line {error.problem_mark.line + 1})"
    if isinstance(error, config.ConfigException):
        return "no usable cluster, user or context in it"
    return f"{type(error).__name__} while reading it"


def connect(credentials: Credentials, timeout: tuple[float, float] | None = None) -> Reader:
    """A reader with these credentials; raises ``AccessError`` when the kubeconfig is unusable."""
    return Reader(api_client(credentials), timeout)
