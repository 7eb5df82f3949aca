"""The peers of ``benchmarks.peers_bench``, each one whole process that reads the manifests
(``benchmarks.peers_manifests``, JSON) and writes one YAML file per object under OUT:

    python -m benchmarks.peers_contenders {dicts,pulumi,cdk8s} MANIFESTS.json OUT

- ``dicts``: plain dicts → YAML with PyYAML's C dumper (the floor of any Python tool);
- ``pulumi``: a minimal program registering one ``CustomResource`` per object with
  pulumi_kubernetes under ``pulumi.runtime.mocks``, writing what the engine received;
- ``cdk8s``: one ``ApiObject`` per object in a cdk8s ``Chart``, ``App.synth()`` with one file
  per resource (needs the optional ``cdk8s`` package and Node.js).

None imports this project: a peer starts from the same data, not from our code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

Documents = list[dict[str, Any]]


def dump(document: dict[str, Any]) -> str:
    """The YAML text every contender writes (the settings of ``components.yaml_text``)."""
    text: str = yaml.dump(
        document,
        Dumper=yaml.CSafeDumper,
        sort_keys=True,
        default_flow_style=False,
        width=4096,
        allow_unicode=False,
    )
    return text


def write(out: Path, documents: Documents) -> None:
    """``<namespace>/<kind>-<name>.yaml`` per document under ``out``."""
    folders: set[Path] = set()
    for document in documents:
        metadata = document["metadata"]
        folder = out / metadata.get("namespace", "_cluster")
        if folder not in folders:
            folder.mkdir(parents=True, exist_ok=True)
            folders.add(folder)
        path = folder / f"{document['kind'].lower()}-{metadata['name']}.yaml"
        path.write_text(dump(document), encoding="utf-8")


def plain_dicts(objects: Documents, out: Path) -> None:
    write(out, objects)


def _ints(value: Any) -> Any:
    """Numbers back to ints where whole: the engine's protobuf Struct carries every number as a float."""
    if isinstance(value, dict):
        return {key: _ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_ints(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def pulumi_mocks(objects: Documents, out: Path) -> None:
    import pulumi
    import pulumi_kubernetes as k8s
    from pulumi.runtime import mocks

    received: Documents = []

    class Echo(mocks.Mocks):
        def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            if args.typ.startswith("kubernetes:apps.cozystack.io"):
                keys = ("apiVersion", "kind", "metadata", "spec")
                received.append({k: _ints(args.inputs[k]) for k in keys if k in args.inputs})
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], None]:
            return {}, None

    mocks.set_mocks(Echo(), project="peers", stack="bench", preview=True)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        provider = k8s.Provider("k8s", namespace=objects[0]["metadata"]["namespace"] if objects else None)
        opts = pulumi.ResourceOptions(provider=provider)
        urns = []
        for obj in objects:
            resource = k8s.apiextensions.CustomResource(
                f"{obj['kind'].lower()}-{obj['metadata']['name']}",
                api_version=obj["apiVersion"],
                kind=obj["kind"],
                metadata=obj["metadata"],
                spec=obj["spec"],
                opts=opts,
            )
            urns.append(resource.urn)
        return pulumi.Output.all(*urns)

    program()
    if len(received) != len(objects):
        raise SystemExit(f"pulumi: {len(received)} of {len(objects)} objects registered")
    write(out, received)


def cdk8s_synth(objects: Documents, out: Path) -> None:
    import cdk8s  # type: ignore[import-not-found,unused-ignore]

    app = cdk8s.App(outdir=str(out), yaml_output_type=cdk8s.YamlOutputType.FILE_PER_RESOURCE)
    chart = cdk8s.Chart(app, "bench", disable_resource_name_hashes=True)
    for obj in objects:
        meta = obj["metadata"]
        api = cdk8s.ApiObject(
            chart,
            f"{obj['kind'].lower()}-{meta['name']}",
            api_version=obj["apiVersion"],
            kind=obj["kind"],
            metadata=cdk8s.ApiObjectMetadata(
                name=meta["name"],
                namespace=meta.get("namespace"),
                labels=meta.get("labels"),
                annotations=meta.get("annotations"),
            ),
        )
        api.add_json_patch(cdk8s.JsonPatch.add("/spec", obj["spec"]))
    app.synth()


CONTENDERS = {"dicts": plain_dicts, "pulumi": pulumi_mocks, "cdk8s": cdk8s_synth}


def main(argv: list[str]) -> int:
    name, source, out = argv
    objects = [entry["object"] for entry in json.loads(Path(source).read_text(encoding="utf-8"))]
    CONTENDERS[name](objects, Path(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
