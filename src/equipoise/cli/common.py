"""Options shared by several verbs."""

from __future__ import annotations

import argparse


def add_evidence_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--evidence", action="append", default=[], metavar="PATH",
                        help="add your own evidence CSV (same columns as the bundled file); "
                             "repeatable; validated all or nothing")


def add_output_options(parser: argparse.ArgumentParser, formats: tuple[str, ...],
                       default: str = "table") -> None:
    parser.add_argument("--format", choices=formats, default=default,
                        help=f"output format (default {default})")
    parser.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")


def split_list(values: list[str] | None) -> list[str] | None:
    """Accept ``--x a,b --x c`` as ``[a, b, c]``."""
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]
