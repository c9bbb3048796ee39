"""Where rendered media lives: a folder per tenant, removed on exit unless it is the data dir."""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
from pathlib import Path

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class MediaStore:
    """Files of rendered media, addressed by (tenant, job id, suffix)."""

    def __init__(self, root: Path | None = None) -> None:
        self._temporary = root is None
        self.root = Path(tempfile.mkdtemp(prefix="avatar-emulator-")) if root is None else Path(root) / "media"
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, tenant: str, job_id: str, suffix: str) -> Path:
        folder = self.root / _SAFE.sub("_", tenant)
        folder.mkdir(exist_ok=True)
        return folder / f"{_SAFE.sub('_', job_id)}{suffix}"

    def scratch(self, tenant: str, suffix: str) -> Path:
        """A new, unique path for an input being decoded (the caller removes it)."""
        return self.path(tenant, f"in_{secrets.token_hex(8)}", suffix)

    def drop_tenant(self, tenant: str) -> None:
        shutil.rmtree(self.root / _SAFE.sub("_", tenant), ignore_errors=True)

    def close(self) -> None:
        if self._temporary:
            shutil.rmtree(self.root, ignore_errors=True)
