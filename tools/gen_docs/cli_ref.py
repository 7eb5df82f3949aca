"""The command-line page, from the argparse parser of ``hikube-gpu``."""

from __future__ import annotations

import argparse
import os

from stacks.commands.cli import _parser
from tools.gen_docs import GENERATED_NOTE


def _help(parser: argparse.ArgumentParser) -> str:
    # A fixed width, so the page does not depend on the terminal that generates it.
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        return parser.format_help().rstrip()
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            shown = {choice.dest for choice in action._choices_actions}
            return {name: sub for name, sub in action.choices.items() if name in shown}
    return {}


def page() -> str:
    parser = _parser()
    lines = [
        GENERATED_NOTE,
        "# Command line",
        "",
        "`hikube-gpu` (`.venv/bin/hikube-gpu`, or `python -m stacks`), generated from its",
        "argparse parser (`stacks/commands/cli.py`). The same text is printed by `--help`.",
        "",
        "```text",
        f"$ hikube-gpu --help\n{_help(parser)}",
        "```",
        "",
    ]
    for name, command in _commands(parser).items():
        lines += [
            f"## `{name}`",
            "",
            "```text",
            f"$ hikube-gpu {name} --help",
            _help(command),
            "```",
            "",
        ]
    return "\n".join(lines)
