"""``python -m stacks``: the ``hikube-gpu`` command under another name (same parser, same name in
its help)."""

from stacks.offline.cli import main

raise SystemExit(main())
