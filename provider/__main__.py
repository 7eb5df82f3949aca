"""Serve the hikube-gpu components through Pulumi's component provider host (``pulumi.provider.main``).

The Python language host runs this folder as ``<venv>/bin/python <this folder> <engine address>``
(``RunPlugin``, sdk/python/cmd/pulumi-language-python/main.go, pulumi/pulumi v3.259.0); the
server prints its port on stdout and serves GetSchema and Construct
(``tests/test_provider_protocol.py`` starts it that way).
"""

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: `components`

from pulumi.provider import main

from components.package.provider import ComponentPackage
from components.package.schema import version

if __name__ == "__main__":
    # As pulumi-language-python-exec does for programs (v3.259.0): an Output whose value is an
    # error (an invalid arg found once an Output is known) fails the Construct that awaits it;
    # the objects waiting on it are never registered, and asyncio would log each such future.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    main(ComponentPackage(version()), sys.argv[1:])
