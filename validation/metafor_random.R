#!/usr/bin/env Rscript
# Regenerates tests/reference/metafor_random.json: a live cross-check of equipoise's pairwise
# and network engines against metafor on seeded random data.
#  (a) 60 pairwise datasets (k = 2..40, tau2 from 0 to 2, some with 1-2 moderators) fitted
#      with rma() for every tau2 method x test metafor allows (FE, DL, HE, HS, HSk, SJ, PM,
#      ML, REML, EB and the GENQ two-step estimators DL2/HE2; tests z, t, knha, adhoc).
#  (b) 8 random networks (4-12 treatments, 3-arm studies built from arm-level data) fitted
#      with rma.mv(yi, V, mods = ~ 0 + dummies, random = ~ comp | study, rho = 1/2) by REML
#      and as a common-effect model; one network simulated with design inconsistency is also
#      fitted with random = list(~ comp | study, ~ comp | design), rho = 1/2, phi = 1/2.
# Numbers are written with 17 significant digits; NA is written as null.
#
# Usage, from anywhere:  Rscript validation/metafor_random.R [output.json]
# (default output: tests/reference/metafor_random.json next to this folder).

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
root <- normalizePath(file.path(dirname(script), ".."))
out <- if (length(args) >= 1) args[1] else
  file.path(root, "tests", "reference", "metafor_random.json")

SEED <- 20240613
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(SEED)

CONTROL <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
CONTROL_MV <- list(optimizer = "bobyqa", rhoend = 1e-12, maxfun = 1e5)
METHODS <- c("FE", "DL", "HE", "HS", "HSk", "SJ", "PM", "ML", "REML", "EB", "DL2", "HE2")
TESTS <- c("z", "t", "knha", "adhoc")

source(file.path(dirname(script), "json_helpers.R"))

# ---- (a) pairwise ------------------------------------------------------------------------

fit_rma <- function(d, method, test) {
  base <- list(yi = d$yi, vi = d$vi, test = test, control = CONTROL)
  if (!is.null(d$mods)) base$mods <- d$mods
  if (method %in% c("DL2", "HE2")) {
    # DerSimonian-Kacker two-step: GENQ with weights from the first-step tau2, then the usual
    # random-effects fit at that tau2 (GENQ's own fit would pool with the first-step weights).
    first <- do.call(rma, c(base, list(method = substr(method, 1, 2))))
    genq <- do.call(rma, c(base, list(method = "GENQ", weights = 1 / (d$vi + first$tau2))))
    fit <- do.call(rma, c(base, list(tau2 = genq$tau2)))
    fit$se.tau2 <- genq$se.tau2
    fit$genq <- list(tau2_first = num(first$tau2), beta = vec(genq$beta), se = vec(genq$se))
    return(fit)
  }
  do.call(rma, c(base, list(method = method)))
}

pairwise_data <- function(id, k, p, tau2, vrange) {
  mods <- NULL
  if (p > 0) {
    mods <- cbind(round(rnorm(k), 3), rbinom(k, 1, 0.5))[, seq_len(p), drop = FALSE]
    if (p == 2 && length(unique(mods[, 2])) < 2) mods[1:2, 2] <- c(0, 1)
  }
  vi <- exp(runif(k, log(vrange[1]), log(vrange[2])))
  slope <- if (p > 0) mods %*% rnorm(p, 0, 0.3) else 0
  yi <- as.numeric(rnorm(1, 0, 0.5) + slope + rnorm(k, 0, sqrt(vi + tau2)))
  list(id = id, k = k, p = p, tau2 = tau2, yi = yi, vi = vi, mods = mods)
}

pairwise_fits <- function(d) {
  p <- d$p
  fits <- list()
  for (method in METHODS) {
    per_test <- list()
    beta <- NULL
    for (test in TESTS) {
      r <- tryCatch(quiet(fit_rma(d, method, test)),
                    error = function(e) list(error = conditionMessage(e)))
      if (!is.null(r$error)) {
        per_test[[test]] <- list(error = r$error)
        next
      }
      fit <- r$value
      if (is.null(beta)) {
        beta <- fit
      } else {
        stopifnot(max(abs(beta$beta - fit$beta)) < 1e-14, beta$tau2 == fit$tau2)
      }
      row <- list(se = vec(fit$se), stat = vec(fit$zval), pval = vec(fit$pval),
                  ci_lb = vec(fit$ci.lb), ci_ub = vec(fit$ci.ub), df = num(fit$ddf[1]),
                  pi_lb = num(NA), pi_ub = num(NA))
      if (p == 0 && method != "FE") {
        pr <- predict(fit)
        row$pi_lb <- num(pr$pi.lb)
        row$pi_ub <- num(pr$pi.ub)
      }
      if (length(r$warnings)) row$warnings <- as.list(r$warnings)
      per_test[[test]] <- row
    }
    fits[[method]] <- list(beta = vec(beta$beta), tau2 = num(beta$tau2),
                           se_tau2 = num(beta$se.tau2), i2 = num(beta$I2),
                           h2 = num(beta$H2), tests = per_test)
    if (!is.null(beta$genq)) fits[[method]]$genq_weighted <- beta$genq
  }
  first <- fit_rma(d, "FE", "z")
  list(id = d$id, k = d$k, p = p, tau2_true = num(d$tau2), yi = vec(d$yi), vi = vec(d$vi),
       mods = if (p > 0) lapply(seq_len(p), function(j) vec(d$mods[, j])) else list(),
       q = num(first$QE), q_df = d$k - p - 1, q_pval = num(first$QEp), fits = fits)
}

# Sizes: the small edge cases first (k = 2 and 3), then random k in 4..40. The data are drawn
# in order; the ~4000 fits are independent of the RNG, so they run on every core.
ks <- c(2, 2, 3, 3, 4, 4, 5, sample(4:40, 53, replace = TRUE))
taus <- c(0, 0.02, 0.1, 0.5, 2)
ranges <- list(c(0.005, 0.3), c(0.001, 1), c(0.05, 0.1))
datasets <- lapply(seq_along(ks), function(i) {
  k <- ks[i]
  p <- if (i %% 5 == 0 && k >= 3) 1L else if (i %% 7 == 0 && k >= 4) 2L else 0L
  pairwise_data(sprintf("P%02d", i), k, p, taus[(i - 1) %% 5 + 1], ranges[[(i - 1) %% 3 + 1]])
})
cores <- if (.Platform$OS.type == "windows") 1L else max(1L, parallel::detectCores())
pairwise <- parallel::mclapply(datasets, pairwise_fits, mc.cores = cores)
failed <- vapply(pairwise, inherits, logical(1), what = "try-error")
if (any(failed)) stop(pairwise[[which(failed)[1]]])

# ---- (b) networks --------------------------------------------------------------------------
# Designs: a random spanning tree (every treatment meets an earlier one), extra two-arm
# designs and some three-arm designs; each study draws arm means from
#   mu_s + d_t + u_st + w_Dt + sampling error,  u_st ~ N(0, tau2/2),  w_Dt ~ N(0, gamma2/2),
# so contrasts carry heterogeneity tau2 (and design inconsistency gamma2) with correlation 1/2.
network_data <- function(nt, extra2, extra3, studies, tau2, gamma2 = 0) {
  trts <- sprintf("T%02d", seq_len(nt))
  d <- setNames(c(0, rnorm(nt - 1, 0, 0.6)), trts)
  designs <- lapply(2:nt, function(t) sort(c(trts[sample.int(t - 1, 1)], trts[t])))
  designs <- c(designs, lapply(seq_len(extra2), function(i) sort(sample(trts, 2))),
               lapply(seq_len(extra3), function(i) sort(sample(trts, 3))))
  designs <- unique(designs)
  rows <- list()
  s <- 0
  for (des in designs) {
    w <- setNames(rnorm(length(des), 0, sqrt(gamma2 / 2)), des)
    for (j in seq_len(sample(studies, 1))) {
      s <- s + 1
      n <- sample(15:150, length(des), replace = TRUE)
      sd <- runif(length(des), 0.6, 2)
      truth <- rnorm(1, 2, 1) + d[des] + rnorm(length(des), 0, sqrt(tau2 / 2)) + w[des]
      rows[[s]] <- data.frame(study = sprintf("S%03d", s), treatment = des,
                              mean = truth + rnorm(length(des), 0, sd / sqrt(n)), sd = sd, n = n,
                              design = paste(des, collapse = ":"))
    }
  }
  do.call(rbind, rows)
}

# Contrasts of each study against its first (alphabetically smallest) arm, their covariance
# (the first arm's variance between contrasts of one study) and the treatment dummies.
contrasts_of <- function(arms) {
  trts <- sort(unique(arms$treatment))
  out <- list()
  V <- list()
  for (st in unique(arms$study)) {
    a <- arms[arms$study == st, ]
    v <- a$sd^2 / a$n
    m <- nrow(a)
    out[[st]] <- data.frame(study = st, design = a$design[1], treat1 = a$treatment[-1],
                            treat2 = a$treatment[1], yi = a$mean[-1] - a$mean[1],
                            vi = v[-1] + v[1])
    Vs <- matrix(v[1], m - 1, m - 1)
    diag(Vs) <- v[-1] + v[1]
    V[[st]] <- Vs
  }
  dat <- do.call(rbind, out)
  dat$comp <- paste(dat$treat1, dat$treat2, sep = "-")
  for (t in trts[-1]) dat[[t]] <- (dat$treat1 == t) - (dat$treat2 == t)
  list(dat = dat, V = bldiag(V), trts = trts)
}

# Every pairwise contrast of every study (what TreatmentNetwork.from_contrasts takes).
all_pairs <- function(arms) {
  out <- list()
  for (st in unique(arms$study)) {
    a <- arms[arms$study == st, ]
    for (i in seq_len(nrow(a) - 1)) for (j in (i + 1):nrow(a)) {
      out[[length(out) + 1]] <- data.frame(
        study = st, treat1 = a$treatment[j], treat2 = a$treatment[i],
        te = a$mean[j] - a$mean[i], se = sqrt(a$sd[j]^2 / a$n[j] + a$sd[i]^2 / a$n[i]))
    }
  }
  do.call(rbind, out)
}

mv_summary <- function(fit, trts) {
  others <- trts[-1]
  pairs <- t(combn(seq_along(trts), 2))
  L <- matrix(0, nrow(pairs), length(trts))
  L[cbind(seq_len(nrow(pairs)), pairs[, 1])] <- 1
  L[cbind(seq_len(nrow(pairs)), pairs[, 2])] <- -1
  pr <- predict(fit, newmods = L[, -1, drop = FALSE])
  out <- list(
    treatments = others, estimate = vec(fit$beta), se = vec(fit$se), zval = vec(fit$zval),
    pval = vec(fit$pval), ci_lb = vec(fit$ci.lb), ci_ub = vec(fit$ci.ub),
    q = num(fit$QE), q_df = fit$k - fit$p, q_pval = num(fit$QEp),
    qm = num(fit$QM), qm_df = fit$p, loglik = num(logLik(fit)),
    pairs = list(treat1 = trts[pairs[, 1]], treat2 = trts[pairs[, 2]], estimate = vec(pr$pred),
                 se = vec(pr$se), ci_lb = vec(pr$ci.lb), ci_ub = vec(pr$ci.ub),
                 pi_lb = vec(if (is.null(pr$pi.lb)) pr$ci.lb else pr$pi.lb),
                 pi_ub = vec(if (is.null(pr$pi.ub)) pr$ci.ub else pr$pi.ub)))
  if (!is.null(fit$tau2) && fit$withG) out$tau2 <- num(fit$tau2)
  out
}

# REML with bobyqa run to rhoend = 1e-12: metafor's default nlminb stops ~1e-7 short of the
# maximum of the flat REML likelihood (and rel.tol = 1e-12 makes it report false
# convergence), so its estimates are kept beside the tight ones for the README's record.
fit_mv <- function(...) {
  tight <- tryCatch(rma.mv(..., method = "REML", control = CONTROL_MV), error = identity)
  default <- rma.mv(..., method = "REML")
  rec <- list(tau2 = num(default$tau2))
  if (isTRUE(default$withH)) rec$gamma2 <- num(default$gamma2)
  if (inherits(tight, "error")) return(list(fit = default, control = "default", default = rec))
  list(fit = tight, control = "tight", default = rec)
}

network_case <- function(id, arms, tau2, gamma2 = 0, inconsistency = FALSE) {
  cn <- contrasts_of(arms)
  dat <- cn$dat
  form <- as.formula(paste("~ 0 +", paste(cn$trts[-1], collapse = " + ")))
  common <- rma.mv(dat$yi, cn$V, mods = form, data = dat, method = "FE")
  reml <- fit_mv(dat$yi, cn$V, mods = form, data = dat, random = ~ comp | study, rho = 1 / 2)
  fits <- list(FE = mv_summary(common, cn$trts),
               REML = c(mv_summary(reml$fit, cn$trts),
                        list(control = reml$control, nlminb_default = reml$default)))
  res <- list(
    id = id, n_treatments = length(cn$trts), reference = cn$trts[1],
    tau2_true = num(tau2), gamma2_true = num(gamma2),
    arms = list(study = arms$study, treatment = arms$treatment, mean = vec(arms$mean),
                sd = vec(arms$sd), n = vec(arms$n)),
    contrasts = list(study = dat$study, design = dat$design, treat1 = dat$treat1,
                     treat2 = dat$treat2, yi = vec(dat$yi), vi = vec(dat$vi)),
    pairs = with(all_pairs(arms), list(study = study, treat1 = treat1, treat2 = treat2,
                                       te = vec(te), se = vec(se))),
    fits = fits)
  if (inconsistency) {
    fit <- fit_mv(dat$yi, cn$V, mods = form, data = dat,
                  random = list(~ comp | study, ~ comp | design), rho = 1 / 2, phi = 1 / 2)
    inc <- fit$fit
    stopifnot(inc$gamma2 > 1e-3)
    res$inconsistency <- list(control = fit$control, nlminb_default = fit$default,
                              tau2 = num(inc$tau2), gamma2 = num(inc$gamma2),
                              treatments = cn$trts[-1], estimate = vec(inc$beta),
                              se = vec(inc$se), q = num(inc$QE), loglik = num(logLik(inc)))
  }
  res
}

specs <- list(  # treatments, extra 2-arm designs, 3-arm designs, studies per design, tau2
  list(4, 2, 1, 1:3, 0), list(5, 3, 1, 1:2, 0.05), list(6, 2, 2, 1:3, 0.2),
  list(7, 4, 1, 1:2, 0), list(8, 5, 2, 1:3, 0.1), list(9, 4, 2, 1:2, 0.5),
  list(10, 6, 3, 1:3, 0.03), list(12, 8, 3, 1:2, 0.15))
networks <- lapply(seq_along(specs), function(i) {
  sp <- specs[[i]]
  network_case(sprintf("N%02d", i), network_data(sp[[1]], sp[[2]], sp[[3]], sp[[4]], sp[[5]]),
               sp[[5]])
})
# Design inconsistency: many loops, 3-5 studies per design, gamma2 well above tau2.
networks[[length(networks) + 1]] <- network_case(
  "N09_inconsistent", network_data(6, 5, 3, 3:5, 0.02, gamma2 = 0.6), 0.02, gamma2 = 0.6,
  inconsistency = TRUE)

doc <- list(
  generated_by = "validation/metafor_random.R",
  metafor_version = as.character(packageVersion("metafor")),
  r_version = R.version.string,
  seed = SEED,
  control = list(rma = CONTROL, rma_mv = CONTROL_MV),
  format = paste(
    "pairwise[]: inputs yi, vi, mods (columns; an intercept is added), q/q_df/q_pval",
    "(Cochran's Q of the FE fit), fits[method]: beta (coefficients, intercept first), tau2,",
    "se_tau2, i2, h2 and tests[z|t|knha|adhoc]: se, stat, pval, ci_lb, ci_ub (per",
    "coefficient), df, pi_lb/pi_ub (predict(); intercept-only random-effects fits only),",
    "warnings (metafor's, muffled) or error. DL2/HE2: tau2 and se_tau2 of",
    "rma(method='GENQ', weights=1/(vi+tau2_DL|HE)), everything else from rma(tau2=that);",
    "genq_weighted: the first-step tau2 and GENQ's own beta and se (z test), pooled with",
    "those weights.",
    "networks[]: arms (arm-level MD data), contrasts (each study's arms against its first arm,",
    "as fitted: V has vi on the diagonal and the first arm's variance between a study's",
    "contrasts), pairs (every pairwise contrast), fits FE and REML (rma.mv, random = ~ comp |",
    "study, rho = 1/2): estimates of each treatment against the reference, q, qm, tau2 and",
    "pairs (predict() of treat1 minus treat2; pi = ci for FE); inconsistency (random =",
    "list(~ comp | study, ~ comp | design), rho = phi = 1/2): tau2, gamma2. REML fits use",
    "control$rma_mv ('tight') or metafor's default if that fails ('default'); nlminb_default",
    "holds tau2 (gamma2) from metafor's default optimizer. null = NA."),
  pairwise = pairwise,
  networks = networks
)
writeLines(toJSON(doc, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE), out)
cat("wrote", out, "\n")
