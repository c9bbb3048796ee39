"""Loads the conformance plugin when pytest collects this package (`pytest --pyargs contracts`).

When the plugin was already loaded with `-p contracts.plugin` (the CLI does this, so its options parse from any
directory), it is not loaded a second time.
"""

import sys

if "contracts.plugin" not in sys.modules:
    from contracts.plugin import *  # noqa: F403
