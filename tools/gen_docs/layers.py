"""The package layout as one picture, from the real imports (``docs/development/imports.md``).

Every module of ``components/`` and ``stacks/`` is read with ``ast`` (nothing is imported); an
edge is an import between two of them, wherever it stands (module level, in a function, under
``TYPE_CHECKING``). A node is a folder below the package (``components/builders``,
``stacks/offline``) or a module beside it (``stacks/plan.py``). ``LAYERS`` assigns each node to
a layer, by the longest matching prefix: when modules move into folders, only that table
changes. ``back_imports()`` lists the imports that run from the program into the tools;
``tests/test_layers.py`` fails on any not in ``KNOWN_BACK_IMPORTS`` (and on one listed there
that is gone, so the list stays exact).
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
    ("stacks.__main__", "tools"),
    ("stacks.offline", "tools"),
    ("stacks.doctor", "tools"),
    ("stacks.verify", "tools"),
    ("stacks.deploy", "tools"),
    ("stacks.operator", "tools"),
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
    "program",
    "tools",
)
"""The layers in the order data flows through them (the picture's order)."""

TOOLS = "tools"
"""The layer that runs outside ``pulumi up`` (the command line and its commands)."""

KNOWN_BACK_IMPORTS: frozenset[tuple[str, str]] = frozenset(
    {
        ("stacks.customer_defaults", "stacks.offline.config_keys"),
        ("stacks.customer_defaults", "stacks.offline.stack_list"),
        ("stacks.customer_defaults", "stacks.offline.yaml_subset"),
        ("stacks.plan", "stacks.offline.records"),
        ("stacks.program", "stacks.deploy.read_only"),
        ("stacks.pulumi_config", "stacks.offline.stack_file"),
    }
)
"""The imports from the program into the tools that exist today (issue 27): moving those modules
to the program's folders empties this set; a new one fails ``tests/test_layers.py``."""


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
    """Every module of ``PACKAGES``, dotted (``stacks.offline.cli``; a package by its name)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolved(name: str, known: dict[str, Path]) -> str | None:
    """``name`` (``stacks.offline.records``, or ``stacks.platform`` imported from ``stacks``) if
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
    # ``from stacks.offline import cli`` yields stacks.offline and stacks.offline.cli: keep the module
    kept = [
        i
        for i in found
        if not any(o.importer == i.importer and o.imported.startswith(i.imported + ".") for o in found)
    ]
    return sorted(kept, key=lambda i: (i.importer, i.imported))


def back_imports(root: Path = ROOT) -> list[Import]:
    """The imports from a module outside the tools layer into the tools layer."""
    return [i for i in imports(root) if layer_of(i.importer) != TOOLS and layer_of(i.imported) == TOOLS]


def node_of(dotted: str, root: Path = ROOT) -> str:
    """The picture's node: a folder below the package, or a module beside it (as a path)."""
    parts = dotted.split(".")
    if len(parts) >= 3 or (len(parts) == 2 and (root / parts[0] / parts[1]).is_dir()):
        return "/".join(parts[:2])
    return "/".join(parts) + (".py" if len(parts) == 2 else "/__init__.py")


def _node_id(node: str) -> str:
    return node.replace("/", "_").replace(".", "_")


def flowchart(root: Path = ROOT) -> str:
    """The Mermaid flowchart: one subgraph per layer, one node per folder or module, an arrow
    per importing pair; arrows from the program into the tools in red."""
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
    back = []
    for number, (source, target) in enumerate(edges):
        lines.append(f"  {_node_id(source)} --> {_node_id(target)}")
        if nodes[source] != TOOLS and nodes[target] == TOOLS:
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
        "Red arrows run from the program into the tools (the code that runs only outside",
        "`pulumi up`); `tests/test_layers.py` fails on a new one.",
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
        "## Imports from the program into the tools",
        "",
        "| Module | Imports |",
        "|---|---|",
        *back_rows,
        "",
    ]
    return "\n".join(lines)
