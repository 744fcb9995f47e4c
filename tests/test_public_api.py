"""The public surface: a curated, sorted, complete __all__."""

from __future__ import annotations

import equipoise


def test_all_is_sorted_and_every_name_exists() -> None:
    assert list(equipoise.__all__) == sorted(equipoise.__all__)
    for name in equipoise.__all__:
        assert hasattr(equipoise, name), name


def test_all_lists_every_public_name_the_package_binds() -> None:
    public = {n for n in vars(equipoise) if not n.startswith("_")} - {
        "comparison", "datasets", "errors", "evidence", "report", "cli", "synthesis",
        "simulation", "economics", "care", "clinic"}
    assert public | {"__version__"} == set(equipoise.__all__)


def test_every_exception_derives_from_the_one_base() -> None:
    for name in equipoise.__all__:
        obj = getattr(equipoise, name)
        if isinstance(obj, type) and issubclass(obj, Warning):
            assert issubclass(obj, equipoise.EquipoiseWarning)
        elif isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, equipoise.EquipoiseError)


def test_package_ships_its_type_marker() -> None:
    from importlib import resources
    assert resources.files("equipoise").joinpath("py.typed").is_file()
