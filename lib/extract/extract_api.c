/*
 * extract_api.c — extraction for C callers, in memory: arrays of points in,
 * arrays of values and statuses out, with the same engine as the CLI.
 *
 * Threads: runs on the caller's thread with its own pool for the call.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "extract_internal.h"
#include "pool.h"
#include "valfmt.h"

static double value_as_double(GDALDataType type, const unsigned char *p) {
    switch (type) {
    case GDT_Byte: return *p;
    case GDT_UInt16: {
        uint16_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case GDT_Int16:
    case GDT_CInt16: {
        int16_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case GDT_UInt32: {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case GDT_Int32:
    case GDT_CInt32: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case GDT_UInt64: {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return (double)v;
    }
    case GDT_Int64: {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return (double)v;
    }
    case GDT_Float32:
    case GDT_CFloat32: {
        float v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case GDT_Float64:
    case GDT_CFloat64: {
        double v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    default: return 0;
    }
}

RP_API rp_status rp_extract_count_columns(const char *const *rasters, int nrasters,
                                          const int *bands, int nbands, int *ncols, rp_error *err) {
    rp_extract_setup setup;
    rp_status rc =
        rp_extract_setup_init(&setup, (char *const *)rasters, nrasters, bands, nbands, err);
    *ncols = rc == RP_OK ? setup.ncolumns : 0;
    rp_extract_setup_free(&setup);
    return rc;
}

RP_API rp_status rp_extract_points(const char *const *rasters, int nrasters, const int *bands,
                                   int nbands, const double *x, const double *y, size_t n,
                                   int threads, double *values, uint8_t *status, rp_error *err) {
    rp_extract_setup setup;
    rp_extract_options opts;
    memset(&opts, 0, sizeof opts);
    opts.max_open_per_worker = 64;
    rp_extract_read_stats stats = {0, 0};
    rp_pool *pool = NULL;
    rp_status rc =
        rp_extract_setup_init(&setup, (char *const *)rasters, nrasters, bands, nbands, err);
    if (rc == RP_OK)
        rc = rp_extract_setup_alloc(&setup, n, err);
    if (rc == RP_OK) {
        pool = rp_pool_new(threads > 0 ? threads : rp_usable_cpus());
        if (!pool)
            rc = rp_error_set(err, RP_INTERNAL, "cannot start threads");
    }
    if (rc == RP_OK)
        rc = rp_extract_execute(&setup, pool, x, y, NULL, n, NULL, &opts, &stats, err);
    if (rc == RP_OK) {
        for (int c = 0; c < setup.ncolumns; c++) {
            const rp_value_column *col = &setup.columns[c];
            for (size_t i = 0; i < n; i++) {
                size_t k = (size_t)c * n + i;
                status[k] = col->status[i];
                values[k] = col->status[i] == RP_POINT_OK
                                ? value_as_double(col->band.type,
                                                  col->values + i * (size_t)col->band.type_size)
                                : 0.0;
            }
        }
        if (stats.blocks_failed)
            rc = rp_error_set(err, RP_PARTIAL, "%llu block(s) could not be read",
                              (unsigned long long)stats.blocks_failed);
    }
    rp_pool_free(pool);
    rp_extract_setup_free(&setup);
    return rc;
}
