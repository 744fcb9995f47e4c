"""Read a user's data table for `meta` and `nma`: columns by name, every problem located."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from equipoise.errors import EquipoiseError


class DataError(EquipoiseError):
    """A data file or column that cannot be used."""


@dataclass(frozen=True)
class Table:
    """A CSV file as named columns (text), with the file name for messages."""

    path: str
    columns: dict[str, list[str]]

    @classmethod
    def read(cls, path: str) -> Table:
        p = Path(path)
        try:
            with p.open(encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.DictReader(fh))
        except FileNotFoundError:
            raise DataError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise DataError(f"{path}: is a folder; give the path of a CSV file") from None
        except UnicodeDecodeError:
            raise DataError(f"{path}: not UTF-8 text") from None
        if not rows:
            raise DataError(f"{path}: no data rows")
        return cls(path, {name: [r.get(name) or "" for r in rows] for name in rows[0]})

    def text(self, name: str) -> list[str]:
        if name not in self.columns:
            raise DataError(f"{self.path}: no column {name!r} (columns: "
                            f"{', '.join(self.columns)})")
        return [v.strip() for v in self.columns[name]]

    def numbers(self, name: str, *, allow_missing: bool = False) -> NDArray[np.float64]:
        out = []
        for i, cell in enumerate(self.text(name), start=2):
            if cell in ("", "NA") and allow_missing:
                out.append(np.nan)
                continue
            try:
                out.append(float(cell))
            except ValueError:
                raise DataError(f"{self.path}:{i}:{name}: {cell!r} is not a number") from None
        return np.array(out)

    @property
    def n_rows(self) -> int:
        return len(next(iter(self.columns.values())))
