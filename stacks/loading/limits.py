"""The documented limits of a stack's config text (``docs/limits.md``), one source for each.

They bound what reading a stack file or a structured config value may cost: past one, the
reader stops with a config error naming the file (and line) or the key, before any work.
"""

from __future__ import annotations

MAX_FILE_BYTES = 4 * 1024 * 1024
"""A stack file (``Pulumi.<stack>.yaml``, ``Pulumi.yaml``) or one key's JSON text: 4 MiB."""
MAX_DEPTH = 64
"""Nested maps and lists (through aliases too); a stack's config needs fewer than 10."""
MAX_NODES = 250_000
"""Maps, lists and scalars in one file after aliases are expanded (a 2,000-VM stack has ~40,000)."""
MAX_EXPANDED_CHARS = 16 * 1024 * 1024
"""Characters of scalar text in one file after aliases are expanded."""
MAX_INTEGER = 2**63 - 1
"""Integers are 64-bit, as the Pulumi CLI (Go) reads them; a bigger one is an error."""
MAX_STACK_OBJECTS = 3_000
"""VMs + clusters + node groups + workloads + nodes in one stack (``docs/limits.md``)."""


class LimitError(ValueError):
    """Config text that is not in the accepted subset or exceeds a limit; ``line``/``column``
    (1-based) locate it in a file when known. The message never quotes a value."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
