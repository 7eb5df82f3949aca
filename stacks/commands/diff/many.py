"""Render several stacks in one process (a worker of ``diff``): imports are paid once.

``python -m stacks render-many --out DIR STACK…`` writes each stack's render under
``DIR/<stack>/`` and, for a stack that cannot render, ``DIR/<stack>.error`` with the
reason. It prints ``done <stack>`` per stack, for progress.

With ``HIKUBE_GPU_RENDER_STREAM=1`` in its environment it writes nothing: it prints one line per
stack, ``render <JSON>`` with the stack's files (or its error) and, when
``HIKUBE_GPU_RENDER_RECORD`` is set too, what the render read (``stacks.commands.diff.recorder``).
Orchestrators that predate the stream never set it; workers that predate it ignore it.

With ``HIKUBE_GPU_RENDER_MORE=1`` too, once it has rendered the stacks of its command line it
asks for more: it prints ``more`` and reads one line from its standard input, a JSON list of
stacks to render next; an empty list, or the end of the input, ends it. A worker's start (its
imports) costs about 40 renders: the orchestrator hands a worker the tail of its revision's
stacks instead of starting another (``stacks.commands.diff.pool``). Workers that predate it
never ask: they end after their command line's stacks, as before.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.commands.diff import recorder
from stacks.commands.diff.revision import ERROR_SUFFIX, MORE, MORE_ENV, STREAM_ENV
from stacks.commands.preview.render import MARKER, RenderCollision, planned
from stacks.commands.preview.runner import run_config
from stacks.loading.stack_file import StackFileError, load_stack_file
from stacks.loading.stack_list import discover

__all__ = [
    "ERROR_SUFFIX",
    "MORE",
    "MORE_ENV",
    "STREAM_ENV",
    "Rendered",
    "discover",
    "render_many",
    "render_one",
]


@dataclass(frozen=True)
class Rendered:
    """One stack's render in memory: file (``<namespace>/<kind>-<name>.yaml``) → text, or why
    it cannot be rendered."""

    files: dict[str, str]
    error: str | None = None


def render_one(project_dir: Path, stack: str) -> Rendered:
    """Render ``stack`` in memory (``render`` writes the same texts)."""
    try:
        run = run_config(load_stack_file(project_dir, stack))  # the plan, without the Pulumi runtime
    except StackFileError as error:
        return Rendered({}, str(error))
    if run.failure is not None:
        return Rendered({}, str(run.failure))
    if run.errors:
        return Rendered({}, "\n".join(run.errors))
    try:
        files = planned(run)
    except RenderCollision as error:
        return Rendered({}, str(error))
    return Rendered({str(path): text for path, (_, text) in sorted(files.items())})


def _as_read_back(text: str) -> str:
    """``text`` as a file written and read back in text mode reads (universal newlines)."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _write(out: Path, stack: str, rendered: Rendered) -> None:
    if rendered.error is not None:
        (out / f"{stack}{ERROR_SUFFIX}").write_text(rendered.error + "\n", encoding="utf-8")
        return
    render_dir = out / stack
    render_dir.mkdir(parents=True, exist_ok=True)
    (render_dir / MARKER).write_text("written by `python -m stacks render-many`\n", encoding="utf-8")
    for relative, text in rendered.files.items():
        path = render_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _line(stack: str, rendered: Rendered, record: dict[str, Any] | None) -> str:
    entry: dict[str, Any] = {"stack": stack}
    if rendered.error is not None:
        entry["error"] = _as_read_back(rendered.error).strip()
    else:
        entry["files"] = {path: _as_read_back(text) for path, text in rendered.files.items()}
    if record is not None:
        entry["record"] = record
    return "render " + json.dumps(entry) + "\n"


def _more() -> list[str]:
    """The next stacks the orchestrator hands over on standard input (none: the end)."""
    sys.stdout.write(f"{MORE}\n")
    sys.stdout.flush()
    line = sys.stdin.readline()
    stacks = json.loads(line) if line.strip() else []
    if not isinstance(stacks, list) or not all(isinstance(stack, str) for stack in stacks):
        raise ValueError("the orchestrator's answer is not a list of stack names")
    return stacks


def render_many(project_dir: Path, stacks: list[str], out: Path) -> None:
    stream = os.environ.get(STREAM_ENV) == "1"
    more = stream and os.environ.get(MORE_ENV) == "1"
    watch = recorder.from_environment(project_dir) if stream else None
    if not stream:
        out.mkdir(parents=True, exist_ok=True)
    while stacks:
        for stack in stacks:
            record: dict[str, Any] | None = None
            if watch is not None:
                with watch.recording() as record:
                    rendered = render_one(project_dir, stack)
            else:
                rendered = render_one(project_dir, stack)
            if stream:
                sys.stdout.write(_line(stack, rendered, record))
                sys.stdout.flush()
            else:
                _write(out, stack, rendered)
                print(f"done {stack}", flush=True)
        stacks = _more() if more else []
    sys.stdout.flush()
