"""API v1 routers (thin: validation, access checks, calls into billing/ and timeseries/)."""
