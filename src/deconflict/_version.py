"""The version of deconflict, in one place (``pyproject.toml`` reads it from here).

A module of its own so that what only needs the version (the report's footer, ``--version``,
the API's schema) does not import the whole package.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
