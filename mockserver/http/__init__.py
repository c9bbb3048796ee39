"""The emulator's HTTP layer: the ASGI app, routing, middleware."""
