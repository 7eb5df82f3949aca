"""Re-copy vendored upstream files from their repositories and record the commit.

Each file under tests/upstream has one row in SOURCES.md (repository, ref, commit, path,
licence, how it was taken). This script fetches the ref (or a new one), writes the file
again and puts the ref and commit into its row::

    python tests/upstream/refresh.py gpu-operator/values-v26.7.0.yaml
    python tests/upstream/refresh.py --ref v1.1.3 cozystack/v1.1.2/apps/vm-instance/values.schema.json
    python tests/upstream/refresh.py --check --all   # every file as its row's commit has it?

``--git-dir`` reads from a local clone instead of fetching (one repository per call).
A subset file (a part of a large upstream file) is cut again the same way, keeping the
same parts (the keys or definitions it holds today).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

HERE = Path(__file__).parent
SOURCES = HERE / "SOURCES.md"
CACHE = Path.home() / ".cache" / "hikube-gpu" / "upstream"
COLUMNS = ("file", "repository", "ref", "commit", "path in repository", "licence", "taken")
OWN_FILES = frozenset({"SOURCES.md", "refresh.py"})


@dataclass(frozen=True)
class Source:
    """One row of SOURCES.md."""

    file: str
    repository: str
    ref: str
    commit: str
    path: str
    licence: str
    taken: str


def _cell(text: str) -> str:
    return text.strip().strip("`")


def read_sources(text: str) -> list[Source]:
    """The rows of the sources table (the table whose header starts with ``| file |``)."""
    rows: list[Source] = []
    in_table = False
    for line in text.splitlines():
        cells = [_cell(c) for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if tuple(cells) == COLUMNS:
            in_table = True
        elif in_table and cells and not set("".join(cells)) <= set("-: "):
            rows.append(Source(*cells))
        elif in_table and not cells:
            break
    return rows


def with_commit(text: str, file: str, ref: str, commit: str) -> str:
    """SOURCES.md with ``file``'s row naming ``ref`` and ``commit``."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        cells = line.split("|")
        if len(cells) == len(COLUMNS) + 2 and _cell(cells[1]) == file:
            cells[3], cells[4] = f" `{ref}` ", f" `{commit}` "
            lines[index] = "|".join(cells)
            return "".join(lines)
    raise KeyError(f"{file} is not listed in {SOURCES.name}")


# --- taking a file --------------------------------------------------------------------------


def _kubevirt_configuration(upstream: bytes, current: bytes, source: Source) -> bytes:
    """The ``spec.configuration`` properties of the KubeVirt CRD that the file holds today."""
    keys = list(yaml.safe_load(current)["properties"])
    crd = next(
        doc
        for doc in yaml.safe_load_all(upstream)
        if doc
        and doc.get("kind") == "CustomResourceDefinition"
        and doc["metadata"]["name"] == "kubevirts.kubevirt.io"
    )
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    configuration = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["configuration"]
    document = {
        "source": f"{source.repository} {source.ref} {source.path}",
        "crd": "kubevirts.kubevirt.io",
        "version": "v1",
        "path": "spec.versions[v1].schema.openAPIV3Schema.properties.spec.properties.configuration.properties.<key>",
        "properties": {key: configuration["properties"][key] for key in keys},
    }
    return yaml.safe_dump(document, sort_keys=False, width=1000).encode()


def _swagger_closure(upstream: bytes, current: bytes, source: Source) -> bytes:
    """The OpenAPI definition named after ``from`` in ``taken``, with every definition it
    references, directly or not (so each ``$ref`` resolves)."""
    root = source.taken.rsplit(" ", 1)[-1]
    definitions = json.loads(upstream)["definitions"]
    kept: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        if name not in kept:
            kept.add(name)
            todo += re.findall(r'"\$ref": "#/definitions/([^"]+)"', json.dumps(definitions[name]))
    document = {
        "source": f"{source.repository} {source.ref} {source.path} (definitions reachable from {root})",
        "definitions": {name: definitions[name] for name in sorted(kept)},
    }
    return json.dumps(document, indent=1).encode()


def _pci_ids_nvidia(upstream: bytes, current: bytes, source: Source) -> bytes:
    """The pci.ids header comment and the NVIDIA (10de) vendor block."""
    lines = upstream.decode().split("\n")
    header = [line for line in lines[: lines.index("")] if line.startswith("#")]
    start = lines.index("10de  NVIDIA Corporation")
    end = next(i for i in range(start + 1, len(lines)) if re.match(r"^[0-9a-f]{4}  ", lines[i]))
    marker = "# --- excerpt: NVIDIA vendor (10de) section only ---"
    return ("\n".join([*header, marker, *lines[start:end]]) + "\n").encode()


LINES_KIND = "subset: lines "
"""``subset: lines 30-35, 155-170``: those lines, each prefixed with its number in the file."""
FILE_SECTION = "# --- file: {path} ---"
"""A folder path (ending in ``/``) is taken as its files, each after this line (sorted by path)."""


def _lines(upstream: bytes, current: bytes, source: Source) -> bytes:
    """The line ranges named in ``taken``, numbered as upstream numbers them."""
    lines = upstream.decode().split("\n")
    out = [
        f"# --- excerpt: {source.repository} {source.ref} {source.path}, {source.taken.removeprefix('subset: ')} ---"
    ]
    for part in source.taken.removeprefix(LINES_KIND).split(","):
        first, _, last = part.strip().partition("-")
        for number in range(int(first), int(last or first) + 1):
            out.append(f"{number:>5}: {lines[number - 1]}".rstrip())
    return ("\n".join(out) + "\n").encode()


def numbered_excerpt(text: str) -> dict[int, str]:
    """A ``subset: lines`` file as {line number: upstream line}."""
    found = {}
    for line in text.splitlines():
        number, sep, rest = line.partition(":")
        if sep and number.strip().isdigit():
            found[int(number)] = rest.removeprefix(" ")
    return found


def folder_files(text: str) -> dict[str, list[str]]:
    """A folder taken ``concatenated`` as {path in repository: its lines} (line n at index n-1)."""
    files: dict[str, list[str]] = {}
    current: list[str] | None = None
    marker = re.compile("^" + re.escape(FILE_SECTION).replace(re.escape("{path}"), "(.+)") + "$")
    for line in text.split("\n"):
        match = marker.match(line)
        if match:
            current = files.setdefault(match.group(1), [])
        elif current is not None:
            current.append(line)
    return files


TAKE: dict[str, Callable[[bytes, bytes, Source], bytes]] = {
    "verbatim": lambda upstream, current, source: upstream,
    "concatenated: every file under the folder": lambda upstream, current, source: upstream,
    "subset: KubeVirt CRD spec.configuration properties": _kubevirt_configuration,
    "subset: swagger definitions reachable from v1.VirtualMachine": _swagger_closure,
    "subset: pci.ids header and vendor 10de": _pci_ids_nvidia,
}


def taker(taken: str) -> Callable[[bytes, bytes, Source], bytes] | None:
    """How a row's file is taken (None: a ``taken`` this script does not know)."""
    if taken.startswith(LINES_KIND) and re.fullmatch(
        r"[0-9]+(-[0-9]+)?(, ?[0-9]+(-[0-9]+)?)*", taken[len(LINES_KIND) :]
    ):
        return _lines
    return TAKE.get(taken)


def _git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True).stdout


def _resolve(source: Source, ref: str, git_dir: Path | None) -> tuple[Path, str]:
    """A git directory holding ``ref`` of the source's repository, and the commit."""
    if git_dir is None:
        git_dir = CACHE / f"{source.repository.replace('/', '+')}.git"
        if not git_dir.exists():
            subprocess.run(["git", "init", "--quiet", "--bare", str(git_dir)], check=True)
        url = f"https://github.com/{source.repository}.git"
        _git(git_dir, "fetch", "--quiet", "--depth=1", url, ref)
        ref = "FETCH_HEAD"
    return git_dir, _git(git_dir, "rev-parse", f"{ref}^{{commit}}").decode().strip()


def _upstream(git_dir: Path, commit: str, path: str) -> bytes:
    """The file at ``path``, or for a folder (``path`` ending in ``/``) its files, each after a
    ``FILE_SECTION`` line."""
    if not path.endswith("/"):
        return _git(git_dir, "show", f"{commit}:{path}")
    names = sorted(_git(git_dir, "ls-tree", "-r", "--name-only", commit, path).decode().split("\n"))
    parts = []
    for name in filter(None, names):
        body = _git(git_dir, "show", f"{commit}:{name}")
        parts.append(
            FILE_SECTION.format(path=name).encode() + b"\n" + body + (b"" if body.endswith(b"\n") else b"\n")
        )
    return b"".join(parts)


def refresh(source: Source, ref: str, git_dir: Path | None, check: bool) -> tuple[bool, str]:
    """Take the file again at ``ref``; returns (unchanged, commit). ``check``: take it at the
    recorded commit and write nothing."""
    git_dir, commit = _resolve(source, source.commit if check else ref, git_dir)
    upstream = _upstream(git_dir, commit, source.path)
    target = HERE / source.file
    current = target.read_bytes() if target.exists() else b""
    take = taker(source.taken)
    if take is None:
        raise KeyError(f"{source.file}: unknown way to take it: {source.taken!r}")
    content = take(upstream, current, replace(source, ref=ref))
    if not check:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        SOURCES.write_text(with_commit(SOURCES.read_text(encoding="utf-8"), source.file, ref, commit))
    return content == current, commit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="paths under tests/upstream, as listed in SOURCES.md")
    parser.add_argument("--all", action="store_true", help="every listed file")
    parser.add_argument("--ref", help="take the file at this tag or branch (default: the row's ref)")
    parser.add_argument("--git-dir", type=Path, help="a local clone of the repository, instead of fetching")
    parser.add_argument("--check", action="store_true", help="only report files that differ from upstream")
    args = parser.parse_args(argv)
    rows = {row.file: row for row in read_sources(SOURCES.read_text(encoding="utf-8"))}
    unknown = [f for f in args.files if f not in rows]
    if unknown or not (args.files or args.all):
        parser.error(f"not listed in SOURCES.md: {', '.join(unknown)}" if unknown else "name files or --all")
    differ = 0
    for file in rows if args.all else args.files:
        row = rows[file]
        same, commit = refresh(row, args.ref or row.ref, args.git_dir, args.check)
        status = "same" if same else ("DIFFERS" if args.check else "updated")
        print(f"{status:8} {file}  {row.repository}@{args.ref or row.ref} ({commit[:12]})")
        differ += not same
    return 1 if args.check and differ else 0


if __name__ == "__main__":
    sys.exit(main())
