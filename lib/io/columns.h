/*
 * columns.h — the value columns that a job fills and the table writers
 * write: one per (raster, band).
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
} rp_value_column;

#endif
