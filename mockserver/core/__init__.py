"""The runtime: state, tenants, clocks, jobs and media. It knows no provider and no HTTP."""
