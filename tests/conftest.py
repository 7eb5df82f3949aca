"""pytest configuration. Test helpers live in ``tests/helpers.py``."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from stacks.commands.diff.render_cache import CACHE_ENV


@pytest.fixture(scope="session", autouse=True)
def _render_cache() -> object:
    """The commands the tests run use a render cache of their own, never the user's."""
    folder = tempfile.mkdtemp(prefix="hikube-gpu-test-cache-")
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = folder
    yield folder
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before
    shutil.rmtree(folder, ignore_errors=True)
