"""A config key without a namespace is the project's, as the Pulumi CLI reads a stack file
(``stackConfigNamespacedWithProject`` in the vendored ``tests/upstream/pulumi/v3.259.0/loaders.go``):
the loader, the JSON Schema and the docs agree on ``vms:`` meaning ``hikube-gpu:vms:``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from stacks.commands.cli import PROJECT_DIR
from stacks.loading.stack_file import StackFileError, load_stack_file
from stacks.loading.stack_list import stack_file_path
from tests.helpers import UPSTREAM

SCHEMA = json.loads((PROJECT_DIR / "schema" / "stack-file.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def test_pulumi_gives_a_key_without_a_namespace_the_project_name() -> None:
    """What the rule rests on, read from Pulumi's source rather than assumed."""
    go = (UPSTREAM / "pulumi" / "v3.259.0" / "loaders.go").read_text(encoding="utf-8")
    body = go.split("func stackConfigNamespacedWithProject(", 1)[1].split("\n}\n", 1)[0]
    assert 'if strings.Contains(key, ":") {' in body
    assert 'namespacedKey := fmt.Sprintf("%s:%s", project.Name, key)' in body
    loader = go.split("func LoadProjectStackBytes(", 1)[1].split("\n}\n", 1)[0]
    assert loader.index("stackConfigNamespacedWithProject(") < loader.index("marshaller.Unmarshal(modified")
    assert (PROJECT_DIR / "Pulumi.yaml").read_text(encoding="utf-8").startswith("name: hikube-gpu\n")


def _document(stack: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(stack_file_path(PROJECT_DIR, stack).read_text(encoding="utf-8"))
    return loaded


def _unprefixed(document: dict[str, Any]) -> dict[str, Any]:
    config = {key.removeprefix("hikube-gpu:"): value for key, value in document["config"].items()}
    return {**document, "config": config}


def _errors(document: dict[str, Any]) -> list[str]:
    return sorted(
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(document)
    )


def _write(tmp_path: Path, document: dict[str, Any], name: str = "Pulumi.x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("stack", ["dev", "acme-vms", "globex-ml", "host-example"])
def test_an_example_without_prefixes_is_the_same_stack_to_the_loader_and_valid_to_the_schema(
    tmp_path: Path, stack: str
) -> None:
    document = _unprefixed(_document(stack))
    assert not any(":" in key for key in document["config"])
    path = _write(tmp_path, document)
    assert load_stack_file(PROJECT_DIR, stack, path).config == load_stack_file(PROJECT_DIR, stack).config
    assert _errors(document) == []


def test_the_preview_of_an_unprefixed_file_is_the_preview_of_the_prefixed_one(tmp_path: Path) -> None:
    path = _write(tmp_path, _unprefixed(_document("host-example")))  # kind: platform, unprefixed

    def preview(*args: str) -> str:
        argv = [sys.executable, "-m", "stacks", "preview", "--stack", "host-example", *args]
        done = subprocess.run(argv, cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
        return done.stdout

    assert preview("--config-file", str(path)) == preview()


def test_a_bad_value_under_an_unprefixed_key_is_refused_by_both_at_the_same_place(tmp_path: Path) -> None:
    document = _unprefixed(_document("acme-vms"))
    document["config"]["vms"]["ws-alice"]["gpus"] = {"H200": 1}
    assert any(e.startswith("config.vms.ws-alice.gpus: ") for e in _errors(document)), _errors(document)
    done = subprocess.run(
        [sys.executable, "-m", "stacks", "preview", "--config-file", str(_write(tmp_path, document))],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "hikube-gpu:vms.ws-alice.gpus.H200: 'H200' is not offered" in done.stderr


def test_an_unknown_unprefixed_key_is_refused_by_both(tmp_path: Path) -> None:
    document = _unprefixed(_document("acme-vms"))
    document["config"]["vmz"] = {}
    assert [e for e in _errors(document) if e.startswith("config: 'vmz' ")], _errors(document)
    done = subprocess.run(
        [sys.executable, "-m", "stacks", "preview", "--config-file", str(_write(tmp_path, document))],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "hikube-gpu:vmz" in done.stderr


def test_one_key_spelt_both_ways_is_refused_by_both(tmp_path: Path) -> None:
    """Pulumi would keep either value, by its map's iteration order: neither is safe to assume."""
    document = _document("acme-vms")
    document["config"]["quota"] = {"L40S": 9}
    assert [e for e in _errors(document) if e.startswith("config: ")], _errors(document)
    path = _write(tmp_path, document)
    with pytest.raises(StackFileError, match=re.escape("'hikube-gpu:quota' and 'quota' are one key")):
        load_stack_file(PROJECT_DIR, "acme-vms", path)


def test_the_docs_say_what_pulumi_does() -> None:
    text = " ".join(
        (PROJECT_DIR / page).read_text(encoding="utf-8")
        for page in (
            "docs/guides/new-customer.md",
            "docs/concepts/configuration.md",
            "docs/reference/schema.md",
        )
    )
    text = " ".join(text.split())
    assert text.count("without a namespace is the project's") == 3
