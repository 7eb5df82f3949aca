"""Whether every string the platform derives from a config name fits its limit.

The strings and their limits are the profile's ``DERIVED_NAMES`` (read from the chart
templates at the profile's tag); each check computes the real strings from the names given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from components.catalog.derived_names import DERIVED_NAMES, DerivedName, Owner
from components.checks.issues import Issue


def _allowed(entry: DerivedName, value: str, name: str) -> int:
    """The longest ``name`` that keeps ``value`` within the limit (the rest unchanged)."""
    return entry.limit.max - (len(value) - len(name))


def derived_name_issues(
    profile: str,
    owner: Owner,
    *,
    path: str,
    names: Mapping[str, str],
    subject: str,
    advice: str,
    addon_on: Callable[[str], bool | None] = lambda _: True,
) -> Iterator[Issue]:
    """At most one issue at ``path``: the tightest derived string of ``owner`` that is too long.

    ``names`` fills the patterns (``{"cluster": "ml"}``); ``subject`` is the one of them the
    advice is about, ``advice`` a format string with ``{allowed}``. ``addon_on(addon)``: True
    when the add-on is on (its strings must fit: an error), False when it is off but could be
    turned on (a warning), None when the config cannot turn it on (not checked).
    """
    errors: list[tuple[int, DerivedName, str]] = []
    warnings: list[tuple[int, DerivedName, str]] = []
    for entry in DERIVED_NAMES[profile]:
        if entry.owner != owner:
            continue
        value = entry.of(**names)
        if len(value) <= entry.limit.max:
            continue
        state = True if entry.addon is None else addon_on(entry.addon)
        if state is None:
            continue
        found = (_allowed(entry, value, names[subject]), entry, value)
        (errors if state else warnings).append(found)
    if errors:
        allowed, entry, value = min(errors, key=lambda found: found[0])
        # upstream: the entry's source and limit (components/catalog/derived_names.py; the table
        # upstream: "Names the platform derives" below lists every one per profile)
        yield Issue(
            path,
            f"{entry.what} would be {value!r}, {len(value)} characters, but {entry.limit.holds} "
            f"has at most {entry.limit.max} ({entry.source}); " + advice.format(allowed=max(allowed, 0)),
        )
    elif warnings:
        allowed, entry, value = min(warnings, key=lambda found: found[0])
        # upstream: the entry's source and limit (components/catalog/derived_names.py; the table
        # upstream: "Names the platform derives" below lists every one per profile)
        yield Issue(
            path,
            f"turning on addons.{entry.addon} would fail: {entry.what} would be {value!r}, "
            f"{len(value)} characters, but {entry.limit.holds} has at most {entry.limit.max} "
            f"({entry.source}); " + advice.format(allowed=max(allowed, 0)),
            "warning",
        )
