"""The provider ``provider/__main__.py`` serves: Pulumi's component provider for the package's
components, with what the SDK's host (pulumi 3.272.0) leaves out.

- **Input errors keep their paths.** The host wraps every exception a component raises in
  ``ComponentInitError`` (``pulumi/provider/experimental/component.py``, ``construct``), so the
  ``InputPropertiesError`` check of its gRPC server (``pulumi/provider/server.py``,
  ``Construct``) never matches and a client gets ``UNKNOWN`` and a Python traceback.
  ``construct`` unwraps them: the server then answers ``INVALID_ARGUMENT`` with one
  ``pulumirpc.InputPropertiesError`` detail per property, which the engine prints with the
  property's path (``errorToMessage``, pkg/resource/deploy/source_eval.go, pulumi/pulumi v3.259.0).
- **Outputs only where a component takes them.** An input the schema marks plain that holds
  an Output is refused with its path; an input that takes Outputs (a component's ``INPUTS``)
  reaches the component as it came (the host maps the names inside a plain value only).
- **Secrets in the schema.** Outputs a component lists in ``SECRET_OUTPUTS`` and inputs whose
  model field only takes secret text are ``"secret": true``.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Sequence
from typing import Any

import pulumi
from pulumi.provider.experimental.analyzer import ComponentDefinition
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult
from pulumi.provider.server import ComponentInitError
from pydantic import BaseModel, SecretStr

from components.errors import InvalidArgs
from components.inputs import camel, holds_outputs
from components.package.components import COMPONENTS, CONTEXT, PACKAGE


def _texts(annotation: Any) -> set[Any]:
    """The text types (``str``, ``SecretStr``) a field's annotation takes, as values anywhere inside."""
    if annotation in (str, SecretStr):
        return {annotation}
    arguments = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _texts(arguments[0])
    if origin is dict:
        return _texts(arguments[1])  # keys are names, not values
    return set().union(*(_texts(a) for a in arguments)) if arguments else set()


def _model_of(component: type[pulumi.ComponentResource]) -> type[BaseModel] | None:
    served: Any = component.__mro__[1]  # the Python component the package's class extends
    hint = typing.get_type_hints(served.__init__).get("args")
    for member in getattr(hint, "__args__", (hint,)):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


Describe = Callable[[type, str], str | None]


def mark(
    schema: dict[str, Any], components: Sequence[type[pulumi.ComponentResource]], describe: Describe
) -> dict[str, Any]:
    """``schema`` with secret outputs and secret inputs marked, and every input described: the
    context args from ``CONTEXT``, the model's fields by ``describe`` (their docstring; the host
    finds none when the args type is not named as the model, ``GpuNodeGroupArgs``)."""
    for component in components:
        resource = schema["resources"][f"{PACKAGE}:index:{component.__name__}"]
        for output in getattr(component, "SECRET_OUTPUTS", ()):
            resource["properties"][camel(output)]["secret"] = True
        model = _model_of(component)
        fields = model.model_fields if model is not None else {}
        for name, spec in resource["inputProperties"].items():
            field = fields.get(_python_name(name, fields))
            if field is not None and _texts(field.annotation) == {SecretStr}:
                spec["secret"] = True
            python = _python_name(name, CONTEXT)
            if python in CONTEXT and "description" not in spec:
                spec["description"] = CONTEXT[python]
            described = describe(model, _python_name(name, fields)) if model and field else None
            if described and "description" not in spec:
                spec["description"] = described
    return schema


def _python_name(schema_name: str, names: Any) -> str:
    return next((name for name in names if camel(name) == schema_name), schema_name)


class ComponentPackage(ComponentProvider):
    """``ComponentProvider`` for ``COMPONENTS`` (see the module docstring)."""

    def __init__(self, version: str) -> None:
        super().__init__(COMPONENTS, PACKAGE, None, version)
        marked = mark(json.loads(self.schema or "{}"), COMPONENTS, self.analyzer.get_docstring)
        self.schema = json.dumps(marked)

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: pulumi.Inputs,
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        self.validate_resource_type(self._name, resource_type)
        component = resource_type.rsplit(":", maxsplit=1)[-1]
        definition = self._component_defs[component]
        plain = [
            {
                "property_path": key,
                "reason": "must be known when the component is constructed (it shapes the resources): "
                "pass a plain value, not an Output",
            }
            for key, value in sorted(inputs.items())
            if key in definition.inputs and definition.inputs[key].plain and holds_outputs(value)
        ]
        if plain:  # an Output may be a secret, which the engine would print: withheld
            raise InvalidArgs(f"{component} {name!r} has invalid args", [], plain)  # type: ignore[arg-type]
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as error:
            if isinstance(error.inner, pulumi.InputPropertiesError | pulumi.InputPropertyError):
                raise error.inner from None
            raise

    def map_inputs(self, inputs: pulumi.Inputs, component_def: ComponentDefinition) -> pulumi.Inputs:
        """The host's mapping of schema names to python names, which would look inside an
        Output as if it were a map: an input that holds Outputs goes to the component as it
        came (the component reads camelCase keys inside it too)."""
        held = {key for key, value in inputs.items() if key in component_def.inputs and holds_outputs(value)}
        if not held:
            return super().map_inputs(inputs, component_def)
        mapped = self.map_input_properties(
            {key: value for key, value in inputs.items() if key not in held},
            {key: spec for key, spec in component_def.inputs.items() if key not in held},
            component_def.inputs_mapping,
            component_def.name,
            "",
        )
        return {**mapped, **{component_def.inputs_mapping[key]: inputs[key] for key in held}}
