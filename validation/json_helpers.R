# Helpers shared by the metafor reference scripts (sourced, not run on its own).

# Full-precision JSON numbers (jsonlite stops at 15 significant digits); NA -> null.
vec <- function(x) {
  x <- as.numeric(x)
  txt <- ifelse(is.na(x), "null", sprintf("%.17g", x))
  structure(paste0("[", paste(txt, collapse = ","), "]"), class = "json")
}
num <- function(x) {
  x <- as.numeric(x)
  if (length(x) == 0) x <- NA
  structure(if (is.na(x[1])) "null" else sprintf("%.17g", x[1]), class = "json")
}

# Runs `expr`, muffling warnings but keeping their text (e.g. knha with a FE model).
quiet <- function(expr) {
  said <- character(0)
  value <- withCallingHandlers(expr, warning = function(w) {
    said <<- c(said, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(value = value, warnings = unique(said))
}
