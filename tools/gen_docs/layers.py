"""The package layout as one picture, from the real imports (``docs/development/imports.md``).

Every module of ``components/`` and ``stacks/`` is read with ``ast`` (nothing is imported); an
edge is an import between two of them, wherever it stands (module level, in a function, under
``TYPE_CHECKING``). A node is a folder below the package (``components/builders``,
``stacks/loading``; below ``stacks/commands``, its folders) or a module beside them.
``LAYERS`` assigns each node to a layer by the longest matching prefix. ``back_imports()``
lists the imports that run against the flow (``FLOW``); ``tests/test_layers.py`` fails on any.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tools.gen_docs import GENERATED_NOTE, ROOT

PACKAGES = ("components", "stacks")
PAGE = "docs/development/imports.md"

LAYERS: tuple[tuple[str, str], ...] = (
    ("components.catalog", "catalog"),
    ("components.models", "models"),
    ("components.resolve", "resolve"),
    ("components.checks", "checks"),
    ("components.builders", "builders"),
    ("components.plan", "component plans"),
    ("components", "components"),
    ("stacks", "program"),
    ("stacks.loading", "loading"),
    ("stacks.validation", "validation"),
    ("stacks.program", "program"),
    ("stacks.commands", "commands"),
    ("stacks.__main__", "commands"),
)
"""A dotted package or module → its layer; the longest matching prefix wins."""

ORDER = (
    "catalog",
    "models",
    "resolve",
    "checks",
    "builders",
    "component plans",
    "components",
    "loading",
    "validation",
    "program",
    "commands",
)
"""The layers in the order data flows through them (the picture's order)."""

FLOW = ("loading", "validation", "program", "commands")
"""The layers of ``stacks/``, in order: a module imports from its own layer or an earlier one,
never from a later one (``commands`` is the code that runs only outside ``pulumi up``)."""

DEPTH = {"stacks.commands": 3}
"""Packages whose subfolders are boxes of their own in the picture (default: two levels)."""


@dataclass(frozen=True)
class Import:
    importer: str
    """The importing module (dotted)."""
    imported: str
    """The imported module or package (dotted)."""


def layer_of(dotted: str) -> str:
    """The layer of a module or package: its longest matching prefix in ``LAYERS``."""
    best = ""
    layer = ""
    for prefix, name in LAYERS:
        if (dotted == prefix or dotted.startswith(prefix + ".")) and len(prefix) > len(best):
            best, layer = prefix, name
    if not layer:
        raise ValueError(f"{dotted}: in no layer (tools/gen_docs/layers.py LAYERS)")
    return layer


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of ``PACKAGES``, dotted (``stacks.commands.cli``; a package by its name)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolved(name: str, known: dict[str, Path]) -> str | None:
    """``name`` (``stacks.program.records``, or ``stacks.platform`` imported from ``stacks``) if
    it is one of ours: the module itself, else its longest known prefix."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def _imported_names(module: str, path: Path, tree: ast.AST) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def imports(root: Path = ROOT) -> list[Import]:
    """Every import between two modules of ``PACKAGES`` (one per pair, sorted)."""
    known = modules(root)
    found: set[Import] = set()
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for name in _imported_names(module, path, tree):
            target = _resolved(name, known)
            if target is not None and target != module and not module.startswith(target + "."):
                found.add(Import(module, target))
    # ``from stacks.commands import cli`` yields stacks.commands and stacks.commands.cli: keep the module
    kept = [
        i
        for i in found
        if not any(o.importer == i.importer and o.imported.startswith(i.imported + ".") for o in found)
    ]
    return sorted(kept, key=lambda i: (i.importer, i.imported))


def against_the_flow(found: Import) -> bool:
    """An import that runs back up: from a layer of ``FLOW`` into a later one, or from
    ``components/`` into ``stacks/`` (the component library knows no stack)."""
    source, target = layer_of(found.importer), layer_of(found.imported)
    if target not in FLOW:
        return False
    return source not in FLOW or FLOW.index(source) < FLOW.index(target)


def back_imports(root: Path = ROOT) -> list[Import]:
    """The imports that run against the flow (``against_the_flow``)."""
    return [i for i in imports(root) if against_the_flow(i)]


def node_of(dotted: str, root: Path = ROOT) -> str:
    """The picture's node: a folder below the package (below ``DEPTH``'s packages, a folder
    below theirs), or a module beside the folders (as a path)."""
    parts = dotted.split(".")
    depth = next((d for prefix, d in DEPTH.items() if dotted.startswith(prefix + ".")), 2)
    if len(parts) > depth or (len(parts) == depth and (root / Path(*parts)).is_dir()):
        return "/".join(parts[:depth])
    return "/".join(parts) + (".py" if len(parts) > 1 else "/__init__.py")


def _node_id(node: str) -> str:
    return node.replace("/", "_").replace(".", "_")


def flowchart(root: Path = ROOT) -> str:
    """The Mermaid flowchart: one subgraph per layer, one node per folder or module, an arrow
    per importing pair; arrows against the flow in red."""
    found = imports(root)
    nodes = {node_of(m, root): layer_of(m) for m in modules(root)}
    lines = ["flowchart LR"]
    for index, layer in enumerate(ORDER):
        members = sorted(node for node, where in nodes.items() if where == layer)
        if not members:
            continue
        lines.append(f'  subgraph L{index}["{layer}"]')
        lines += [f'    {_node_id(node)}["{node}"]' for node in members]
        lines.append("  end")
    pairs = {(node_of(i.importer, root), node_of(i.imported, root)) for i in found}
    edges = sorted((source, target) for source, target in pairs if source != target)
    against = {(node_of(i.importer, root), node_of(i.imported, root)) for i in found if against_the_flow(i)}
    back = []
    for number, (source, target) in enumerate(edges):
        lines.append(f"  {_node_id(source)} --> {_node_id(target)}")
        if (source, target) in against:
            back.append(str(number))
    if back:
        lines.append(f"  linkStyle {','.join(back)} stroke:#d32f2f,stroke-width:3px")
    return "\n".join(lines)


def page() -> str:
    """The generated layout page."""
    rows = [f"| `{prefix.replace('.', '/')}` | {layer} |" for prefix, layer in LAYERS]
    back = back_imports()
    back_rows = [f"| `{i.importer}` | `{i.imported}` |" for i in back] or ["| (none) | |"]
    lines = [
        GENERATED_NOTE,
        "# The layout, from the imports",
        "",
        "Generated by `tools/gen_docs/layers.py` from the source of `components/` and `stacks/`",
        "(read with `ast`, nothing imported). A box is a folder or a module beside the folders;",
        "an arrow means the first imports from the second. Data flows left to right through the",
        "layers:",
        "",
        f"{' → '.join(ORDER)}",
        "",
        "In `stacks/`, a module imports from its own layer or an earlier one: loading →",
        "validation → program → commands (the code that runs only outside `pulumi up`). An",
        "arrow against that flow would be red; `tests/test_layers.py` fails on any.",
        "",
        "```mermaid",
        flowchart(),
        "```",
        "",
        "## Layers",
        "",
        "Each folder or module belongs to the layer of its longest prefix here",
        "(`tools/gen_docs/layers.py` `LAYERS`).",
        "",
        "| Package or module | Layer |",
        "|---|---|",
        *rows,
        "",
        "## Imports against the flow",
        "",
        "| Module | Imports |",
        "|---|---|",
        *back_rows,
        "",
    ]
    return "\n".join(lines)
