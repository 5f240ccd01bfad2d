"""The demo inventory loaded by `make run` / `steward demo load`."""
