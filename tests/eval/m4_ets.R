# forecast::ets on the first N M4 Hourly series, for eval_forecast's comparison.
#   Rscript m4_ets.R DATA_DIR OUT_CSV N
# Writes OUT_CSV: one line per series, "id,f1,...,f48" (48 point forecasts), then a last line
# "seconds,<CPU seconds spent in ets + forecast>". Default settings of ets (model chosen by AICc),
# frequency 24, as the M4 organisers' benchmarks and the README's published R figures.
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]
out_csv <- args[2]
n <- as.integer(args[3])
lines <- readLines(file.path(data_dir, "Hourly-train.csv"), n = n + 1)[-1]
out <- character(0)
cpu <- 0
for (line in lines) {
  fields <- gsub('"', "", strsplit(line, ",")[[1]])
  id <- fields[1]
  y <- as.numeric(fields[-1])
  y <- y[!is.na(y)]
  start <- proc.time()[["user.self"]] + proc.time()[["sys.self"]]
  fc <- forecast(ets(ts(y, frequency = 24)), h = 48)$mean
  cpu <- cpu + proc.time()[["user.self"]] + proc.time()[["sys.self"]] - start
  out <- c(out, paste(c(id, format(as.numeric(fc), digits = 17)), collapse = ","))
}
out <- c(out, paste0("seconds,", cpu))
writeLines(out, out_csv)
