"""``python -m stacks``: the offline preview and render (no Pulumi CLI, no cluster)."""

from stacks.offline.cli import main

raise SystemExit(main())
