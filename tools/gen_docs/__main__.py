"""``python -m tools.gen_docs [--check]``: write the generated docs, or list the stale ones."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.gen_docs import ROOT, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.gen_docs",
        description="Write the generated reference pages, pictures and stack-file schema.",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is stale")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="where the files are (default: this repository)"
    )
    args = parser.parse_args(argv)
    stale = []
    for path, text in generate().items():
        target = args.root / path
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    verb = "stale" if args.check else "wrote"
    for path in stale:
        print(f"{verb}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
