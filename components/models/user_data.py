"""Checks on user-supplied cloud-init user data. Messages never echo the content (a secret)."""

from __future__ import annotations

import yaml

# cloud-config keys whose lists the generated user data extends.
LIST_KEYS = ("bootcmd", "packages", "write_files", "runcmd", "ssh_authorized_keys")


def is_cloud_config(user_data: str) -> bool:
    """True when the first line is ``#cloud-config`` (trailing spaces and CRLF tolerated)."""
    return user_data.split("\n", 1)[0].strip() == "#cloud-config"


def is_mime(user_data: str) -> bool:
    return user_data.startswith(("Content-Type:", "MIME-Version:"))


def cloud_config_problem(user_data: str) -> str | None:  # noqa: PLR0911 (one return per problem)
    """Why a ``#cloud-config`` document is unusable, or None (other formats are opaque)."""
    if not is_cloud_config(user_data):
        return None
    try:
        parsed = yaml.safe_load(user_data)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return f"#cloud-config is not valid YAML{where}"
    except RecursionError:  # PyYAML composes recursively: thousands of nested lists
        return "#cloud-config nests maps and lists too deeply"
    if parsed is None:
        return None
    if not isinstance(parsed, dict):
        return "#cloud-config must be a YAML mapping"
    for key in LIST_KEYS:
        if key in parsed and not isinstance(parsed[key], list):
            return f"#cloud-config key {key!r} must be a list"
    return None
