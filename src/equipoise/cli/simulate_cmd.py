"""`equipoise simulate` and `equipoise cea`: run a model or strategy file and report it.

Both verbs read the same input (a file, or a bundled ``--example``) and run the same scenario;
``simulate`` reports outcomes, trajectories and state shares, ``cea`` the cost-effectiveness
analysis (also from a saved ``simulate --format json`` via ``--from-json``). Progress goes to
stderr; results to stdout or, atomically, to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from equipoise.cli.common import add_output_options
from equipoise.cli.output import emit
from equipoise.cli.progress import ProgressBar
from equipoise.datasets.models import EXAMPLES, example_path
from equipoise.report.sim_html import report_html
from equipoise.report.sim_text import cea_text, simulation_text
from equipoise.report.simulation import (
    cea_summary,
    read_simulation_json,
    simulation_summary,
    to_json,
)
from equipoise.simulation.files import read_document
from equipoise.simulation.loading import load_scenario
from equipoise.simulation.run import ScenarioResult, simulate_scenario
from equipoise.simulation.scenario import Scenario


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _amount(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def _above_zero(text: str) -> float:
    value = _amount(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _scheduler(text: str) -> str:
    if text == "local" or (text.startswith("tcp://") and len(text) > len("tcp://")):
        return text
    raise argparse.ArgumentTypeError(f"must be 'local' or tcp://HOST:PORT, got {text!r}")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", metavar="FILE.yaml",
                   help="a model file (format: equipoise-model/1) or strategy file "
                        "(format: equipoise-strategies/1)")
    p.add_argument("--example", metavar="NAME", help="run a bundled example instead of FILE")
    p.add_argument("--list-examples", action="store_true",
                   help="list the bundled examples and exit")
    p.add_argument("--patients", type=_positive_int, metavar="N",
                   help="patients per draw and strategy (default: the file's)")
    p.add_argument("--draws", type=_positive_int, default=1, metavar="D",
                   help="parameter draws for probabilistic sensitivity analysis (default 1: "
                        "the base case)")
    p.add_argument("--horizon", metavar="H",
                   help="time horizon, e.g. 52w, 30y or 30 (cycles); default: the file's")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--scheduler", type=_scheduler, metavar="local|tcp://HOST:PORT",
                   help="run on Dask: a LocalCluster ('local') or a running scheduler; the "
                        "numbers equal the single-process run's")
    p.add_argument("--workers", type=_positive_int, metavar="N",
                   help="worker processes for --scheduler local (default 2)")
    p.add_argument("--wtp", type=_amount, metavar="X",
                   help="willingness to pay per unit of effect: report net benefit and EVPI "
                        "at it and mark it on the plots")
    p.add_argument("--wtp-max", type=_above_zero, metavar="X",
                   help="upper end of the CEAC/EVPI willingness-to-pay grid (default 100,000)")
    add_output_options(p, ("table", "json", "html"))


def register(sub: Any) -> None:
    sim: argparse.ArgumentParser = sub.add_parser(
        "simulate", help="simulate a model or treatment-strategy file",
        description="Run every strategy of a model or strategy file on the same patients and "
                    "parameter draws; report costs, effects, trajectories and state shares. "
                    "Decision support, not medical advice.")
    _common(sim)
    sim.set_defaults(run=run_simulate, usage=sim.error)
    cea: argparse.ArgumentParser = sub.add_parser(
        "cea", help="cost-effectiveness analysis of a model or strategy file",
        description="Incremental analysis (dominance, ICERs), net benefit, CEAC, EVPI and the "
                    "cost-effectiveness plane, from a fresh run or a saved simulate JSON. "
                    "Decision support, not medical advice.")
    _common(cea)
    cea.add_argument("--from-json", metavar="FILE",
                     help="re-analyse a saved `simulate --format json` output instead of "
                          "simulating")
    cea.set_defaults(run=run_cea, usage=cea.error)


def _list_examples() -> str:
    width = max(len(e.name) for e in EXAMPLES)
    return "".join(f"{e.name:<{width}}  {e.kind:<10}  {e.description}\n" for e in EXAMPLES)


def _source(args: argparse.Namespace) -> str:
    """The file to run; usage errors (exit 2) when there is none or two."""
    if args.file is not None and args.example is not None:
        args.usage("give FILE or --example NAME, not both")
    if args.file is None and args.example is None:
        args.usage("give a FILE, --example NAME, or --list-examples")
    if args.workers is not None and args.scheduler != "local":
        args.usage("--workers applies to --scheduler local only")
    return str(example_path(args.example) if args.example is not None else args.file)


def _run(args: argparse.Namespace, scenario: Scenario, build: Callable[[], Scenario],
         n: int) -> ScenarioResult:
    """In this process, or with ``--scheduler`` on Dask workers that build the scenario from
    the same file and run every (strategy, draws, patients) task; the results are identical."""
    progress = ProgressBar("simulate")
    if args.scheduler is None or scenario.method == "cohort":
        if args.scheduler is not None:
            print("note: a cohort run is exact and quick; --scheduler is not used",
                  file=sys.stderr)
        return simulate_scenario(scenario, n, args.seed, progress=progress)
    from equipoise.simulation.scheduler import simulate_scenario_distributed

    workers = args.workers or 2
    if args.scheduler == "local":
        print(f"starting a local Dask cluster of {workers} worker processes", file=sys.stderr)
    return simulate_scenario_distributed(build, n, args.seed, scheduler=args.scheduler,
                                         n_workers=workers, progress=progress)


def _simulate(args: argparse.Namespace) -> dict[str, Any]:
    path = _source(args)
    build = partial(load_scenario, read_document(path), draws=args.draws, seed=args.seed,
                    horizon=args.horizon)
    scenario = build()
    if scenario.n_draws < args.draws:
        print(f"note: no parameter of {path} has a distribution, so --draws {args.draws} gives "
              "one draw (the base case)", file=sys.stderr)
    n = args.patients or scenario.default_patients
    what = ("cohort" if scenario.method == "cohort"
            else f"{n:,} patients x {scenario.n_draws} draw(s)")
    print(f"simulating {len(scenario.strategies)} strategies ({what}, {scenario.n_cycles} "
          f"cycles) from {path}", file=sys.stderr)
    result = _run(args, scenario, build, n)
    given = f"example:{args.example}" if args.example is not None else str(args.file)
    return simulation_summary(result, input_name=given, wtp=args.wtp, wtp_max=args.wtp_max)


def _render(data: dict[str, Any], fmt: str, verb: str) -> str:
    if fmt == "json":
        return to_json(data)
    if fmt == "html":
        return report_html(data, verb=verb)
    return simulation_text(data) if verb == "simulate" else cea_text(data)


def run_simulate(args: argparse.Namespace) -> int:
    if args.list_examples:
        emit(_list_examples(), args.out)
        return 0
    emit(_render(_simulate(args), args.format, "simulate"), args.out)
    return 0


def run_cea(args: argparse.Namespace) -> int:
    if args.list_examples:
        emit(_list_examples(), args.out)
        return 0
    if args.from_json is not None:
        given = [("FILE" if k == "file" else f"--{k}") for k in
                 ("file", "example", "patients", "horizon", "scheduler", "workers")
                 if getattr(args, k) is not None]
        if args.draws != 1 or args.seed != 0:
            given.append("--draws/--seed")
        if given:
            args.usage(f"--from-json re-analyses a saved run; it does not take "
                       f"{', '.join(given)}")
        simulation = read_simulation_json(args.from_json)
    else:
        simulation = _simulate(args)
    emit(_render(cea_summary(simulation, wtp=args.wtp, wtp_max=args.wtp_max), args.format,
                 "cea"), args.out)
    return 0
