"""Arithmetic expressions in model files, read by a restricted AST walker (never `eval`).

An expression is a number or text such as ``rate_to_prob(r_HD * hr_S1)`` over named values.
Only numbers, names, ``+ - * / **``, parentheses, comparisons, ``and``/``or``/``not`` and the
functions in `FUNCTIONS` are accepted; anything else (attributes, subscripts, keywords, strings,
lambdas) is refused when the expression is compiled, before any value is computed. Values are
NumPy arrays, so one evaluation covers every draw, cycle and duration level at once.
"""

from __future__ import annotations

import ast
import difflib
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from equipoise.errors import ModelError

Float = NDArray[np.float64]
Value = Float | np.float64
MAX_LENGTH = 2000
_LARGEST = 1e300                   # larger constants would overflow on the way to float


_ONE = np.float64(1.0)


def _rate_to_prob(rate: Value, time: Value = _ONE) -> Value:
    return 1 - np.exp(-rate * time)


def _prob_to_rate(p: Value, time: Value = _ONE) -> Value:
    return -np.log(1 - p) / time


def _ifelse(cond: Value, yes: Value, no: Value) -> Value:
    return np.where(cond != 0, yes, no)


def _many(f: Callable[[Value, Value], Value]) -> Callable[..., Value]:
    def apply(*args: Value) -> Value:
        out = args[0]
        for a in args[1:]:
            out = f(out, a)
        return out
    return apply


# name -> (function, fewest arguments, most arguments or None for any number)
FUNCTIONS: dict[str, tuple[Callable[..., Value], int, int | None]] = {
    "exp": (np.exp, 1, 1),
    "log": (np.log, 1, 1),
    "sqrt": (np.sqrt, 1, 1),
    "abs": (np.abs, 1, 1),
    "min": (_many(np.minimum), 2, None),
    "max": (_many(np.maximum), 2, None),
    "ifelse": (_ifelse, 3, 3),
    "rate_to_prob": (_rate_to_prob, 1, 2),
    "prob_to_rate": (_prob_to_rate, 1, 2),
}
_BINARY: dict[type[ast.operator], Callable[[Value, Value], Value]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Value, Value], Any]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}
_WORDS = {ast.Attribute: "attributes (a.b)", ast.Subscript: "subscripts (a[i])",
          ast.Lambda: "lambdas", ast.IfExp: "'x if c else y' (use ifelse(c, x, y))",
          ast.List: "lists", ast.Tuple: "tuples (a, b)", ast.Dict: "mappings",
          ast.JoinedStr: "text", ast.NamedExpr: "assignment (:=)"}


@dataclass(frozen=True, eq=False)
class Expression:
    """A checked expression: its text, its syntax tree and the names it reads."""

    text: str
    tree: ast.expr
    names: frozenset[str]

    def evaluate(self, env: Mapping[str, Value]) -> Value:
        """The value over ``env`` (arrays broadcast); non-finite results are the caller's check."""
        with np.errstate(all="ignore"):
            return _eval(self.tree, env)


def compile_expression(source: Any, names: Collection[str]) -> Expression:
    """Check ``source`` (a number or expression text) against the ``names`` it may read.

    Raises
    ------
    ModelError
        The message says what is wrong: a syntax error, a construct that is not allowed, an
        unknown name (with the closest known one) or a function called with the wrong number
        of arguments.
    """
    if isinstance(source, bool) or not isinstance(source, int | float | str):
        raise ModelError(f"must be a number or an expression, got {source!r}")
    if not isinstance(source, str) and not abs(source) <= _LARGEST:   # also refuses nan
        raise ModelError(f"must be a finite number no larger than {_LARGEST:g}")
    text = str(source).strip()
    if not text:
        raise ModelError("is an empty expression")
    if len(text) > MAX_LENGTH:
        raise ModelError(f"is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        why = exc.msg if isinstance(exc, SyntaxError) else "cannot be read"
        raise ModelError(f"is not a valid expression ({why}): {text!r}") from None
    used: set[str] = set()
    _check(tree, set(names), used)
    return Expression(text, tree, frozenset(used))


def _check(node: ast.AST, names: set[str], used: set[str]) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ModelError(f"only numbers may appear as constants, got {node.value!r}")
        if abs(node.value) > _LARGEST:
            raise ModelError(f"numbers must be no larger than {_LARGEST:g}")
        return
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise ModelError(_unknown(node.id, names))
        used.add(node.id)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ModelError(f"unknown function {what!r}; functions are: "
                             f"{', '.join(sorted(FUNCTIONS))}")
        if node.keywords:
            raise ModelError(f"{node.func.id}() takes positional arguments only")
        _, low, high = FUNCTIONS[node.func.id]
        if len(node.args) < low or (high is not None and len(node.args) > high):
            want = str(low) if low == high else f"{low} or more" if high is None \
                else f"{low} to {high}"
            raise ModelError(f"{node.func.id}() takes {want} argument(s), "
                             f"got {len(node.args)}")
        children: list[ast.AST] = list(node.args)
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        children = [node.left, node.right]
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub | ast.Not):
        children = [node.operand]
    elif isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        children = [node.left, *node.comparators]
    elif isinstance(node, ast.BoolOp):
        children = list(node.values)
    else:
        what = _WORDS.get(type(node), f"'{ast.unparse(node)}'")
        raise ModelError(f"{what} not allowed; expressions use numbers, names, + - * / **, "
                         "comparisons, and/or/not and the listed functions")
    for child in children:
        _check(child, names, used)


def _unknown(name: str, names: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(names), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown name {name!r}{hint}"


def _eval(node: ast.expr, env: Mapping[str, Value]) -> Value:
    # Only the node types `_check` admitted reach here.
    if isinstance(node, ast.Constant):
        return np.float64(float(node.value))  # type: ignore[arg-type]
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.UnaryOp):
        x = _eval(node.operand, env)
        if isinstance(node.op, ast.Not):
            return np.asarray(x == 0, dtype=np.float64)
        return -x if isinstance(node.op, ast.USub) else x
    if isinstance(node, ast.Compare):
        left, out = _eval(node.left, env), np.asarray(True)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, env)
            out = out & _COMPARE[type(op)](left, right)
            left = right
        return np.asarray(out, dtype=np.float64)
    if isinstance(node, ast.BoolOp):
        truth = [_eval(v, env) != 0 for v in node.values]
        join = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = truth[0]
        for x in truth[1:]:
            out = join(out, x)
        return np.asarray(out, dtype=np.float64)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return FUNCTIONS[node.func.id][0](*(_eval(a, env) for a in node.args))
