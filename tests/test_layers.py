"""The layout gate (``tools/gen_docs/layers.py``): no module of the program imports from the
tools, except the imports listed in ``KNOWN_BACK_IMPORTS`` (issue 27), and that list is exact."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.gen_docs import layers


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


SMALL = {
    "components/__init__.py": "",
    "components/builders/__init__.py": "",
    "components/builders/names.py": "",
    "components/checks/__init__.py": "",
    "components/checks/vm.py": "from components.builders.names import x\n",
    "stacks/__init__.py": "",
    "stacks/offline/__init__.py": "",
    "stacks/offline/cli.py": "from stacks import plan\n",
    "stacks/offline/records.py": "",
    "stacks/plan.py": "import components.builders\n",
}


def test_no_import_runs_from_the_program_into_the_tools_but_the_known_ones() -> None:
    found = {(i.importer, i.imported) for i in layers.back_imports()}
    assert found - layers.KNOWN_BACK_IMPORTS == set(), "a new import from the program into the tools"
    assert layers.KNOWN_BACK_IMPORTS - found == set(), "gone: remove it from KNOWN_BACK_IMPORTS"


@pytest.mark.parametrize(
    "statement",
    [
        "from stacks.offline.records import Registered\n",
        "from stacks.offline import records\n",
        "import stacks.offline.records\n",
        "def f():\n    from stacks.offline.records import mask\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from stacks.offline import records\n",
        "from .offline import records\n",
    ],
)
def test_an_import_from_the_program_into_the_tools_is_found(tmp_path: Path, statement: str) -> None:
    root = _tree(tmp_path, {**SMALL, "stacks/plan.py": statement})
    assert [(i.importer, i.imported) for i in layers.back_imports(root)] == [
        ("stacks.plan", "stacks.offline.records")
    ]


def test_imports_the_other_way_are_not_back_imports(tmp_path: Path) -> None:
    root = _tree(tmp_path, SMALL)
    assert layers.back_imports(root) == []
    assert [(i.importer, i.imported) for i in layers.imports(root)] == [
        ("components.checks.vm", "components.builders.names"),
        ("stacks.offline.cli", "stacks.plan"),
        ("stacks.plan", "components.builders"),
    ]


def test_the_layer_is_the_longest_matching_prefix() -> None:
    assert layers.layer_of("stacks.plan") == "program"
    assert layers.layer_of("stacks.offline.cli") == "tools"
    assert layers.layer_of("stacks.offlinex") == "program"
    assert layers.layer_of("components.builders.names") == "builders"
    with pytest.raises(ValueError, match="in no layer"):
        layers.layer_of("policy.gpu_rules")


def test_the_picture_draws_back_imports_in_red(tmp_path: Path) -> None:
    root = _tree(tmp_path, {**SMALL, "stacks/plan.py": "from stacks.offline import records\n"})
    chart = layers.flowchart(root)
    edges = [line.strip() for line in chart.splitlines() if "-->" in line]
    assert edges == [
        "components_checks --> components_builders",
        "stacks_offline --> stacks_plan_py",
        "stacks_plan_py --> stacks_offline",
    ]
    assert chart.splitlines()[-1] == "  linkStyle 2 stroke:#d32f2f,stroke-width:3px"
    assert 'subgraph L8["tools"]' in chart
    assert 'stacks_offline["stacks/offline"]' in chart


def test_checks_and_builders_meet_only_in_the_resolvers() -> None:
    """catalog → models → resolve → checks and builders: a check never imports a builder (nor
    the reverse), and a resolver imports only the catalog, the models and other resolvers."""
    crossing = []
    for found in layers.imports():
        source, target = layers.layer_of(found.importer), layers.layer_of(found.imported)
        if {source, target} == {"checks", "builders"} or (
            source == "resolve" and target not in ("catalog", "models", "resolve")
        ):
            crossing.append((found.importer, found.imported))
    assert crossing == []
