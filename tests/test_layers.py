"""The layout gate (``tools/gen_docs/layers.py``): in ``stacks/`` data flows one way, loading →
validation → program → commands, and ``components/`` imports nothing from ``stacks/``."""

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
    "stacks/loading/__init__.py": "",
    "stacks/loading/stack_file.py": "",
    "stacks/validation/__init__.py": "",
    "stacks/validation/config.py": "from stacks.loading import stack_file\n",
    "stacks/program/__init__.py": "",
    "stacks/program/plan.py": "import components.builders\nfrom stacks.validation.config import X\n",
    "stacks/commands/__init__.py": "",
    "stacks/commands/cli.py": "from stacks.program import plan\n",
    "stacks/commands/diff/__init__.py": "",
    "stacks/commands/diff/compare.py": "from stacks.commands import cli\n",
}


def test_no_import_runs_against_the_flow() -> None:
    """The repository itself: nothing in loading, validation or the program imports from a
    later layer, and the component library imports nothing from ``stacks/``."""
    assert [(i.importer, i.imported) for i in layers.back_imports()] == []


def test_every_module_has_a_layer() -> None:
    for module in layers.modules():
        assert layers.layer_of(module) in layers.ORDER


@pytest.mark.parametrize(
    ("importer", "statement", "imported"),
    [
        (
            "stacks/program/plan.py",
            "from stacks.commands.diff.compare import x\n",
            "stacks.commands.diff.compare",
        ),
        ("stacks/program/plan.py", "from stacks.commands import cli\n", "stacks.commands.cli"),
        ("stacks/program/plan.py", "import stacks.commands.cli\n", "stacks.commands.cli"),
        (
            "stacks/program/plan.py",
            "def f():\n    from stacks.commands.cli import main\n",
            "stacks.commands.cli",
        ),
        (
            "stacks/program/plan.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from stacks.commands import cli\n",
            "stacks.commands.cli",
        ),
        ("stacks/program/plan.py", "from ..commands import cli\n", "stacks.commands.cli"),
        (
            "stacks/loading/stack_file.py",
            "from stacks.validation import config\n",
            "stacks.validation.config",
        ),
        ("stacks/validation/config.py", "from stacks.program.plan import x\n", "stacks.program.plan"),
        (
            "components/builders/names.py",
            "from stacks.loading import stack_file\n",
            "stacks.loading.stack_file",
        ),
    ],
)
def test_an_import_against_the_flow_is_found(
    tmp_path: Path, importer: str, statement: str, imported: str
) -> None:
    root = _tree(tmp_path, {**SMALL, importer: statement})
    dotted = importer.removesuffix(".py").replace("/", ".")
    assert [(i.importer, i.imported) for i in layers.back_imports(root)] == [(dotted, imported)]


def test_imports_along_the_flow_are_not_back_imports(tmp_path: Path) -> None:
    root = _tree(tmp_path, SMALL)
    assert layers.back_imports(root) == []
    assert [(i.importer, i.imported) for i in layers.imports(root)] == [
        ("components.checks.vm", "components.builders.names"),
        ("stacks.commands.cli", "stacks.program.plan"),
        ("stacks.commands.diff.compare", "stacks.commands.cli"),
        ("stacks.program.plan", "components.builders"),
        ("stacks.program.plan", "stacks.validation.config"),
        ("stacks.validation.config", "stacks.loading.stack_file"),
    ]


def test_the_layer_is_the_longest_matching_prefix() -> None:
    assert layers.layer_of("stacks.program.plan") == "program"
    assert layers.layer_of("stacks.commands.cli") == "commands"
    assert layers.layer_of("stacks.__main__") == "commands"
    assert layers.layer_of("stacks.loadingx") == "program"
    assert layers.layer_of("components.builders.names") == "builders"
    with pytest.raises(ValueError, match="in no layer"):
        layers.layer_of("policy.gpu_rules")


def test_the_picture_draws_imports_against_the_flow_in_red(tmp_path: Path) -> None:
    root = _tree(tmp_path, {**SMALL, "stacks/validation/config.py": "from stacks.program import plan\n"})
    chart = layers.flowchart(root)
    edges = [line.strip() for line in chart.splitlines() if "-->" in line]
    assert edges == [
        "components_checks --> components_builders",
        "stacks_commands_cli_py --> stacks_program",
        "stacks_commands_diff --> stacks_commands_cli_py",
        "stacks_program --> components_builders",
        "stacks_program --> stacks_validation",
        "stacks_validation --> stacks_program",
    ]
    assert chart.splitlines()[-1] == "  linkStyle 5 stroke:#d32f2f,stroke-width:3px"
    assert 'subgraph L10["commands"]' in chart
    assert 'stacks_commands_diff["stacks/commands/diff"]' in chart


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
