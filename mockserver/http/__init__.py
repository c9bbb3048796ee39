"""The HTTP layer: the ASGI app, routing, errors, spec validation, bodies, limits, URL fetching, middleware,
and the replay of recorded cassettes."""
