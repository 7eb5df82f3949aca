"""Port lists: each port once. The Service ports are named after the port (``port-<n>`` for a
VM, ``tcp-<n>`` for a workload), and a Service's port names must be unique."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from components.checks.issues import Issue, prop


def duplicate_ports(path: tuple[str, ...], ports: Sequence[int]) -> Iterator[Issue]:
    """One issue per repeated entry of ``ports`` (at its index), naming the first."""
    first: dict[int, int] = {}
    for index, port in enumerate(ports):
        earlier = first.setdefault(port, index)
        if earlier != index:
            # upstream: kubernetes/api v0.34.0 core/v1/types.go:6094 (a Service's ports have unique names)
            # upstream: cozystack/cozystack v1.1.2 packages/apps/vm-instance/templates/service.yaml:30-34
            yield Issue(
                prop(*path, index),
                f"{port} is already listed at {prop(*path, earlier).rsplit('.', 1)[-1]}: each port once",
            )
