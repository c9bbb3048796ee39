"""Signed, expiring media links, like HeyGen's CloudFront URLs (`?Expires=...&Signature=...`).

The signature is an HMAC-SHA256 over the path and the expiry with a secret made when the process
starts, so links stop working when the emulator restarts, when they expire on the tenant's clock,
or when any part of them is changed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from .state import tenant_token

URL_TTL_SECONDS = 7 * 24 * 3600
"""HeyGen: links expire after 7 days; every status call re-signs them."""

MEDIA_PREFIX = "/heygen/files"
KEY_PAIR_ID = "K2EMULATOR"


class Signer:
    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def signature(self, path: str, expires: int) -> str:
        return hmac.new(self._secret, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def media_path(self, tenant: str, video_id: str, name: str) -> str:
        return f"{MEDIA_PREFIX}/{tenant_token(tenant)}/{video_id}/{name}"

    def url(self, base_url: str, tenant: str, video_id: str, name: str, now: float) -> str:
        """A link to one of a video's files, valid for URL_TTL_SECONDS from `now` (tenant clock)."""
        path = self.media_path(tenant, video_id, name)
        expires = int(now) + URL_TTL_SECONDS
        sig = self.signature(path, expires)
        return f"{base_url.rstrip('/')}{path}?Expires={expires}&Signature={sig}&Key-Pair-Id={KEY_PAIR_ID}"

    def check(self, path: str, expires: str | None, signature: str | None, now: float) -> str | None:
        """None if the link is valid at `now`, else the reason it is refused."""
        if not expires or not signature:
            return "the link is not signed (Expires and Signature are required)"
        if not expires.isdigit():
            return "Expires must be a Unix time in seconds"
        if not hmac.compare_digest(self.signature(path, int(expires)), signature):
            return "the signature does not match"
        if int(expires) < now:
            return "the link has expired; call video_status.get for a fresh one"
        return None


SIGNER = Signer()
"""The process's signer: links from another process (or a restarted one) do not verify."""
