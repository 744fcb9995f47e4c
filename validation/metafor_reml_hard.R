#!/usr/bin/env Rscript
# Regenerates tests/reference/metafor_reml_hard.json: metafor's REML fits of the datasets from
# benchmarks/pairwise_reml.py (seed 20240501) on which REML is hard:
#  - "redrawn": the candidates on which plain Fisher scoring (metafor's rma() default step
#    length) diverges or oscillates, so the benchmark redraws them;
#  - "bimodal": kept datasets whose restricted likelihood has a local maximum at tau2 = 0 and
#    another inside; on some of them Fisher scoring stops at the interior one and metafor's
#    ll0check sets tau2 = 0 (with a warning), on others it goes to 0 although the interior
#    maximum is higher.
# The data (yi, vi) come from the Python generator:
#   python benchmarks/pairwise_reml.py --write-hard tests/reference/metafor_reml_hard.json
# writes them (without fits); this script then adds metafor's fits to the same file:
#   Rscript validation/metafor_reml_hard.R [input.json] [output.json]
# (both default to tests/reference/metafor_reml_hard.json next to this folder).
# Each dataset is fitted with rma(method = "REML", control = list(threshold = 1e-12,
# maxiter = 10000)); where that stops with an error, again with stepadj = 0.5 (metafor's
# documented remedy) and "default_failed" is true. Numbers have 17 significant digits.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
root <- normalizePath(file.path(dirname(script), ".."))
default <- file.path(root, "tests", "reference", "metafor_reml_hard.json")
input <- if (length(args) >= 1) args[1] else default
out <- if (length(args) >= 2) args[2] else input

CONTROL <- list(threshold = 1e-12, maxiter = 10000)

source(file.path(dirname(script), "json_helpers.R"))

fit_one <- function(d) {
  yi <- as.numeric(unlist(d$yi))
  vi <- as.numeric(unlist(d$vi))
  first <- tryCatch(quiet(rma(yi, vi, method = "REML", control = CONTROL)),
                    error = function(e) NULL)
  failed <- is.null(first)
  res <- if (failed) quiet(rma(yi, vi, method = "REML",
                               control = c(CONTROL, list(stepadj = 0.5)))) else first
  r <- res$value
  list(id = d$id, why = d$why, k = length(yi), yi = vec(yi), vi = vec(vi),
       metafor = list(tau2 = num(r$tau2), se_tau2 = num(r$se.tau2), estimate = num(r$beta[1]),
                      se = num(r$se), default_failed = failed,
                      stepadj = if (failed) 0.5 else 1, warnings = I(res$warnings)))
}

doc <- fromJSON(input, simplifyVector = FALSE)
fits <- lapply(doc$datasets, fit_one)

result <- list(
  generated_by = "validation/metafor_reml_hard.R",
  data_from = doc$data_from,
  metafor_version = as.character(packageVersion("metafor")),
  r_version = R.version.string,
  control = CONTROL,
  format = paste(
    "datasets[]: id (benchmark label), why (redrawn | bimodal), k, yi, vi, and metafor:",
    "tau2, se_tau2, estimate, se of rma(method = 'REML', control) (control$stepadj = 0.5",
    "where the default step length stopped with an error: default_failed), warnings",
    "(metafor's, muffled; ll0check's says 'Setting tau^2 = 0'). null = NA."),
  datasets = fits
)
writeLines(toJSON(result, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE), out)
cat("wrote", out, "\n")
