"""Bundled example model files: published cases written in equipoise's file formats.

Each example is a YAML file in ``data/models/`` whose header comments cite its source and say
what it reproduces. ``kind`` says which format it is in: ``"model"`` for a general model file
(``format: equipoise-model/1``, read by ``simulation.model_file``) and ``"strategies"`` for an
anxiety treatment-strategy file (``format: equipoise-strategies/1``). A new example is one line
in `EXAMPLES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

from equipoise.errors import ModelError

Kind = Literal["model", "strategies"]


@dataclass(frozen=True)
class Example:
    """One bundled example: its name, file in ``data/models/``, format kind and description."""

    name: str
    file: str
    kind: Kind
    description: str


EXAMPLES: tuple[Example, ...] = (
    Example("sick-sicker", "sick_sicker.yaml", "model",
            "Sick-Sicker microsimulation (Krijkamp et al. 2018, Appendix A)"),
    Example("sick-sicker-extended", "sick_sicker_extended.yaml", "model",
            "Sick-Sicker microsimulation with time in sickness and a patient effect modifier "
            "(Krijkamp et al. 2018, Appendix B)"),
    Example("sick-sicker-cohort", "sick_sicker_cohort.yaml", "model",
            "Sick-Sicker cohort model with four strategies and PSA distributions "
            "(Alarid-Escudero et al. 2023 introductory tutorial)"),
    Example("briggs-hiv", "briggs_hiv.yaml", "model",
            "HIV cohort model, zidovudine vs zidovudine + lamivudine (Chancellor 1997; "
            "Briggs et al. 2006)"),
    Example("anxiety", "anxiety.yaml", "strategies",
            "Six adult anxiety strategies over a year: SSRI then SNRI switch, CBT, SSRI + CBT, "
            "IV ketamine with maintenance, ketamine bridge to an SSRI, ketamine + CBT"),
)


def list_examples() -> list[tuple[str, str]]:
    """``(name, description)`` of every bundled example, in the order they are listed."""
    return [(e.name, e.description) for e in EXAMPLES]


def example(name: str) -> Example:
    """The bundled example called ``name``.

    Raises
    ------
    ModelError
        If there is no such example; the message lists the known names.
    """
    for e in EXAMPLES:
        if e.name == name:
            return e
    raise ModelError(f"unknown example {name!r}; bundled examples: "
                     f"{', '.join(e.name for e in EXAMPLES)}")


def example_text(name: str) -> str:
    """The YAML text of the bundled example ``name``."""
    return _resource(example(name).file).read_text(encoding="utf-8")


def example_path(name: str) -> Path:
    """The path of the bundled example ``name`` (a file inside the installed package)."""
    return Path(str(_resource(example(name).file)))


def _resource(file: str) -> Traversable:
    return resources.files("equipoise.datasets").joinpath("data", "models", file)
