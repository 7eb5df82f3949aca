"""The package schema, inferred in-process exactly as the component provider host serves it
(``GetSchema``), and its checked-in copy ``schema/components.schema.json``.

``python -m components.package.schema`` rewrites the copy; ``--check`` exits 1 when it is stale.
"""

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from components.package.provider import ComponentPackage

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schema" / "components.schema.json"


def version() -> str:
    """The project's version (pyproject.toml), which the package carries."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def provider() -> ComponentPackage:
    """The provider the host runs (``provider/__main__.py``)."""
    return ComponentPackage(version())


def schema() -> dict[str, Any]:
    """What the host's ``GetSchema`` answers (``Provider.schema``), parsed."""
    loaded: dict[str, Any] = json.loads(provider().schema or "{}")
    return loaded


def render() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when the checked-in schema is stale")
    options = parser.parse_args(argv)
    text = render()
    if options.check:
        current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
        if current != text:
            print(f"{SCHEMA_FILE.relative_to(ROOT)} is stale: run python -m components.package.schema")
            return 1
        return 0
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
