"""``python -m stacks``: the ``hikube-gpu`` command under another name (same parser, same name in
its help)."""

from stacks.offline import recorder

recorder.start()  # a diff's worker records what it reads from the start (stacks.offline.recorder)

from stacks.offline.cli import main  # noqa: E402

raise SystemExit(main())
