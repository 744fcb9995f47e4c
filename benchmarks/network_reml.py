"""Benchmark: random-effects network meta-analysis (REML), equipoise vs metafor rma.mv.

One simulated network of 500 studies and 40 treatments, 10% of them three-arm, with
consistent arm-level data (mean differences). Both engines fit the same contrast-based
model: each study's contrasts against its first arm, their within-study covariance, and
tau² on every contrast with tau²/2 between the contrasts of a multi-arm study.

(a) equipoise: ``NetworkMetaAnalysis(model="random", tau2="REML", reference="T01")
    .fit(network)``, best of 3 (``--repeat``) after a warm-up;
(b) metafor: ``rma.mv(yi, V, mods = ~ 0 + T02 + ... + T40, random = ~ comp | study,
    rho = 1/2, sparse = TRUE, method = "REML")`` (the parameterisation of metafor's network
    meta-analysis examples), best of 3 after a warm-up, timed inside R with ``proc.time()``.

Usage: python benchmarks/network_reml.py [--studies 500] [--treatments 40]
       [--three-arm 0.1] [--tau2 0.04] [--seed 20240502] [--repeat 3] [--skip-r]
Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from equipoise.evidence.network import TreatmentNetwork
from equipoise.synthesis.network_meta import NetworkMetaAnalysis

R_SCRIPT = r"""
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
trts <- sort(unique(c(d$trt, d$base)))
ref <- trts[1]
others <- setdiff(trts, ref)
for (t in others) d[[t]] <- (d$trt == t) - (d$base == t)   # +1 arm, -1 baseline arm
V <- bldiag(lapply(split(d, factor(d$study, levels = unique(d$study))), function(s) {
  m <- matrix(s$vbase[1], nrow(s), nrow(s)); diag(m) <- s$vi; m
}))
f <- as.formula(paste("~ 0 +", paste(others, collapse = " + ")))
fit <- function() rma.mv(yi, V, mods = f, random = ~ comp | study, rho = 1/2, data = d,
                         sparse = TRUE, method = "REML")
res <- fit()   # warm-up
repeats <- as.integer(args[5])
times <- cpu <- numeric(repeats)
for (i in seq_len(repeats)) {
  t0 <- proc.time()
  res <- fit()
  el <- proc.time() - t0
  times[i] <- el[["elapsed"]]
  cpu[i] <- el[["user.self"]] + el[["sys.self"]]
}
write.csv(data.frame(treatment = others, estimate = as.vector(res$beta), se = res$se),
          args[2], row.names = FALSE)
cat(sprintf("%.6f\n%.6f\n%.17g\n%s\n", min(times), min(cpu), res$tau2,
            paste(format(times, digits = 4), collapse = " ")), file = args[3])
cat(sprintf("metafor %s, Matrix %s, %s\n", packageVersion("metafor"), packageVersion("Matrix"),
            R.version.string), file = args[4])
"""


def simulate(studies: int, treatments: int, three_arm: float, tau2: float,
             seed: int) -> dict[str, list]:
    """Consistent arm-level data: mean = baseline + d[t] + u (u ~ N(0, tau²/2) per arm)."""
    rng = np.random.default_rng(seed)
    names = [f"T{i + 1:02d}" for i in range(treatments)]
    d = np.concatenate([[0.0], rng.uniform(-1.0, 1.0, treatments - 1)])
    # A random spanning tree first, so the network is connected; then random designs.
    order = rng.permutation(treatments)
    designs: list[list[int]] = [[int(order[i]), int(order[rng.integers(0, i)])]
                                for i in range(1, treatments)]
    n_three = round(three_arm * studies)
    n_two = studies - n_three - len(designs)
    designs += [list(rng.choice(treatments, 2, replace=False)) for _ in range(n_two)]
    designs += [list(rng.choice(treatments, 3, replace=False)) for _ in range(n_three)]
    designs = [designs[i] for i in rng.permutation(len(designs))]
    rows: dict[str, list] = {"study": [], "treatment": [], "n": [], "mean": [], "sd": []}
    for s, arms in enumerate(designs):
        baseline = rng.normal(0.0, 1.0)
        for t in arms:
            n = int(rng.integers(20, 201))
            sd = rng.uniform(0.8, 1.5)
            u = rng.normal(0.0, np.sqrt(tau2 / 2))
            rows["study"].append(f"S{s + 1:03d}")
            rows["treatment"].append(names[t])
            rows["n"].append(n)
            rows["mean"].append(baseline + d[t] + u + rng.normal(0.0, sd / np.sqrt(n)))
            rows["sd"].append(sd)
    return rows


def contrasts(network: TreatmentNetwork) -> list[tuple[str, str, str, float, float, float]]:
    """Each study's contrasts against its first arm: study, trt, base, yi, vi, var(base arm).

    For additive (arm-level) variances var[j, 0] = v_j + v_0 and the covariance of two
    contrasts sharing the first arm is v_0 = (var[i,0] + var[j,0] - var[i,j]) / 2.
    """
    out = []
    for sc in network.studies:
        for j in range(1, sc.arms):
            if sc.arms == 2:
                v0 = 0.0   # unused: a two-arm study has one contrast
            else:
                i = 1 if j != 1 else 2
                v0 = (sc.var[i, 0] + sc.var[j, 0] - sc.var[i, j]) / 2
            out.append((sc.study, sc.treatments[j], sc.treatments[0], float(sc.te[j, 0]),
                        float(sc.var[j, 0]), float(v0)))
    return out


def ratio(x: float, base: float) -> str:
    r = x / base
    return f"{r:.1f}x" if r >= 1 else f"{r:.3f}x"


def run_metafor(network: TreatmentNetwork, tmp: Path, repeat: int) -> dict[str, object] | None:
    if shutil.which("Rscript") is None:
        print("Rscript not found; skipping metafor", file=sys.stderr)
        return None
    data, out, info, ver, script = (tmp / x for x in ("contrasts.csv", "out.csv", "info.txt",
                                                       "version.txt", "rma_mv.R"))
    with data.open("w") as fh:
        fh.write("study,comp,trt,base,yi,vi,vbase\n")
        for study, trt, base, yi, vi, v0 in contrasts(network):
            fh.write(f"{study},{trt}-{base},{trt},{base},{yi!r},{vi!r},{v0!r}\n")
    script.write_text(R_SCRIPT)
    subprocess.run(["Rscript", str(script), str(data), str(out), str(info), str(ver),
                    str(repeat)], check=True)
    res = np.genfromtxt(out, delimiter=",", names=True, dtype=None, encoding="utf-8")
    seconds, cpu, tau2, runs = info.read_text().splitlines()
    return {"seconds": float(seconds), "cpu": float(cpu), "tau2": float(tau2), "runs": runs,
            "estimate": {str(t).strip('"'): float(e) for t, e in
                         zip(res["treatment"], res["estimate"], strict=True)},
            "se": {str(t).strip('"'): float(s) for t, s in
                   zip(res["treatment"], res["se"], strict=True)},
            "version": ver.read_text().strip()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", type=int, default=500)
    ap.add_argument("--treatments", type=int, default=40)
    ap.add_argument("--three-arm", type=float, default=0.1, help="share of three-arm studies")
    ap.add_argument("--tau2", type=float, default=0.04, help="true between-study variance")
    ap.add_argument("--seed", type=int, default=20240502)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per engine (best kept)")
    ap.add_argument("--skip-r", action="store_true", help="do not run metafor")
    args = ap.parse_args(argv)

    rows = simulate(args.studies, args.treatments, args.three_arm, args.tau2, args.seed)
    t0 = time.perf_counter()
    network = TreatmentNetwork.from_arms(rows["study"], rows["treatment"], rows["n"],
                                         mean=rows["mean"], sd=rows["sd"], measure="MD")
    build = time.perf_counter() - t0
    arms = [sc.arms for sc in network.studies]
    print(f"network: {len(network.studies)} studies ({arms.count(3)} three-arm), "
          f"{len(network.treatments)} treatments, {sum(a - 1 for a in arms)} basic contrasts, "
          f"{len(network.designs)} designs; seed {args.seed}, true tau2 {args.tau2}")
    print(f"Python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"equipoise: TreatmentNetwork.from_arms {build:.3f} s (not in the timing)")

    reference = network.treatments[0]
    model = NetworkMetaAnalysis(model="random", tau2="REML", reference=reference)
    model.fit(network)   # warm-up
    times, cpus = [], []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fit = model.fit(network)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    t_eq, c_eq = min(times), min(cpus)
    mf = None
    if not args.skip_r:
        with tempfile.TemporaryDirectory() as d:
            mf = run_metafor(network, Path(d), args.repeat)

    print()
    print(f"{'engine':<60} {'wall s':>8} {'ratio':>7} {'CPU s':>8} {'ratio':>7}")
    print(f"{'equipoise NetworkMetaAnalysis(random, REML).fit':<60} {t_eq:>8.4f} {'1.0x':>7} "
          f"{c_eq:>8.4f} {'1.0x':>7}")
    if mf is not None:
        name = "metafor rma.mv(REML, random = ~comp|study, rho=1/2, sparse)"
        print(f"{name:<60} {mf['seconds']:>8.4f} {ratio(mf['seconds'], t_eq):>7} "
              f"{mf['cpu']:>8.4f} {ratio(mf['cpu'], c_eq):>7}")
    runs = ", ".join(f"{t:.4f}" for t in times)
    print(f"(best of {args.repeat} after a warm-up; equipoise runs {runs}"
          + (f"; metafor runs {mf['runs']}" if mf is not None else "") + ")")
    print("(ratio = engine seconds / equipoise seconds: above 1 means equipoise is faster)")
    print()
    print(f"tau2: equipoise {fit.tau2:.10f}" + (f", metafor {mf['tau2']:.10f}, |diff| "
                                                f"{abs(fit.tau2 - mf['tau2']):.2e}"
                                                if mf is not None else ""))
    if mf is not None:
        names = [t for t in network.treatments if t != reference]
        est = np.array([fit.contrast(t, reference)[0] for t in names])
        se = np.array([fit.contrast(t, reference)[1] for t in names])
        de = float(np.max(np.abs(est - np.array([mf["estimate"][t] for t in names]))))
        ds = float(np.max(np.abs(se - np.array([mf["se"][t] for t in names]))))
        ok = "OK" if de <= 1e-6 else "FAIL"
        print(f"max |equipoise - metafor| over {len(names)} effects vs {reference}: estimate "
              f"{de:.2e}, se {ds:.2e} [{ok}: tolerance 1e-6]")
        print(f"metafor: {mf['version']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
