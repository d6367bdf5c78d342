"""The kit server's layout holds: the engines chosen by one table, every resource module wired
into the app and drawn in docs/ARCHITECTURE.md, no route served twice."""

from __future__ import annotations

import importlib
import pkgutil
from collections import Counter

import pytest
from conftest import REPO

from helpers import modes
from helpers.kit_server import app, resources
from helpers.kit_server.database import Database
from helpers.kit_server.engines import registry
from helpers.kit_server.file_store import FileService

#: Resource modules without routes of their own (the app's « Invalid URL » handler asks it).
NO_ROUTES = {"not_imitated"}


def resource_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(resources.__path__))


def test_every_engine_name_has_its_entry_in_the_table():
    assert set(registry.ENGINES) == set(modes.Engine)


@pytest.mark.parametrize("name", [modes.Engine.SIMULATED, "simulated"])
def test_the_table_builds_the_engine_a_name_asks_for(tmp_path, name):
    from helpers.kit_server.engines.simulated import SimulatedEngine

    engine = registry.make(name, tmp_path, FileService(Database(tmp_path)), lambda: 0.0)
    assert isinstance(engine, SimulatedEngine)


def test_an_unknown_engine_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="'sandbox'"):
        registry.make("sandbox", tmp_path, FileService(Database(tmp_path)))
    with pytest.raises(ValueError, match="'gpu'"):
        registry.check_usable("gpu")


def test_the_local_engine_says_what_it_lacks_before_any_server(monkeypatch):
    from helpers.kit_server.engines.local import LocalModeUnavailable
    from helpers.local import catalog

    monkeypatch.setattr(catalog, "is_available", lambda: False)
    registry.check_usable(modes.Engine.SIMULATED)  # needs nothing more
    with pytest.raises(LocalModeUnavailable, match="torch"):
        registry.check_usable(modes.Engine.LOCAL)


def test_every_resource_module_is_served_by_the_app():
    served = {module.__name__.rpartition(".")[2] for module in app.RESOURCES}
    assert served == set(resource_modules()) - NO_ROUTES
    for name in NO_ROUTES:
        assert not hasattr(importlib.import_module(f"{resources.__name__}.{name}"), "routes")


def test_no_route_is_served_twice(tmp_path):
    from helpers.kit_server.engines.simulated import SimulatedEngine

    files = FileService(Database(tmp_path))
    engine = SimulatedEngine(tmp_path, files)
    pairs = Counter(
        (route.path, method)
        for module in app.RESOURCES
        for route in module.routes(engine, files, lambda: 0.0)
        for method in route.methods or ()
        if method != "HEAD"  # Starlette adds it to every GET
    )
    assert pairs and all(n == 1 for n in pairs.values()), [p for p, n in pairs.items() if n > 1]


def test_the_architecture_page_draws_every_resource_module():
    page = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = [name for name in resource_modules() if f"    {name}.py " not in page]
    assert not missing, f"docs/ARCHITECTURE.md does not draw resources/{missing}"
