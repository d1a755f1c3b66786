"""SQL migration scripts (package data, read with importlib.resources)."""

__all__: list[str] = []
