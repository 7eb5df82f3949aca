"""The Python API page: the ComponentResources of ``components/``, from their docstrings."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sys
from typing import Any

import components
from tools.gen_docs import GENERATED_NOTE


def _doc(obj: Any) -> str:
    text = inspect.getdoc(obj) or ""
    return re.sub(r"``([^`]+)``", r"`\1`", text)


def component_classes() -> list[type]:
    """Every ComponentResource defined in a top-level module of ``components``, by module name."""
    import pulumi

    found = []
    for info in sorted(pkgutil.iter_modules(components.__path__), key=lambda i: i.name):
        if info.ispkg:
            continue
        module = importlib.import_module(f"components.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, pulumi.ComponentResource):
                found.append(cls)
    return found


def _signature(cls: type) -> str:
    signature = inspect.signature(cls.__init__)  # type: ignore[misc]
    parts = []
    for name, param in signature.parameters.items():
        if name == "self":
            continue
        if param.kind is inspect.Parameter.KEYWORD_ONLY and "*" not in parts:
            parts.append("*")
        parts.append(str(param).replace("'", ""))
    text = ",\n    ".join(parts)
    return f"{cls.__name__}(\n    {text},\n)"


def _members(cls: type) -> list[str]:
    lines = []
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        target = member.fget if isinstance(member, property) else member
        if not callable(target):
            continue
        doc = _doc(target).split("\n\n")[0].replace("\n", " ")
        suffix = "" if isinstance(member, property) else "()"
        lines.append(f"- `{name}{suffix}`: {doc}" if doc else f"- `{name}{suffix}`")
    return lines


def page() -> str:
    lines = [
        GENERATED_NOTE,
        "# Python API",
        "",
        "The Pulumi components of `components/`, generated from their docstrings and signatures.",
        "Each takes a validated argument model (see [Configuration](config.md)), asks the pure",
        "builders of `components/builders/` for the Kubernetes objects, and registers only those.",
        "They can be used from any Pulumi Python program.",
        "",
    ]
    for cls in component_classes():
        lines += [
            f"## `{cls.__name__}`",
            "",
            f"`{cls.__module__}` · Pulumi type `{_pulumi_type(cls)}`",
            "",
            _doc(cls),
            "",
            "```python",
            _signature(cls),
            "```",
            "",
        ]
        members = _members(cls)
        if members:
            lines += [*members, ""]
    return "\n".join(lines)


def _pulumi_type(cls: type) -> str:
    """The type token passed to ``super().__init__``: a literal, or the module's ``TYPE``."""
    match = re.search(r'super\(\).__init__\(\s*"([^"]+)"', inspect.getsource(cls))
    if match:
        return match.group(1)
    return str(getattr(sys.modules[cls.__module__], "TYPE", "?"))
