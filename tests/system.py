"""Debian packages the tests use for real (redis-server, chromium, ffprobe): where one is missing the
test skips with the install command as its reason; in CI, where `.ci/run` installs them, it fails."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def unavailable(reason: str) -> NoReturn:
    """Skip with `reason` (an install command); fail instead in CI."""
    if in_ci():
        pytest.fail(f"missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def system_tool(name: str, install: str) -> str:
    """The path of the program `name`, from the Debian package that `install` installs."""
    found = shutil.which(name)
    if found is None:
        unavailable(f"needs {name}: {install}")
    return found
