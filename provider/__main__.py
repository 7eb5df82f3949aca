"""Serve the hikube-gpu components through Pulumi's Python component provider host."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: `components`

from pulumi.provider.experimental import component_provider_host

from components.package.components import COMPONENTS, PACKAGE
from components.package.schema import version

if __name__ == "__main__":
    component_provider_host(COMPONENTS, PACKAGE, version=version())
