"""Running the service: health checks, Prometheus metrics, proxy and origin settings."""
