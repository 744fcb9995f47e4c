#!/usr/bin/env Rscript
# Regenerates tests/reference/metafor_mh.json: seeded random 2x2 datasets (with zero cells,
# double-zero tables and a non-estimable OR/RR) run through metafor::rma.mh() for OR, RR and
# RD (CMH with and without the continuity correction) and metafor::rma.peto(), all at their
# defaults, for equipoise.synthesis.mantel_haenszel. Numbers are written with 17 significant
# digits; NA is written as null.
#
# Usage, from anywhere:  Rscript validation/mh_reference.R [output.json]
# (default output: tests/reference/metafor_mh.json next to this folder).

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
root <- normalizePath(file.path(dirname(script), ".."))
out <- if (length(args) >= 1) args[1] else
  file.path(root, "tests", "reference", "metafor_mh.json")

RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20240612)

num <- function(x) {
  x <- as.numeric(x)
  structure(if (is.na(x)) "null" else sprintf("%.17g", x), class = "json")
}
ints <- function(x) structure(paste0("[", paste(sprintf("%.17g", as.numeric(x)),
                                                  collapse = ","), "]"), class = "json")

# k random tables; `zeros` names the zero-cell patterns to plant in the first rows.
tables <- function(k, zeros = character(0), lo = 0.01, hi = 0.5) {
  n1 <- sample(5:200, k, replace = TRUE)
  n2 <- sample(5:200, k, replace = TRUE)
  ai <- rbinom(k, n1, runif(k, lo, hi))
  ci <- rbinom(k, n2, runif(k, lo, hi))
  row <- 1
  for (z in zeros) {
    if (z == "one") ai[row] <- 0                                    # one zero cell
    if (z == "none") { ai[row] <- 0; ci[row] <- 0 }                 # no events in both arms
    if (z == "all") { ai[row] <- n1[row]; ci[row] <- n2[row] }      # only events in both arms
    if (z == "arm") ci[row] <- n2[row]                              # only events in one arm
    row <- row + 1
  }
  list(ai = ai, bi = n1 - ai, ci = ci, di = n2 - ci)
}

common <- function(r) list(
  estimate = num(r$beta), se = num(r$se), zval = num(r$zval), pval = num(r$pval),
  ci_low = num(r$ci.lb), ci_high = num(r$ci.ub), q = num(r$QE), q_pval = num(r$QEp),
  i2 = num(r$I2), h2 = num(r$H2), k = r$k,
  dropped = as.list(as.character(which(is.na(r$yi.f)))))

case <- function(id, tab, level = 95, note = NULL) {
  fit <- function(measure, correct = TRUE)
    suppressWarnings(rma.mh(ai = tab$ai, bi = tab$bi, ci = tab$ci, di = tab$di,
                            measure = measure, correct = correct, level = level))
  or <- fit("OR")
  or_u <- fit("OR", correct = FALSE)
  res <- list(
    OR = c(common(or), list(q_df = max(or$k.yi - 1, 0),
                            cmh = num(or$MH), cmh_pval = num(or$MHp),
                            cmh_uncorrected = num(or_u$MH), cmh_uncorrected_pval = num(or_u$MHp),
                            tarone = num(or$TA), tarone_pval = num(or$TAp),
                            tarone_df = num(if (is.na(or$TA)) NA else or$k.pos - 1))),
    RR = { r <- fit("RR"); c(common(r), list(q_df = max(r$k.yi - 1, 0))) },
    RD = { r <- fit("RD"); c(common(r), list(q_df = max(r$k.yi - 1, 0))) },
    PETO = {
      r <- suppressWarnings(rma.peto(ai = tab$ai, bi = tab$bi, ci = tab$ci, di = tab$di,
                                     level = level))
      c(common(r), list(q_df = r$k.pos - 1))
    })
  out <- list(id = id, level = level / 100, inputs = lapply(tab, ints), results = res)
  if (!is.null(note)) out$note <- note
  out
}

cases <- list(
  case("random_tables", tables(8, lo = 0.05)),
  case("one_zero_cell", tables(10, "one")),
  case("double_zero_no_events", tables(9, c("one", "none"))),
  case("double_zero_only_events", tables(7, c("all", "arm"))),
  case("every_zero_pattern", tables(12, c("one", "none", "all", "arm"))),
  case("rare_events", tables(15, c("none", "none"), lo = 0.001, hi = 0.03)),
  case("two_tables_one_double_zero", tables(2, "none"),
       note = "one table is left for Q: Q = 0, p = 1, I2 = 0, H2 = 1"),
  case("single_table", tables(1)),
  case("level_90", tables(6), level = 90),
  case("no_treatment_events", { t <- tables(5); t$bi <- t$bi + t$ai; t$ai <- 0 * t$ai; t },
       note = "MH OR and RR are NA (R = 0, sum(ai) = 0); RD and Peto are estimable"),
  case("large_tables", tables(6, lo = 0.2, hi = 0.6))
)

doc <- list(
  generated_by = "validation/mh_reference.R",
  metafor_version = as.character(packageVersion("metafor")),
  r_version = R.version.string,
  seed = 20240612,
  format = paste("cases[]: inputs (ai, bi, ci, di; studies labelled 1..k), level, results per",
                 "method (OR, RR, RD: rma.mh defaults; PETO: rma.peto defaults) with estimate",
                 "(log scale for OR/RR), se, zval, pval, ci_low, ci_high, q, q_df, q_pval, i2,",
                 "h2, k, dropped (studies whose yi is NA, i.e. left out of Q); OR adds cmh",
                 "(correct=TRUE), cmh_uncorrected (correct=FALSE), tarone and tarone_df.",
                 "null = NA."),
  cases = cases
)
writeLines(toJSON(doc, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE), out)
cat("wrote", out, "\n")
