"""Attribute docstrings of the config models (the string under each field), as Markdown."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from functools import cache
from typing import Any


@cache
def field_docs(cls: type[Any]) -> dict[str, str]:
    """``{field: docstring}`` of a class and its bases (the nearest definition wins)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__ in {"builtins", "typing"} or klass.__module__.startswith("pydantic"):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        body = ast.parse(source).body[0]
        assert isinstance(body, ast.ClassDef)
        for node, after in zip(body.body, body.body[1:], strict=False):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs


def markdown(text: str) -> str:
    """reST-ish docstring text → one line of Markdown (``x`` → `x`)."""
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    return " ".join(text.split())


def first_paragraph(doc: str | None) -> str:
    """The first paragraph of a docstring, as one Markdown line."""
    if not doc:
        return ""
    return markdown(inspect.cleandoc(doc).split("\n\n")[0])
