"""Deterministic YAML text: sorted keys, block style, long lines kept whole.

Uses libyaml's emitter when PyYAML has it (several times faster); the output is the
same as PyYAML's pure-Python emitter for the plain data we dump (tests pin it).
"""

from __future__ import annotations

from typing import Any

import yaml

_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_yaml(data: Any) -> str:
    text: str = yaml.dump(
        data, Dumper=_DUMPER, sort_keys=True, default_flow_style=False, width=4096, allow_unicode=False
    )
    return text
