"""Which engine makes a stack's ``OfflineRun``: the plan (default) or Pulumi's mock runtime.

``plan`` validates the stack and turns ``stacks.program.plan`` into the run, without the Pulumi
runtime; ``pulumi`` runs the real program under Pulumi's mock runtime (``stacks.commands.preview.engine``),
which ``tests/test_plan.py`` uses to prove the two equal, and which helps when debugging.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the CLI imports this module for its --engine choices: keep it light
    from stacks.loading.stack_file import StackConfigFile
    from stacks.program.records import OfflineRun

Engine = Literal["plan", "pulumi"]
ENGINES: tuple[Engine, ...] = ("plan", "pulumi")
DEFAULT_ENGINE: Engine = "plan"


def run_config(config: StackConfigFile, engine: Engine = DEFAULT_ENGINE) -> OfflineRun:
    """The stack's run by ``engine`` (Pulumi is imported only for ``pulumi``)."""
    if engine == "pulumi":
        from stacks.commands.preview.engine import run_offline
        from stacks.program.main import main as program

        return run_offline(config, program)
    from stacks.commands.preview.planned import run_planned

    return run_planned(config)
