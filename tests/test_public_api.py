"""The public surface is what we intend: explicit __all__, one root exception."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
import re
import types
from pathlib import Path

import pytest

import deconflict
from deconflict import errors


def test_public_names_are_exactly_the_intended_ones():
    assert set(deconflict.__all__) == {
        "ConflictError",
        "Database",
        "DeconflictError",
        "ImportResult",
        "Incident",
        "InvalidInput",
        "NotFound",
        "Notification",
        "PermissionDenied",
        "Site",
        "SiteHit",
        "Source",
        "TimeSpan",
        "VerificationError",
        "__version__",
        "init",
        "open",
        "parse_time",
    }
    for name in deconflict.__all__:
        assert hasattr(deconflict, name)


def test_every_error_derives_from_one_root_and_carries_exit_and_http_status():
    leaves = [
        errors.InvalidInput,
        errors.NotFound,
        errors.ConflictError,
        errors.PermissionDenied,
        errors.VerificationError,
    ]
    for cls in leaves:
        assert issubclass(cls, errors.DeconflictError)
    assert errors.VerificationError.exit_code == 1
    assert {cls.exit_code for cls in leaves if cls is not errors.VerificationError} == {2}
    assert [cls.http_status for cls in leaves] == [400, 404, 409, 403, 422]


def test_error_json_shape():
    error = errors.InvalidInput("not a number: 'x'", where="sites.csv, row 3, field 'lat'")
    assert error.to_json() == {
        "error": {
            "code": "invalid_input",
            "message": "not a number: 'x'",
            "where": "sites.csv, row 3, field 'lat'",
            "status": 400,
        }
    }
    assert str(error) == "sites.csv, row 3, field 'lat': not a number: 'x'"


# -- one privacy rule for every package ---------------------------------------------------------
# A package's __init__ re-exports its public names and lists them in __all__; besides them it
# holds only its submodules. A module whose name starts with "_" is private: only modules of its
# own package import it (or its private names); everything else imports the package's names.
def _every_module() -> list[types.ModuleType]:
    found = [deconflict]
    for info in pkgutil.walk_packages(deconflict.__path__, "deconflict."):
        found.append(importlib.import_module(info.name))
    return found


MODULES = _every_module()
PACKAGES = [m for m in MODULES if hasattr(m, "__path__")]


def _is_private(name: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in name.split("."))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_a_package_exposes_exactly_its_all_and_its_submodules(package: types.ModuleType) -> None:
    public = {name for name in vars(package) if not name.startswith("_")}
    submodules = {
        name
        for name in public
        if isinstance(vars(package)[name], types.ModuleType)
        and vars(package)[name].__name__ == f"{package.__name__}.{name}"
    }
    exported = set(package.__all__) - {"__version__"}
    assert public - submodules == exported
    assert all(hasattr(package, name) for name in package.__all__)


@pytest.mark.parametrize("module", [m for m in MODULES if not _is_private(m.__name__)], ids=lambda m: m.__name__)
def test_every_public_module_declares_all(module: types.ModuleType) -> None:
    assert isinstance(getattr(module, "__all__", None), list)
    assert all(hasattr(module, name) for name in module.__all__)


def test_private_modules_and_names_are_imported_only_inside_their_package() -> None:
    root = Path(deconflict.__file__).parent
    crossings = []
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        importer = ".".join(("deconflict", *parts))
        package = importer.removesuffix(".__init__") if parts[-1] == "__init__" else importer.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                pieces = name.split(".")
                private = next((i for i, p in enumerate(pieces) if p.startswith("_") and not p.startswith("__")), None)
                if private is None or pieces[0] != "deconflict":
                    continue
                owner = ".".join(pieces[:private])
                # A private module belongs to the package that holds it; a private name to its module's package.
                home = owner if importlib.util.find_spec(owner).submodule_search_locations else owner.rsplit(".", 1)[0]
                if package != home and not package.startswith(home + "."):
                    crossings.append(f"{importer} imports {name}")
    assert crossings == []


# -- every error is in errors.py ------------------------------------------------------------------
def test_every_error_class_is_defined_in_errors_and_drawn_in_its_tree() -> None:
    classes = {
        obj
        for module in MODULES
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, errors.DeconflictError)
    }
    assert {cls.__module__ for cls in classes} == {"deconflict.errors"}
    assert {cls.__name__ for cls in classes} == set(errors.__all__) - {"where_named"}
    tree = errors.__doc__ or ""
    for cls in classes:
        line = next(line for line in tree.splitlines() if re.match(rf"[\s│]*(?:[├└]── )?{cls.__name__} ", line))
        assert f"exit {cls.exit_code}, HTTP {cls.http_status}" in line, line


def test_errors_moved_to_errors_are_still_importable_where_they_were() -> None:
    from deconflict.api.auth import Unauthenticated
    from deconflict.report import BrowserError

    assert (Unauthenticated, BrowserError) == (errors.Unauthenticated, errors.BrowserError)
