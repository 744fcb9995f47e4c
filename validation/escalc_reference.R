#!/usr/bin/env Rscript
# Regenerates tests/reference/metafor_escalc.json: seeded random datasets run through
# metafor::escalc() for every measure, vtype and zero-cell option that equipoise's
# evidence.effect_sizes.escalc implements. Numbers are written with 17 significant digits.
#
# Usage, from anywhere:  Rscript validation/escalc_reference.R [output.json]
# (default output: tests/reference/metafor_escalc.json next to this folder).

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
root <- normalizePath(file.path(dirname(script), ".."))
out <- if (length(args) >= 1) args[1] else
  file.path(root, "tests", "reference", "metafor_escalc.json")

set.seed(20240611)

# Full-precision JSON array (jsonlite stops at 15 significant digits); NA -> null.
exact <- function(x) {
  txt <- ifelse(is.na(x), "null", sprintf("%.17g", as.numeric(x)))
  structure(paste0("[", paste(txt, collapse = ","), "]"), class = "json")
}

# 2x2 tables; rows 1-4 hold the zero-cell patterns every rule must handle.
tables <- function(k, zeros = TRUE, sizes = FALSE) {
  n1 <- sample(4:150, k, replace = TRUE)
  n2 <- sample(4:150, k, replace = TRUE)
  ai <- rbinom(k, n1, runif(k, 0.02, 0.6))
  ci <- rbinom(k, n2, runif(k, 0.02, 0.6))
  if (zeros) {
    ai[1] <- 0                        # one zero cell
    ai[2] <- 0; ci[2] <- 0            # no events in either group
    ai[3] <- n1[3]; ci[3] <- n2[3]    # only events in both groups
    ci[4] <- n2[4]                    # only events in one group
  }
  if (sizes) list(ai = ai, n1i = n1, ci = ci, n2i = n2)
  else list(ai = ai, bi = n1 - ai, ci = ci, di = n2 - ci)
}

# Means, SDs and sizes; row 1 has the smallest sizes the bias correction allows (m = 2).
means <- function(k) {
  n1 <- sample(2:80, k, replace = TRUE)
  n2 <- sample(2:80, k, replace = TRUE)
  n1[1] <- 2; n2[1] <- 2
  list(m1i = round(rnorm(k, 50, 10), 2), sd1i = round(runif(k, 0.5, 20), 2), n1i = n1,
       m2i = round(rnorm(k, 47, 10), 2), sd2i = round(runif(k, 0.5, 20), 2), n2i = n2)
}

estimates <- function(k, se = FALSE) {
  yi <- round(rnorm(k, 0, 1), 4)
  if (se) list(yi = yi, sei = round(runif(k, 0.05, 1), 4))
  else list(yi = yi, vi = round(runif(k, 0.002, 1), 5))
}

case <- function(id, measure, inputs, settings = setNames(list(), character(0)),
                 agrees = TRUE, note = NULL) {
  res <- suppressWarnings(do.call(escalc, c(list(measure = measure), inputs, settings)))
  out <- list(id = id, measure = measure, settings = settings,
              inputs = lapply(inputs, exact),
              yi = exact(res$yi), vi = exact(res$vi), agrees = agrees)
  if (!is.null(note)) out$note <- note
  out
}

k <- function() sample(6:12, 1)
cases <- list(
  case("OR_default_only0", "OR", tables(k())),
  case("OR_all", "OR", tables(k()), list(to = "all", add = 0.5)),
  case("OR_if0all_add1", "OR", tables(k()), list(to = "if0all", add = 1)),
  case("OR_none", "OR", tables(k()), list(to = "none")),
  case("OR_drop00_sizes", "OR", tables(k(), sizes = TRUE), list(drop00 = TRUE)),
  case("OR_if0all_no_zero_cells", "OR", tables(k(), zeros = FALSE), list(to = "if0all")),
  case("RR_default_only0", "RR", tables(k())),
  case("RR_all_add_quarter", "RR", tables(k()), list(to = "all", add = 0.25)),
  case("RR_if0all_drop00", "RR", tables(k()), list(to = "if0all", drop00 = TRUE)),
  case("RR_none_sizes", "RR", tables(k(), sizes = TRUE), list(to = "none")),
  case("RD_LS_default", "RD", tables(k())),
  case("RD_UB", "RD", tables(k()), list(vtype = "UB")),
  case("RD_UB_if0all_add1", "RD", tables(k()), list(vtype = "UB", to = "if0all", add = 1)),
  case("RD_AV", "RD", tables(k()), list(vtype = "AV")),
  case("RD_AV_drop00_all", "RD", tables(k()), list(vtype = "AV", drop00 = TRUE, to = "all")),
  case("RD_none_sizes", "RD", tables(k(), sizes = TRUE), list(to = "none")),
  case("PETO_default_only0", "PETO", tables(k())),
  case("PETO_none", "PETO", tables(k()), list(to = "none")),
  case("PETO_all_sizes", "PETO", tables(k(), sizes = TRUE), list(to = "all", add = 0.5)),
  case("PETO_drop00_if0all_add1", "PETO", tables(k()),
       list(drop00 = TRUE, to = "if0all", add = 1)),
  case("MD_LS", "MD", means(k())),
  case("MD_HO", "MD", means(k()), list(vtype = "HO")),
  case("MD_UB", "MD", means(k()), list(vtype = "UB")),
  case("SMD_LS", "SMD", means(k())),
  case("SMD_UB", "SMD", means(k()), list(vtype = "UB")),
  case("SMD_LS2", "SMD", means(k()), list(vtype = "LS2")),
  case("SMD_AV", "SMD", means(k()), list(vtype = "AV")),
  case("SMDH_LS", "SMDH", means(k())),
  case("SMDH_LS2", "SMDH", means(k()), list(vtype = "LS2"), agrees = FALSE,
       note = paste("metafor 3.8-1 computes SMDH LS2 with sd^2 where later releases (and",
                    "equipoise) use sd^4, so its vi changes with the unit of measurement;",
                    "only yi is compared")),
  case("GEN_vi", "GEN", estimates(k())),
  case("GEN_sei", "GEN", estimates(k(), se = TRUE))
)

doc <- list(
  generated_by = "validation/escalc_reference.R",
  metafor_version = as.character(packageVersion("metafor")),
  r_version = R.version.string,
  seed = 20240611,
  format = paste("cases[]: measure, settings (escalc arguments besides the data), inputs,",
                 "metafor yi and vi (null = NA, i.e. not estimable), agrees (false = known",
                 "difference, see note). Studies are labelled 1..k in input order."),
  cases = cases
)
writeLines(toJSON(doc, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE), out)
cat("wrote", out, "\n")
