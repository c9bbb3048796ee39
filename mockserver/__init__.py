"""avatar-emulator: an emulator of AI avatar-video APIs (Boson AI higgs-avatar, HeyGen) for tests.

    from mockserver import Settings, create_app

    app = create_app(Settings(replicas=4))      # an ASGI app: serve it with uvicorn

The names below load on first use, so importing one part (a render worker, the control client)
does not import the whole server.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core.settings import Settings
    from .http.app import create_app
    from .http.errors import ApiError
    from .testkit.control import EmulatorControl
    from .testkit.handle import EmulatorHandle

__all__ = ["ApiError", "EmulatorControl", "EmulatorHandle", "Settings", "create_app"]

_WHERE = {
    "ApiError": ".http.errors",
    "EmulatorControl": ".testkit.control",
    "EmulatorHandle": ".testkit.handle",
    "Settings": ".core.settings",
    "create_app": ".http.app",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
