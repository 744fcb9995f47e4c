"""Benchmark: REML for 10,000 random-effects meta-analyses, equipoise vs PyMARE vs metafor.

Three engines fit the same simulated datasets side by side in one run of this script:

(a) equipoise: one batched ``MetaAnalysis("REML", threshold=1e-10).fit(batch)`` call, the
    public path users call (best of 5 after a warm-up); the tau² stage alone
    (``REML().estimate(batch)``) is timed as well and printed, not tabled;
(b) PyMARE: its 2-D ``VarianceBasedLikelihoodEstimator(method="REML")`` (Wald SEs), one fit per
    distinct k on a (k, n_k) array, its fastest form (best of 5 after a warm-up);
(c) metafor: ``rma(method="REML", control=list(threshold=1e-12, maxiter=10000))`` in an R
    loop over every dataset, timed inside R with ``proc.time()`` (once).

Datasets: k ~ U{3..40}, vi ~ U(0.01, 1), mu ~ U(-1, 1), tau² ~ U(0, 0.5),
yi ~ N(mu, vi + tau²). Plain Fisher scoring (metafor's algorithm with its default step
length) diverges on about 0.6% of such datasets, where rma() stops with an error; those
candidates are redrawn so all engines fit the same 10,000 datasets. The rejected ones are
fitted separately by equipoise (and, with --check-rejected, by metafor, retrying with
stepadj = 0.5) and reported, not timed.

``--write-hard PATH`` writes the redrawn candidates and the kept datasets whose restricted
likelihood is bimodal (a maximum at tau² = 0 and another inside) to a JSON file and stops;
validation/metafor_reml_hard.R adds metafor's fits to it (tests/reference/metafor_reml_hard.json).

Usage: python benchmarks/pairwise_reml.py [--n 10000] [--seed 20240501] [--skip-r]
       [--check-rejected] [--out results.csv] [--write-hard hard.json]
Needs PyMARE (``pip install -e '.[bench]'``) and, unless --skip-r, Rscript with metafor.
Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from equipoise.errors import ConvergenceError
from equipoise.synthesis.batch import MetaBatch
from equipoise.synthesis.pairwise import MetaAnalysis
from equipoise.synthesis.tau2 import REML

K_MIN, K_MAX = 3, 40
THRESHOLD, MAXITER = 1e-10, 1000   # equipoise's convergence settings (also the screen's)

R_SCRIPT = r"""
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
ys <- split(d$yi, d$id)
vs <- split(d$vi, d$id)
n <- length(ys)
tau2 <- est <- se <- rep(NA_real_, n)
failed <- rep(FALSE, n)
ctrl <- list(threshold = 1e-12, maxiter = 10000)
t0 <- proc.time()
for (i in seq_len(n)) {
  r <- tryCatch(rma(ys[[i]], vs[[i]], method = "REML", control = ctrl),
                error = function(e) NULL)
  if (is.null(r)) {
    # metafor's documented remedy when Fisher scoring diverges: a shorter step
    failed[i] <- TRUE
    r <- tryCatch(rma(ys[[i]], vs[[i]], method = "REML",
                      control = c(ctrl, list(stepadj = 0.5))), error = function(e) NULL)
  }
  if (!is.null(r)) {
    tau2[i] <- r$tau2; est[i] <- r$beta[1]; se[i] <- r$se
  }
}
el <- proc.time() - t0
write.csv(data.frame(id = as.integer(names(ys)), tau2 = tau2, estimate = est, se = se,
                     failed = as.integer(failed)), args[2], row.names = FALSE)
cat(sprintf("%.6f\n%.6f\n", el[["elapsed"]], el[["user.self"]] + el[["sys.self"]]),
    file = args[3])
cat(sprintf("metafor %s, %s\n", packageVersion("metafor"), R.version.string), file = args[4])
"""


def fisher_scoring_converges(y: np.ndarray, v: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Whether plain REML Fisher scoring (HE start, halving at 0) converges, per dataset.

    An independent intercept-only numpy version of the algorithm metafor and equipoise share,
    used only to screen the simulated datasets; it is not timed.
    """
    k = mask.sum(axis=1).astype(float)
    vm = np.where(mask, v, 0.0)
    ybar = np.where(mask, y, 0.0).sum(axis=1) / k
    rss = (np.where(mask, y - ybar[:, None], 0.0) ** 2).sum(axis=1)
    tau2 = np.maximum(rss / (k - 1) - vm.sum(axis=1) / k, 0.0)   # Hedges (HE) start
    active = np.ones(y.shape[0], dtype=bool)
    for _ in range(MAXITER):
        if not active.any():
            break
        w = np.where(mask, 1.0 / (v + tau2[:, None]), 0.0)
        sw, sw2, sw3 = w.sum(axis=1), (w**2).sum(axis=1), (w**3).sum(axis=1)
        mu = (w * np.where(mask, y, 0.0)).sum(axis=1) / sw
        r = np.where(mask, y - mu[:, None], 0.0)
        ypy2 = (w**2 * r**2).sum(axis=1)
        tr_p = sw - sw2 / sw
        tr_pp = sw2 - 2 * sw3 / sw + (sw2 / sw) ** 2
        adj = np.where(active, (ypy2 - tr_p) / tr_pp, 0.0)
        while (low := tau2 + adj < 0).any():
            adj = np.where(low, adj / 2, adj)
        tau2 = tau2 + adj
        active &= np.abs(adj) > THRESHOLD
    return ~active


def draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """n candidate datasets as padded (n, K_MAX) arrays y, v, mask."""
    k = rng.integers(K_MIN, K_MAX + 1, size=n)
    mu = rng.uniform(-1.0, 1.0, size=n)
    tau2 = rng.uniform(0.0, 0.5, size=n)
    v = rng.uniform(0.01, 1.0, size=(n, K_MAX))
    y = rng.normal(mu[:, None], np.sqrt(v + tau2[:, None]))
    mask = np.arange(K_MAX)[None, :] < k[:, None]
    return np.where(mask, y, 0.0), np.where(mask, v, 1.0), mask


def simulate(n: int, seed: int) -> tuple[list[tuple[np.ndarray, np.ndarray]],
                                         list[tuple[np.ndarray, np.ndarray]]]:
    """n datasets on which Fisher scoring converges, and the candidates rejected on the way."""
    rng = np.random.default_rng(seed)
    kept: list[tuple[np.ndarray, np.ndarray]] = []
    rejected: list[tuple[np.ndarray, np.ndarray]] = []
    while len(kept) < n:
        need = n - len(kept)
        y, v, mask = draw(rng, need + need // 50 + 10)
        ok = fisher_scoring_converges(y, v, mask)
        for b in range(y.shape[0]):
            pair = (y[b, mask[b]].copy(), v[b, mask[b]].copy())
            if ok[b] and len(kept) < n:
                kept.append(pair)
            elif not ok[b]:
                rejected.append(pair)
    return kept, rejected


def best_of(fn, repeats: int = 5) -> tuple[float, float, object]:
    """Best wall-clock and best CPU seconds of ``repeats`` calls after a warm-up call."""
    fn()   # warm-up
    wall, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, out


def run_equipoise(groups: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, object]:
    t0 = time.perf_counter()
    batch = MetaBatch.from_groups(groups)
    build = time.perf_counter() - t0
    model = MetaAnalysis("REML", threshold=THRESHOLD, maxiter=MAXITER)
    seconds, cpu, res = best_of(lambda: model.fit(batch))
    stage = REML(threshold=THRESHOLD, maxiter=MAXITER)
    tau2_seconds, tau2_cpu, _ = best_of(lambda: stage.estimate(batch))
    return {"seconds": seconds, "cpu": cpu, "build": build, "tau2_seconds": tau2_seconds,
            "tau2_cpu": tau2_cpu, "tau2": np.asarray(res.tau2),
            "estimate": np.asarray(res.estimate).reshape(-1),
            "se": np.asarray(res.se).reshape(-1), "iterations": np.asarray(res.iterations)}


def run_pymare(groups: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, object] | None:
    try:
        import pymare
        from pymare.estimators import VarianceBasedLikelihoodEstimator
    except ImportError:
        print("PyMARE is not installed (pip install -e '.[bench]'); skipping it", file=sys.stderr)
        return None
    ks = np.array([len(g[0]) for g in groups])
    by_k = []
    for k in np.unique(ks):
        idx = np.flatnonzero(ks == k)
        y = np.stack([groups[i][0] for i in idx], axis=1)   # (k, n_k): PyMARE's layout
        v = np.stack([groups[i][1] for i in idx], axis=1)
        by_k.append((idx, y, v, np.ones((k, 1))))

    def fit_all() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        out = []
        for idx, y, v, x in by_k:
            est = VarianceBasedLikelihoodEstimator(method="REML",
                                                   small_sample_correction="wald")
            est.fit(y=y, v=v, X=x)
            out.append((idx, est.params_["tau2"].reshape(-1),
                        est.params_["fe_params"].reshape(-1)))
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds, cpu, fits = best_of(fit_all)
    tau2 = np.empty(len(groups))
    estimate = np.empty(len(groups))
    for idx, t, b in fits:   # type: ignore[union-attr]
        tau2[idx], estimate[idx] = t, b
    return {"seconds": seconds, "cpu": cpu, "tau2": tau2, "estimate": estimate,
            "fits": len(by_k),
            "version": pymare.__version__}


def write_long(groups: list[tuple[np.ndarray, np.ndarray]], path: Path) -> None:
    rows = [np.column_stack([np.full(len(y), i + 1), y, v]) for i, (y, v) in enumerate(groups)]
    np.savetxt(path, np.concatenate(rows), delimiter=",", header="id,yi,vi", comments="",
               fmt=["%d", "%.17g", "%.17g"])


def run_metafor(groups: list[tuple[np.ndarray, np.ndarray]],
                tmp: Path, tag: str) -> dict[str, object] | None:
    if shutil.which("Rscript") is None:
        print("Rscript not found; skipping metafor", file=sys.stderr)
        return None
    data, out, el, ver = (tmp / f"{tag}-{x}" for x in ("data.csv", "out.csv", "time.txt",
                                                        "version.txt"))
    script = tmp / "rma_loop.R"
    script.write_text(R_SCRIPT)
    write_long(groups, data)
    subprocess.run(["Rscript", str(script), str(data), str(out), str(el), str(ver)],
                   check=True)
    res = np.genfromtxt(out, delimiter=",", names=True)
    order = np.argsort(res["id"])
    wall, cpu = (float(x) for x in el.read_text().split())
    return {"seconds": wall, "cpu": cpu, "tau2": res["tau2"][order],
            "estimate": res["estimate"][order], "se": res["se"][order],
            "failed": res["failed"][order].astype(bool), "version": ver.read_text().strip()}


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.nanmax(np.abs(a - b)))


def ratio(x: float, base: float) -> str:
    r = x / base
    return f"{r:.1f}x" if r >= 1 else f"{r:.3f}x"


def reml_loglik(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Restricted log-likelihood of an intercept-only model, up to a constant."""
    w = 1.0 / (v + tau2)
    mu = (w * y).sum() / w.sum()
    return float(-0.5 * (np.log(v + tau2).sum() + np.log(w.sum()) + (w * (y - mu) ** 2).sum()))


def bimodal(groups: list[tuple[np.ndarray, np.ndarray]]) -> list[int]:
    """Datasets whose restricted likelihood has a maximum at tau² = 0 and another inside.

    Found on a grid (0 and 600 log-spaced points from 1e-6 to 20); not timed.
    """
    grid = np.concatenate([[0.0], np.geomspace(1e-6, 20.0, 600)])
    found = []
    for i, (y, v) in enumerate(groups):
        vt = v[None, :] + grid[:, None]
        w = 1.0 / vt
        mu = (w * y).sum(axis=1) / w.sum(axis=1)
        ll = -0.5 * (np.log(vt).sum(axis=1) + np.log(w.sum(axis=1))
                     + (w * (y - mu[:, None]) ** 2).sum(axis=1))
        d = np.diff(ll)
        if ll[0] > ll[1] and ((d[:-1] > 0) & (d[1:] <= 0)).any():
            found.append(i)
    return found


def write_hard(groups: list[tuple[np.ndarray, np.ndarray]],
               rejected: list[tuple[np.ndarray, np.ndarray]], path: Path, n: int,
               seed: int) -> None:
    """The redrawn candidates and the bimodal kept datasets as JSON (data only, no fits)."""
    rows = [("redrawn", f"redrawn-{i + 1}", g) for i, g in enumerate(rejected)]
    rows += [("bimodal", f"kept-{i + 1}", groups[i]) for i in bimodal(groups)]
    doc = {"data_from": {"script": "benchmarks/pairwise_reml.py", "n": n, "seed": seed},
           "datasets": [{"id": name, "why": why, "yi": [float(x) for x in y],
                         "vi": [float(x) for x in v]} for why, name, (y, v) in rows]}
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(rejected)} redrawn and {len(rows) - len(rejected)} bimodal datasets to "
          f"{path}; now run: Rscript validation/metafor_reml_hard.R {path}")


def disagreements(groups: list[tuple[np.ndarray, np.ndarray]], a: dict, b: dict,
                  names: tuple[str, str], tol: float = 1e-6) -> None:
    """Count datasets whose tau² differs by more than ``tol``; say which engine's is better."""
    diff = np.abs(a["tau2"] - b["tau2"])
    bad = np.flatnonzero(diff > tol)
    if bad.size == 0:
        return
    better = [reml_loglik(*groups[i], a["tau2"][i]) > reml_loglik(*groups[i], b["tau2"][i])
              for i in bad]
    agree = diff <= tol
    print(f"  {names[0]} vs {names[1]}: tau2 differs by more than {tol:g} on {bad.size} datasets "
          f"(higher restricted likelihood: {names[0]} on {sum(better)}, {names[1]} on "
          f"{bad.size - sum(better)}); on the other {int(agree.sum())}: max |tau2 diff| "
          f"{max_diff(a['tau2'][agree], b['tau2'][agree]):.1e}, |estimate diff| "
          f"{max_diff(a['estimate'][agree], b['estimate'][agree]):.1e}")
    for i in bad[:10]:
        print(f"    dataset {i + 1} (k={len(groups[i][0])}): tau2 {names[0]} {a['tau2'][i]:.6g} "
              f"vs {names[1]} {b['tau2'][i]:.6g}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="number of meta-analyses")
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--skip-r", action="store_true", help="do not run metafor")
    ap.add_argument("--check-rejected", action="store_true",
                    help="also run metafor on the redrawn candidates (slow: ~2.5 s each)")
    ap.add_argument("--out", type=Path, help="write per-dataset results to this CSV file")
    ap.add_argument("--write-hard", type=Path, metavar="JSON",
                    help="write the redrawn and bimodal datasets to this file and stop")
    args = ap.parse_args(argv)

    groups, rejected = simulate(args.n, args.seed)
    if args.write_hard is not None:
        write_hard(groups, rejected, args.write_hard, args.n, args.seed)
        return 0
    ks = np.array([len(g[0]) for g in groups])
    print(f"{args.n} datasets, k {ks.min()}..{ks.max()} (mean {ks.mean():.1f}), seed "
          f"{args.seed}; {len(rejected)} candidates redrawn because plain Fisher scoring "
          "diverges on them")
    print(f"Python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.2f}")

    eq = run_equipoise(groups)
    it = eq["iterations"]
    print(f"equipoise: MetaBatch.from_groups {eq['build']:.3f} s (not in the timing); "
          f"the tau2 stage alone (REML().estimate) {eq['tau2_seconds']:.4f} s wall, "
          f"{eq['tau2_cpu']:.4f} s CPU; REML iterations median {np.median(it):.0f}, "
          f"99th percentile {np.percentile(it, 99):.0f}, max {it.max()}")
    pm = run_pymare(groups)
    mf = None
    rej = None
    if not args.skip_r:
        with tempfile.TemporaryDirectory() as d:
            mf = run_metafor(groups, Path(d), "kept")
            if mf is not None and rejected and args.check_rejected:
                rej = run_metafor(rejected, Path(d), "rejected")
        if mf is not None:
            print(f"metafor: {mf['version']}; default Fisher scoring failed on "
                  f"{int(mf['failed'].sum())} of {args.n}")
    if rejected:
        try:
            res = MetaAnalysis("REML", threshold=THRESHOLD, maxiter=MAXITER).fit(
                MetaBatch.from_groups(rejected))
        except ConvergenceError as e:
            res = None
            print(f"rejected candidates: equipoise raises ConvergenceError ({e})")
        else:
            print(f"rejected candidates: equipoise converges on all {len(rejected)} "
                  f"(iterations max {res.iterations.max()})")
        if rej is not None:
            ok = ~np.isnan(rej["tau2"])
            line = (f"rejected candidates: metafor's default errors on "
                    f"{int(rej['failed'].sum())} of {len(rejected)}; with stepadj=0.5 it "
                    f"converges on {int(ok.sum())}")
            if res is not None:
                line += (f": max |equipoise - metafor| tau2 "
                         f"{max_diff(res.tau2[ok], rej['tau2'][ok]):.1e}, estimate "
                         f"{max_diff(res.estimate[ok], rej['estimate'][ok]):.1e}")
            print(line)

    print()
    print(f"{'engine':<52} {'wall s':>8} {'ratio':>7} {'CPU s':>8} {'ratio':>7}")
    t_eq, c_eq = eq["seconds"], eq["cpu"]
    table = [("equipoise MetaAnalysis(REML).fit, one batched call", eq)]
    if pm is not None:
        table.append((f"PyMARE {pm['version']} REML, batched per k ({pm['fits']} fits)", pm))
    if mf is not None:
        table.append(("metafor rma(REML) in an R loop (time inside R)", mf))
    for name, r in table:
        print(f"{name:<52} {r['seconds']:>8.3f} {ratio(r['seconds'], t_eq):>7} "
              f"{r['cpu']:>8.3f} {ratio(r['cpu'], c_eq):>7}")
    print("(ratio = engine seconds / equipoise seconds: above 1 means equipoise is faster; "
          "wall = best of 5 after a warm-up for Python, one loop for R)")
    print()
    if mf is not None:
        dt, de = max_diff(eq["tau2"], mf["tau2"]), max_diff(eq["estimate"], mf["estimate"])
        ds = max_diff(eq["se"], mf["se"])
        ok = "OK" if max(dt, de) <= 1e-6 else "FAIL"
        print(f"max |equipoise - metafor|: tau2 {dt:.2e}, estimate {de:.2e}, se {ds:.2e} "
              f"[{ok}: tolerance 1e-6]")
        disagreements(groups, eq, mf, ("equipoise", "metafor"))
    if pm is not None:
        dt, de = max_diff(eq["tau2"], pm["tau2"]), max_diff(eq["estimate"], pm["estimate"])
        print(f"max |equipoise - PyMARE|:  tau2 {dt:.2e}, estimate {de:.2e}")
        disagreements(groups, eq, pm, ("equipoise", "PyMARE"))
        if mf is not None:
            dt, de = max_diff(pm["tau2"], mf["tau2"]), max_diff(pm["estimate"], mf["estimate"])
            print(f"max |PyMARE - metafor|:    tau2 {dt:.2e}, estimate {de:.2e}")
            disagreements(groups, pm, mf, ("PyMARE", "metafor"))
    if args.out is not None:
        cols = {"id": np.arange(1, args.n + 1), "k": ks, "eq_tau2": eq["tau2"],
                "eq_estimate": eq["estimate"], "eq_iterations": eq["iterations"]}
        for tag, r in (("pymare", pm), ("metafor", mf)):
            if r is not None:
                cols[f"{tag}_tau2"], cols[f"{tag}_estimate"] = r["tau2"], r["estimate"]
        np.savetxt(args.out, np.column_stack(list(cols.values())), delimiter=",",
                   header=",".join(cols), comments="", fmt="%.17g")
        write_long(groups, args.out.with_suffix(".data.csv"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
