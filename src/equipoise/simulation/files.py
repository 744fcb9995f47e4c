"""Reading model and strategy files: YAML with every value's line, and errors that name it.

A file is read once into plain Python values plus a map from each value's path (``("strategies",
"ssri", "lines", 0, "treatment")``) to its 1-based line, so a later check can say
``file:line:field: message``. Checks collect every problem before raising, and nothing is built
from a file with any problem.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from equipoise.errors import FileProblem, ModelFileError

Key = str | int
PathT = tuple[Key, ...]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(w|wk|weeks?|y|yr|years?|d|days?|c|cycles?)\s*$")
_PER_UNIT = {"w": 7.0, "d": 1.0, "y": 365.25}


def dotted(path: PathT) -> str:
    """``("strategies", "ssri", "lines", 0)`` -> ``strategies.ssri.lines[0]``."""
    out = ""
    for k in path:
        out += f"[{k}]" if isinstance(k, int) else (f".{k}" if out else str(k))
    return out or "(top level)"


@dataclass(frozen=True, eq=False)
class Document:
    """A parsed YAML mapping with the line of every value in it."""

    name: str
    data: dict[str, Any]
    lines: Mapping[PathT, int]

    def line(self, path: PathT) -> int:
        """The line of ``path``, or of its nearest ancestor present in the file."""
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return 1

    def get(self, path: PathT) -> Any:
        """The value at ``path`` (``None`` when any part is missing)."""
        node: Any = self.data
        for k in path:
            found = (isinstance(k, int) and isinstance(node, list) and 0 <= k < len(node)) \
                or (isinstance(k, str) and isinstance(node, dict) and k in node)
            if found:
                node = node[k]
            else:
                return None
        return node

    def problem(self, path: PathT, message: str) -> FileProblem:
        return FileProblem(self.name, self.line(path), dotted(path), message)


def _walk(node: yaml.Node, path: PathT, lines: dict[PathT, int], name: str,
          scalar: Callable[[yaml.Node], Any]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = scalar(key_node)
            if not isinstance(key, str):
                raise ModelFileError([FileProblem(name, key_node.start_mark.line + 1,
                                                  dotted(path), f"key {key!r} must be text")])
            if key in out:
                raise ModelFileError([FileProblem(name, key_node.start_mark.line + 1,
                                                  dotted((*path, key)),
                                                  "appears twice in the same mapping")])
            out[key] = _walk(value_node, (*path, key), lines, name, scalar)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(v, (*path, i), lines, name, scalar) for i, v in enumerate(node.value)]
    try:
        return scalar(node)
    except ValueError as exc:            # e.g. a date like 2026-13-01
        raise ModelFileError([FileProblem(name, node.start_mark.line + 1, dotted(path),
                                          f"cannot read {node.value!r}: {exc}")]) from exc


def parse_document(text: str, name: str) -> Document:
    """Parse YAML ``text`` (named ``name`` in errors) whose top level is a mapping."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ModelFileError([FileProblem(name, line, "(syntax)",
                                          f"not valid YAML: {exc.problem or exc}")]) from exc
    except yaml.YAMLError as exc:
        raise ModelFileError([FileProblem(name, 1, "(syntax)", f"not valid YAML: {exc}")]) \
            from exc
    if root is None or not isinstance(root, yaml.MappingNode):
        raise ModelFileError([FileProblem(name, 1, "(top level)",
                                          "the file must be a YAML mapping of fields")])
    lines: dict[PathT, int] = {}
    # One safe constructor per document: a node's value as yaml.safe_load would give it.
    data = _walk(root, (), lines, name, yaml.SafeLoader("").construct_object)
    return Document(name, data, lines)


def read_document(path: str | Path) -> Document:
    """Read and parse the YAML file at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelFileError([FileProblem(str(p), 1, "(file)", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError([FileProblem(str(p), 1, "(file)", f"cannot read: {exc}")]) from exc
    return parse_document(text, str(p))


def parse_duration(value: Any) -> tuple[float, str]:
    """``"52w"`` -> ``(52.0, "w")``; units w/d/y/c (cycles). Raises ValueError if malformed."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        return float(value), "c"
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(value)
    return float(m.group(1)), m.group(2)[0]


def days_per(unit: str) -> float | None:
    """Days in one ``unit`` (w, d, y), or None for cycles."""
    return _PER_UNIT.get(unit)


@dataclass
class Checker:
    """Reads typed fields from a Document, collecting every problem; `done` raises them all."""

    doc: Document
    problems: list[FileProblem] = field(default_factory=list)

    def fail(self, path: PathT, message: str) -> None:
        self.problems.append(self.doc.problem(path, message))

    def done(self) -> None:
        if self.problems:
            raise ModelFileError(self.problems)

    def present(self, path: PathT) -> bool:
        return self.doc.get(path) is not None

    def mapping(self, path: PathT, *, required: bool = True) -> dict[str, Any]:
        value = self.doc.get(path)
        if value is None:
            if required:
                self.fail(path, "is required (a mapping)")
            return {}
        if not isinstance(value, dict):
            self.fail(path, f"must be a mapping, got {_kind(value)}")
            return {}
        return value

    def sequence(self, path: PathT, *, required: bool = True) -> list[Any]:
        value = self.doc.get(path)
        if value is None:
            if required:
                self.fail(path, "is required (a list)")
            return []
        if not isinstance(value, list):
            self.fail(path, f"must be a list, got {_kind(value)}")
            return []
        return value

    def text(self, path: PathT, *, default: str | None = None) -> str | None:
        value = self.doc.get(path)
        if value is None:
            if default is None:
                self.fail(path, "is required (text)")
            return default
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"must be non-empty text, got {value!r}")
            return default
        return value

    def choice(self, path: PathT, options: Iterable[str], *,
               default: str | None = None) -> str | None:
        value = self.text(path, default=default)
        opts = list(options)
        if value is not None and value not in opts:
            self.fail(path, f"unknown value {value!r}; expected one of: {', '.join(opts)}")
            return None
        return value

    def number(self, path: PathT, *, default: float | None = None, low: float | None = None,
               high: float | None = None, above: float | None = None,
               what: str = "a number") -> float | None:
        value = self.doc.get(path)
        if value is None:
            if default is None:
                self.fail(path, f"is required ({what})")
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            self.fail(path, f"must be {what}, got {value!r}")
            return None
        x = float(value)
        if low is not None and x < low:
            self.fail(path, f"is {x:g}; {what} must be at least {low:g}")
            return None
        if high is not None and x > high:
            self.fail(path, f"is {x:g}; {what} must be at most {high:g}")
            return None
        if above is not None and x <= above:
            self.fail(path, f"is {x:g}; {what} must be greater than {above:g}")
            return None
        return x

    def probability(self, path: PathT, *, default: float | None = None) -> float | None:
        return self.number(path, default=default, low=0.0, high=1.0,
                           what="a probability in [0, 1]")

    def integer(self, path: PathT, *, default: int | None = None, low: int = 0) -> int | None:
        value = self.doc.get(path)
        if value is None:
            if default is None:
                self.fail(path, "is required (a whole number)")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"must be a whole number, got {value!r}")
            return None
        if value < low:
            self.fail(path, f"is {value}; it must be at least {low}")
            return None
        return value

    def unknown_keys(self, path: PathT, allowed: Sequence[str]) -> None:
        """Report keys of the mapping at ``path`` that are not in ``allowed``, with the
        closest allowed one (a typo)."""
        value = self.doc.get(path)
        if isinstance(value, dict):
            for key in value:
                if key not in allowed:
                    close = difflib.get_close_matches(str(key), list(allowed), n=1)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                    self.fail((*path, key), f"unknown field; {hint}(expected one of: "
                                            f"{', '.join(allowed)})")


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
