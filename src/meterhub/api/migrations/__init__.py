"""SQL migrations of meterhub.api (0200–0249; 0250–0269 belong to the telemetry routes)."""
