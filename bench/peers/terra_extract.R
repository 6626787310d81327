# terra_extract.R — terra::extract(), the R user's tool: read the points CSV,
# extract the raster's values at them, write id,value CSV.
# Usage: Rscript terra_extract.R RASTER POINTS.csv OUT.csv [METHOD]
# METHOD: extract()'s method, "simple" (default) or "bilinear".
# Prints api_seconds=X on stderr: the extract() call alone.
suppressPackageStartupMessages(library(terra))
args <- commandArgs(trailingOnly = TRUE)
r <- rast(args[1])
pts <- read.csv(args[2])
t0 <- proc.time()[["elapsed"]]
method <- if (length(args) >= 4) args[4] else "simple"
v <- extract(r, as.matrix(pts[, c("x", "y")]), method = method)
api <- proc.time()[["elapsed"]] - t0
write(sprintf("api_seconds=%.6f", api), stderr())
out <- data.frame(id = pts$id, value = v[[1]])
write.csv(out, args[3], row.names = FALSE, na = "")
