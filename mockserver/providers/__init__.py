"""The emulated APIs, one package each: routes, auth, error envelope, per-tenant state."""
