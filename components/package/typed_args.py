"""Typed args for Pulumi's component provider host, derived from the pydantic models.

The host infers the package schema from ``TypedDict`` annotations; the models stay the one
source of the fields: each model becomes a ``TypedDict`` of the same name and module (so the
host reads the field docstrings from the model's source), with plain types (GPU models and
literals as strings, secrets as strings, nested models as nested types). The args a
component lists in its ``INPUTS`` are ``pulumi.Input[T]`` (the schema leaves them non-plain,
so other languages may pass Outputs); every other arg stays plain.
"""

import enum
import types
import typing
from collections.abc import Collection
from typing import Any, NotRequired, Required, TypedDict

import pulumi
from pydantic import BaseModel, SecretStr

_MADE: dict[type[BaseModel], type] = {}


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _leaf(annotation: Any) -> Any:
    """The plain type of a non-generic annotation; None when it is generic."""
    if annotation in (str, int, bool, float):
        return annotation
    if annotation is SecretStr or (isinstance(annotation, type) and issubclass(annotation, enum.Enum)):
        return str
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return typed_dict(annotation)
    return None


def plain_type(annotation: Any) -> Any:
    """The host-friendly type for a model field's annotation (``Any`` when there is none)."""
    annotation = _strip(annotation)
    leaf = _leaf(annotation)
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if leaf is None and origin is typing.Literal:
        kinds = {type(value) for value in arguments}
        leaf = kinds.pop() if len(kinds) == 1 else Any
    elif leaf is None and origin in (typing.Union, types.UnionType):
        members = {plain_type(a) for a in arguments if a is not type(None)}
        leaf = members.pop() if len(members) == 1 else Any
    elif leaf is None and origin is list:
        leaf = list[plain_type(arguments[0])]  # type: ignore[misc]
    elif leaf is None and origin is dict:
        leaf = dict[str, plain_type(arguments[1])]  # type: ignore[misc]
    return Any if leaf is None else leaf


def fields_of(model: type[BaseModel]) -> dict[str, Any]:
    """``{python name: Required[T] | NotRequired[T]}`` for each field of ``model``."""
    return {
        name: (Required if field.is_required() else NotRequired)[plain_type(field.annotation)]
        for name, field in model.model_fields.items()
    }


def as_input(annotation: Any) -> Any:
    """``T`` as ``pulumi.Input[T]``, and each item of a list or value of a map too (the schema
    then takes an Output for the whole and for each part): ``Required[list[str]]`` →
    ``Required[Input[list[Input[str]]]]``."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (Required, NotRequired):
        return origin[as_input(arguments[0])]
    if origin is list:
        return pulumi.Input[list[as_input(arguments[0])]]  # type: ignore[misc]
    if origin is dict:
        return pulumi.Input[dict[str, as_input(arguments[1])]]  # type: ignore[misc]
    return typing.cast(Any, pulumi.Input)[annotation]


def typed_dict(
    model: type[BaseModel],
    extra: dict[str, Any] | None = None,
    name: str = "",
    inputs: Collection[str] = (),
) -> type:
    """The ``TypedDict`` mirroring ``model`` (plus ``extra`` fields), made once per model;
    the fields named in ``inputs`` take ``pulumi.Input``s."""
    if extra is None and not inputs and model in _MADE:
        return _MADE[model]
    if not name:
        taken = {made.__name__ for other, made in _MADE.items() if other is not model}
        name = model.__name__
        if name in taken:  # same class name in two model modules: prefix the module's
            name = model.__module__.rsplit(".", 1)[-1].title().replace("_", "") + name
    fields = {**fields_of(model), **(extra or {})}
    fields = {key: as_input(value) if key in inputs else value for key, value in fields.items()}
    made: type = TypedDict(name, fields)  # type: ignore[misc]
    made.__module__ = model.__module__  # the host reads field docstrings from the model's source
    made.__qualname__ = model.__qualname__
    made.__doc__ = model.__doc__
    if extra is None and not inputs:
        _MADE[model] = made
    return made
