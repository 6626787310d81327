/*
 * columns.h — the value columns that a job fills and the table writers
 * write: one per (raster, band), or with sampling one per (raster, band,
 * statistic).
 */
#ifndef RP_COLUMNS_H
#define RP_COLUMNS_H
#include <stdint.h>

#include "raster_info.h"

/* One output column of values: a (raster, band) pair. */
typedef struct rp_value_column {
    char *name;
    char *status_name;
    int raster; /* index into options' rasters */
    rp_band_info band;
    unsigned char *values; /* npoints * band.type_size bytes */
    uint8_t *status;       /* npoints rp_point_status */
    /* Sampling around points (extract/sample.h) computes a column from a
     * band's cells: the band column it comes from, what (an
     * rp_window_stat, or -1: the interpolated value), and for the window's
     * values the cell (row-major). All 0 for plain value columns. */
    int sample_source;
    int sample_stat;
    int sample_cell;
} rp_value_column;

#endif
