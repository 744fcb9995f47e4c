"""The one exception tree of equipoise.

::

    EquipoiseError                 base of everything equipoise raises on purpose
     +-- EvidenceError             evidence files or records that break the schema
     |    +-- EvidenceFileError    a file that cannot be read at all (missing, not CSV, bad header)
     |    +-- EvidenceValidationError   one or more row problems, each ``file:row:field: message``
     |    +-- EffectSizeError      unusable effect-size inputs, each ``study 'x': field: message``
     +-- CatalogueError            an unknown or ambiguous treatment, condition or outcome
     +-- ComparisonError           a comparison that cannot be built (unknown treatment, dimension)
     +-- MeasureError              questionnaire answers that cannot be scored (names the item)
     +-- ClinicError               a clinic request that cannot be carried out (names the field)
     +-- AccessDeniedError         a clinic request the user's role or grants do not allow
     +-- ModelError                a model or estimator used outside its declared constraints
          +-- ConvergenceError     an iterative estimator that did not converge
          +-- ModelFileError       model or strategy file problems, each ``file:line:field: ...``

Every message names what to fix; the CLI prints it on one line and exits 1.

Warnings have their own small tree, so callers can filter everything equipoise warns about::

    EquipoiseWarning (UserWarning)   base of every warning equipoise issues on purpose
     +-- DroppedStudyWarning         studies left out of a result; the message names them
"""

from __future__ import annotations

from dataclasses import dataclass


class EquipoiseError(Exception):
    """Base class for every error equipoise raises on purpose."""


class ClinicError(EquipoiseError):
    """A clinic request that cannot be carried out; ``field`` names what to fix and
    ``status`` is the HTTP status the clinic answers with."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


class AccessDeniedError(EquipoiseError):
    """A clinic request that the signed-in user may not make (answered 403 and audited).

    Not a ClinicError, so that code handling bad input never swallows a denial."""


class EvidenceError(EquipoiseError):
    """Evidence that cannot be accepted."""


class EvidenceFileError(EvidenceError):
    """A file that cannot be read as an evidence table at all."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One schema problem, located to the cell: ``file:row:field: message``.

    ``row`` is the 1-based line number in the file (the header is line 1).
    """

    file: str
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.field}: {self.message}"


class EvidenceValidationError(EvidenceError):
    """Every problem found in one or more evidence files; nothing was loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in evidence"
        super().__init__(head + ":\n" + "\n".join(str(p) for p in self.problems))


class CatalogueError(EquipoiseError):
    """An unknown or ambiguous treatment, condition or outcome name."""


class ComparisonError(EquipoiseError):
    """A comparison that cannot be built as asked."""


class MeasureError(EquipoiseError):
    """Questionnaire answers that cannot be scored: a missing, unknown or out-of-range answer
    (never scored as zero), or an unknown instrument; the message names the item."""


class ModelError(EquipoiseError):
    """A model or estimator used outside its declared constraints."""


class ConvergenceError(ModelError):
    """An iterative estimator that did not converge."""


@dataclass(frozen=True, slots=True)
class FileProblem:
    """One problem in a model or strategy file: ``file:line:field: message``.

    ``line`` is 1-based; ``field`` is the dotted path of the value (``strategies.ssri.lines[0]``).
    """

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.field}: {self.message}"


class ModelFileError(ModelError):
    """Every problem found in a model or strategy file; nothing was built from it."""

    def __init__(self, problems: list[FileProblem]) -> None:
        self.problems: tuple[FileProblem, ...] = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {self.problems[0].file}" \
            if self.problems else "problems in a model file"
        super().__init__(head + ":\n" + "\n".join(str(p) for p in self.problems))


class EffectSizeError(EvidenceError):
    """Effect-size inputs that cannot be used, located to the study and field.

    The message reads ``study 'label': field: message``; ``study`` is ``None`` for problems
    with a whole argument (a missing argument, unequal lengths, an unknown setting).
    """

    def __init__(self, message: str, *, field: str, study: str | None = None) -> None:
        self.field = field
        self.study = study
        where = f"study {study!r}: " if study is not None else ""
        super().__init__(f"{where}{field}: {message}")


class EquipoiseWarning(UserWarning):
    """Base class for every warning equipoise issues on purpose."""


class DroppedStudyWarning(EquipoiseWarning):
    """Studies were left out of a result; the message names each one and why."""
