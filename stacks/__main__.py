"""``python -m stacks``: the ``hikube-gpu`` command under another name (same parser, same name in
its help)."""

from stacks.commands.diff import recorder

recorder.start()  # a diff's worker records what it reads from the start (stacks.commands.diff.recorder)

from stacks.commands.cli import main  # noqa: E402

raise SystemExit(main())
