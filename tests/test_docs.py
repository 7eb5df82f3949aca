"""The documentation: generated pages and schema are current, stack files validate against the
schema, the README is a landing page whose links resolve, and the CLI help stands alone."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from stacks.loading.stack_list import stack_file_path
from stacks.validation.config import PlatformStack, TenantStack
from tools.gen_docs import generate
from tools.gen_docs.__main__ import main as gen_docs_main
from tools.gen_docs.rules_ref import all_rules
from tools.gen_docs.schema import MODELINE, stack_file_schema

ROOT = Path(__file__).resolve().parents[1]
STACK_FILES = sorted([*ROOT.glob("Pulumi.*.yaml"), *ROOT.glob("examples/stacks/Pulumi.*.yaml")])


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return generate()


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = stack_file_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _errors(validator: jsonschema.Draft7Validator, document: Any) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


# --- generated files -----------------------------------------------------------------------------


def test_generated_files_are_committed_and_current(generated: dict[str, str]) -> None:
    stale = [
        path
        for path, text in generated.items()
        if not (ROOT / path).exists() or (ROOT / path).read_text(encoding="utf-8") != text
    ]
    assert not stale, f"stale generated files (run `make docs-gen` and commit them): {stale}"


def test_staleness_is_detected(
    tmp_path: Path, generated: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``--check`` passes on the generated files and names one whose text differs."""
    for path, text in generated.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    check = ["--check", "--root", str(tmp_path)]
    assert (gen_docs_main(check), capsys.readouterr().out) == (0, "")
    page = tmp_path / "docs/reference/catalog.md"
    page.write_text(page.read_text(encoding="utf-8").replace("L40S", "L40", 1), encoding="utf-8")
    assert (gen_docs_main(check), capsys.readouterr().out) == (1, "stale: docs/reference/catalog.md\n")
    assert page.read_text(encoding="utf-8") != generated["docs/reference/catalog.md"]  # --check wrote nothing


def _fields(model: type[Any], seen: set[type[Any]]) -> set[str]:
    """Every camelCase key of ``model`` and the models nested in it."""
    from pydantic import BaseModel

    keys: set[str] = set()
    if model in seen:
        return keys
    seen.add(model)
    for name, field in model.model_fields.items():
        keys.add(field.alias or name)
        for nested in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", str(field.annotation)):
            for candidate in _models_named(nested):
                if issubclass(candidate, BaseModel):
                    keys |= _fields(candidate, seen)
    return keys


def _models_named(name: str) -> list[type[Any]]:
    from pydantic import BaseModel

    found: list[type[Any]] = []
    stack: list[type[Any]] = [BaseModel]
    while stack:
        cls = stack.pop()
        stack += cls.__subclasses__()
        if cls.__name__ == name and cls.__module__.startswith(("components.", "stacks.")):
            found.append(cls)
    return found


def test_config_reference_has_every_key_with_its_description(generated: dict[str, str]) -> None:
    page = generated["docs/reference/config.md"]
    keys = _fields(TenantStack, set()) | _fields(PlatformStack, set())
    assert len(keys) > 100
    missing = [k for k in sorted(keys) if not re.search(rf"`(?:[\w\[\]]+\.)*{re.escape(k)}`", page)]
    assert not missing
    # a docstring reaches the page: the guest firewall's default, word for word
    assert "An nftables firewall in the guest that admits only `ports` from outside." in page


def test_rules_reference_lists_every_problem_the_rule_modules_yield(generated: dict[str, str]) -> None:
    page = generated["docs/reference/rules.md"]
    rules = [rule for _, _, found in all_rules() for rule in found]
    ids = [rule.id for rule in rules]
    assert len(ids) == len(set(ids)), "rule ids are unique"
    assert len(rules) >= 60
    for rule in rules:
        assert f"`{rule.id}`" in page.replace("&lt;", "<").replace("\\*", "*")
    messages = [r.message for r in rules]
    assert any(m.startswith("'o1") or "o1 overcommits" in m for m in messages) or any(
        "{series.reason}" in m or "reason" in m for m in messages
    )
    assert any("ports are only used with method PortList" in m for m in messages)


def test_cli_reference_hides_internal_commands(generated: dict[str, str]) -> None:
    page = generated["docs/reference/cli.md"]
    for command in ("preview", "render", "diff", "list", "doctor"):
        assert f"## `{command}`" in page
    assert "render-many" not in page
    assert page.count("exit codes:") >= 5


# --- the schema and the stack files ----------------------------------------------------------------


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_example_stack_file_starts_with_the_modeline_and_validates(
    path: Path, validator: jsonschema.Draft7Validator
) -> None:
    text = path.read_text(encoding="utf-8")
    up = "../" * len(path.parent.relative_to(ROOT).parts)  # the schema path is relative to the file
    assert text.splitlines()[0] == MODELINE.replace("$schema=", f"$schema={up}")
    assert (path.parent / up / MODELINE.split("$schema=", 1)[1]).is_file()
    assert _errors(validator, yaml.safe_load(text)) == []


def _stack(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(stack_file_path(ROOT, name).read_text(encoding="utf-8"))
    return copy.deepcopy(loaded)


@pytest.mark.parametrize(
    ("stack", "change", "where"),
    [
        (
            "dev",
            lambda c: c["hikube-gpu:vms"]["ws-1"]["gpus"].update({"H200": 1}),
            "hikube-gpu:vms.ws-1.gpus",
        ),
        ("dev", lambda c: c["hikube-gpu:vms"]["ws-1"].update({"running": True}), "hikube-gpu:vms.ws-1"),
        ("dev", lambda c: c.update({"hikube-gpu:gpuOperator": {}}), "hikube-gpu:gpuOperator"),
        ("dev", lambda c: c.update({"hikube-gpu:unknown": 1}), "config"),
        ("host-example", lambda c: c.update({"hikube-gpu:quota": {"L40S": 1}}), "hikube-gpu:quota"),
        (
            "host-example",
            lambda c: c["hikube-gpu:nodes"].update({"gpu-node-9": "vm-whatever"}),
            "hikube-gpu:nodes.gpu-node-9",
        ),
        (
            "dev",
            lambda c: c["hikube-gpu:vms"]["ws-1"]["gpus"].update({"L40S": {"secure": "AAAB"}}),
            "hikube-gpu:vms.ws-1.gpus.L40S",
        ),
    ],
    ids=[
        "unknown-gpu",
        "unknown-vm-key",
        "platform-key-in-tenant",
        "unknown-stack-key",
        "tenant-key-in-platform",
        "bad-node-mode",
        "secret-gpu-count",
    ],
)
def test_schema_rejects_what_the_models_reject(
    stack: str, change: Any, where: str, validator: jsonschema.Draft7Validator
) -> None:
    document = _stack(stack)
    change(document["config"])
    errors = _errors(validator, document)
    assert errors, "the schema accepted a broken stack file"
    assert any(
        e.startswith(f"config.{where}") or (where == "config" and e.startswith("config:")) for e in errors
    ), errors


def test_schema_accepts_secrets_where_they_can_stay_secret(validator: jsonschema.Draft7Validator) -> None:
    document = _stack("dev")
    config = document["config"]
    config["hikube-gpu:kubeconfig"] = {"secure": "AAAB"}
    config["kubernetes:context"] = "admin@dev"
    config["hikube-gpu:vms"]["ws-1"]["sshKeys"] = [{"secure": "AAAB"}]
    config["hikube-gpu:quota"] = {"secure": "AAAB"}
    config["hikube-gpu:defaults"] = "customers/dev.yaml"
    config["hikube-gpu:import"] = {"vms": ["ws-1"], "clusters": ["ml"]}
    document["encryptionsalt"] = "v1:abc"
    assert _errors(validator, document) == []


# --- README and site -------------------------------------------------------------------------------


def test_readme_is_a_landing_page_with_the_quick_start() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 200
    quick = text.split("## Quick start", 1)[1]
    block = quick.split("```sh\n", 1)[1].split("```", 1)[0]
    assert block == "make preview\nmake test\n"


def test_readme_has_no_back_to_back_parentheses() -> None:
    """ "(…), (…)" reads as a slip; one parenthesis per remark."""
    assert re.findall(r"\), \(", (ROOT / "README.md").read_text(encoding="utf-8")) == []


def test_readme_and_docs_links_resolve() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert not broken


def test_every_docs_page_is_in_the_nav() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)
    listed = set(re.findall(r"[\w./-]+\.md", str(config["nav"])))
    excluded = config["exclude_docs"].split()  # not pages: the included diff examples, a sources list
    pages = {
        name
        for name in (str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md"))
        if not any(name.startswith(prefix) for prefix in excluded)
    }
    assert excluded == ["gen/", "assets/vendor/SOURCES.md"]
    assert pages - listed == set()
    assert listed - pages == set()


class _Loader(yaml.SafeLoader):
    """mkdocs.yml has ``!!python/name:`` tags (Mermaid fences); they need not resolve here."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/name:", lambda loader, suffix, node: suffix)


def test_makefile_builds_the_site_strictly_in_make_test() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^test: .*\bdocs\b", makefile, re.M)
    assert "mkdocs build --strict" in makefile
    assert "/site/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


# --- CLI help -------------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stacks", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_cli_help_stands_alone() -> None:
    top = _cli("--help")
    assert top.returncode == 0
    assert "render-many" not in top.stdout
    assert "exit codes:" in top.stdout
    for command in ("preview", "render", "diff", "list"):
        text = _cli(command, "--help").stdout
        assert "exit codes:" in text, command
        assert len(text.split("\n\n")[1]) > 40, f"{command} has a description"


def test_cli_version() -> None:
    result = _cli("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"hikube-gpu \d+\.\d+\.\d+\n", result.stdout)


def test_internal_command_still_runs() -> None:
    assert _cli("render-many", "--help").returncode == 0
