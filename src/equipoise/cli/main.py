"""Entry point: parse arguments, run a verb, map errors to exit codes (0 ok, 1 user, 2 usage)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

from equipoise import __version__
from equipoise.cli import (
    claims_cmd,
    compare_cmd,
    evidence_cmd,
    meta_cmd,
    nma_cmd,
    plan_cmd,
    simulate_cmd,
)
from equipoise.errors import EquipoiseError, EvidenceValidationError, ModelFileError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="equipoise",
        description="Cited comparison of ketamine infusions with SSRIs/SNRIs, CBT and their "
                    "combinations for anxiety. Supports clinicians' decisions; not medical advice.")
    parser.add_argument("--version", action="version", version=f"equipoise {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    compare_cmd.register(sub)
    claims_cmd.register(sub)
    evidence_cmd.register(sub)
    meta_cmd.register(sub)
    nma_cmd.register(sub)
    plan_cmd.register(sub)
    simulate_cmd.register(sub)
    # Groups above the CLI (the clinic) register through an entry point, so the CLI never
    # imports them; a group whose extra is not installed is left out.
    for ep in sorted(entry_points(group="equipoise.commands"), key=lambda e: e.name):
        try:
            register = ep.load()
        except ImportError as exc:
            _missing_extra(sub, ep.name, exc)
            continue
        register(sub)
    return parser


def _missing_extra(sub: Any, name: str, exc: ImportError) -> None:
    """A command group whose extra is not installed says how to install it."""
    def run(_args: argparse.Namespace) -> int:
        print(f"error: `equipoise {name}` needs its extra: pip install \"equipoise[{name}]\" "
              f"({exc})", file=sys.stderr)
        return 1

    p = sub.add_parser(name, help=f"(not installed: pip install \"equipoise[{name}]\")",
                       add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(run=run)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except EvidenceValidationError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"error: {len(exc.problems)} problem(s) in evidence files; nothing was loaded",
              file=sys.stderr)
        return 1
    except ModelFileError as exc:
        for file_problem in exc.problems:
            print(file_problem, file=sys.stderr)
        print(f"error: {len(exc.problems)} problem(s) in the model file; nothing was run",
              file=sys.stderr)
        return 1
    except EquipoiseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
