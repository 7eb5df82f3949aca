"""Args that may be Outputs (``pulumi.Input``), and how a component builds from them.

The builders are pure functions of plain, validated models, and a component registers what
they return. Most args shape the resources (names, GPU counts, disks, kinds): they must be
known when the component is constructed. A few only fill in the objects' fields (a
namespace, an image, SSH keys, a workload's placement): a component lists them in its
``INPUTS``, and they may hold ``pulumi.Output``s, anywhere inside. When one does:

1. the component validates its args now, with a stand-in for each arg that holds an Output,
   and raises the problems those args cannot change (``InputArg.affects``);
2. it plans its children with the stand-ins: their types, names, parents, providers and
   dependencies, which these args never change (``tests/test_inputs.py`` holds that);
3. once the held args are known (an apply), it validates them for real and plans again; the
   children's inputs come from that plan (``registration.register_plan``), so each Output
   reaches them with its dependencies. A problem found then is the same
   ``pulumi.InputPropertiesError``, raised where the Output resolves.

Secrets stay secrets: a secret value of an arg whose model field holds ``SecretStr`` (SSH
keys, user data, a workload's env values and args) is marked at its own paths, as a secret
from the stack config is; any other secret arg makes everything it reaches secret.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pulumi
from pulumi.output import Unknown
from pydantic import BaseModel, SecretStr, ValidationError

from components.checks.issues import Issue, prop, raise_for_errors
from components.errors import InvalidArgs

P = TypeVar("P")
M = TypeVar("M", bound=BaseModel)

STAND_IN = "stand-in"
"""The stand-in for a text arg that holds an Output (a valid name, namespace or image)."""

MODEL = "__model__"
"""Where ``values`` carry args given as a validated model (which holds no Output)."""


@dataclass(frozen=True)
class InputArg:
    """An arg that takes an Output: the value that stands in for it until it is known, and
    the issue paths its value may change (its own, and those of args checked against it)."""

    stand_in: Any
    affects: tuple[str, ...]


Inputs = Mapping[str, InputArg]
"""A component's ``INPUTS``: its args that take Outputs, by python name."""


@dataclass(frozen=True)
class Later(Generic[P]):
    """Args of which some are Outputs: ``shape`` is prepared with the stand-ins (what the
    children are), ``known`` with the real values once they resolve (what they hold)."""

    shape: P
    known: pulumi.Output[P]


def holds_outputs(value: Any) -> bool:
    """Whether ``value`` is, or holds in a list or map, an Output, an awaitable or an unknown."""
    if isinstance(value, pulumi.Output | Unknown) or inspect.isawaitable(value):
        return True
    if isinstance(value, Mapping):
        return any(holds_outputs(key) or holds_outputs(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(holds_outputs(item) for item in value)
    return False


def camel(name: str) -> str:
    """A python arg name as the schema (and every issue path) spells it: ``ssh_keys`` → ``sshKeys``."""
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def snake(name: str) -> str:
    """A schema name as python spells it: ``sshKeys`` → ``ssh_keys``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def arg_values(args: BaseModel | Mapping[str, Any], **context: Any) -> dict[str, Any]:
    """A component's args as one map of python names: a mapping's keys (camelCase or
    snake_case), or a validated model under ``MODEL``, plus the context args."""
    if isinstance(args, BaseModel):
        return {MODEL: args, **context}
    return {**{snake(str(key)): value for key, value in args.items()}, **context}


def model_args(values: Mapping[str, Any], context: Collection[str]) -> BaseModel | dict[str, Any]:
    """The model given as args, or the values that are not context (to validate)."""
    given = values.get(MODEL)
    if isinstance(given, BaseModel):
        return given
    return {key: value for key, value in values.items() if key not in context and key != MODEL}


def validated(model: type[M], values: Any, *at: str | int) -> tuple[M | None, list[Issue]]:
    """``values`` as ``model`` (a model instance is taken as it is), or one issue per pydantic
    error, its path in camelCase below ``at``."""
    if isinstance(values, model):
        return values, []
    try:
        return model.model_validate(values), []
    except ValidationError as error:
        return None, [
            Issue(
                prop(*at, *(camel(part) if isinstance(part, str) else part for part in e["loc"])),
                e["msg"].removeprefix("Value error, "),
            )
            for e in error.errors()
        ]


def holds_secret_text(annotation: Any) -> bool:
    """Whether a model field's annotation takes ``SecretStr`` (anywhere inside)."""
    if annotation is SecretStr:
        return True
    return any(holds_secret_text(argument) for argument in typing.get_args(annotation))


def secret_fields(model: type[BaseModel], inputs: Collection[str]) -> frozenset[str]:
    """The args of ``inputs`` whose field in ``model`` takes secret text."""
    fields = model.model_fields
    return frozenset(name for name in inputs if name in fields and holds_secret_text(fields[name].annotation))


def _as_secret(value: Any) -> Any:
    if isinstance(value, str):
        return SecretStr(value)
    if isinstance(value, list | tuple):
        return [_as_secret(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _as_secret(item) for key, item in value.items()}
    return value


def _under(path: str, prefixes: Collection[str]) -> bool:
    return any(path == p or path.startswith((f"{p}.", f"{p}[")) for p in prefixes)


def _plain_only(component: str, name: str, values: Mapping[str, Any], inputs: Collection[str]) -> None:
    """Raise for each arg that is not an Input and holds an Output."""
    raise_for_errors(
        component,
        name,
        [
            Issue(
                camel(key),
                "must be known when the component is constructed (it shapes the resources): "
                "pass a plain value, not an Output",
            )
            for key, value in sorted(values.items())
            if key not in inputs and key != MODEL and holds_outputs(value)
        ],
    )


def prepare(
    component: str,
    name: str,
    values: Mapping[str, Any],
    *,
    inputs: Inputs,
    validate: Callable[[Mapping[str, Any]], P],
    check: Callable[[P], list[Issue]],
    secret_text: Collection[str] = (),
) -> P | Later[P]:
    """``values`` validated (``validate`` raises ``pulumi.InputPropertiesError``) and checked
    (``check``'s errors are raised): at once when no arg of ``inputs`` holds an Output, else
    as ``Later`` (see the module docstring). ``secret_text``: the args whose secret values
    become ``SecretStr``."""
    _plain_only(component, name, values, inputs)
    held = [key for key in sorted(inputs) if holds_outputs(values.get(key))]
    if not held:
        prepared = validate(values)
        raise_for_errors(component, name, check(prepared))
        return prepared
    shape = validate({**values, **{key: inputs[key].stand_in for key in held}})
    affected = [path for key in held for path in inputs[key].affects]
    raise_for_errors(component, name, [i for i in check(shape) if not _under(i.path, affected)])

    def known(resolved: tuple[dict[str, Any], bool, list[str]]) -> Any:
        arguments, coarse, secrets = resolved
        try:
            prepared = validate(arguments)
            raise_for_errors(component, name, check(prepared))
        except InvalidArgs as error:
            # The engine would print a secret input's value next to its problem: withhold them.
            raise error.withholding([camel(key) for key in secrets]) from None
        return pulumi.Output.secret(prepared) if coarse else prepared

    return Later(shape, _resolved(values, held, frozenset(secret_text)).apply(known))


def _resolved(
    values: Mapping[str, Any], held: list[str], secret_text: frozenset[str]
) -> pulumi.Output[tuple[dict[str, Any], bool, list[str]]]:
    """``values`` with the held args' values; whether a secret among them is one that cannot be
    marked at its own paths (so everything built from them must be secret); the secret ones."""
    outputs = {key: pulumi.Output.from_input(values[key]) for key in held}
    clear = pulumi.Output.unsecret(pulumi.Output.all(*outputs.values()))
    secret = pulumi.Output.all(*(output.is_secret() for output in outputs.values()))

    def merge(pair: list[Any]) -> tuple[dict[str, Any], bool, list[str]]:
        resolved, flags = pair
        arguments = dict(values)
        coarse = False
        for key, value, is_secret in zip(held, resolved, flags, strict=True):
            marked = is_secret and key in secret_text
            arguments[key] = _as_secret(value) if marked else value
            coarse = coarse or (is_secret and not marked)
        return arguments, coarse, [key for key, is_secret in zip(held, flags, strict=True) if is_secret]

    return pulumi.Output.all(clear, secret).apply(merge)


def split(prepared: P | Later[P]) -> tuple[P, pulumi.Output[P] | None]:
    """What shapes the children (the prepared args, or their stand-in form), and the prepared
    args once the held Outputs are known (``None`` when no arg held one)."""
    if isinstance(prepared, Later):
        return prepared.shape, prepared.known
    return prepared, None


def item(later: pulumi.Output[Any] | None, key: Any) -> pulumi.Output[Any] | None:
    """``later[key]`` as an Output; ``None`` without ``later``."""
    return None if later is None else later.apply(_at(key))


def _at(key: Any) -> Callable[[Any], Any]:
    return lambda value: value[key]


def each(later: pulumi.Output[Any] | None, count: int) -> list[pulumi.Output[Any] | None]:
    """The first ``count`` items of ``later`` as Outputs (``None``s without ``later``)."""
    return [item(later, index) for index in range(count)]


def values_of(now: Mapping[str, Any], later: pulumi.Output[Mapping[str, Any]] | None) -> dict[str, Any]:
    """``now``'s values, or, with ``later``, each as an Output of ``later``'s."""
    if later is None:
        return dict(now)
    return {key: later.apply(_at(key)) for key in now}
