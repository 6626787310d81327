/*
 * raster_info.h — what a job needs to know of a raster and its bands before
 * it reads pixels: size, geotransform, blocks, CRS, type, nodata, masks
 * (raster_info.c).
 */
#ifndef RP_RASTER_INFO_H
#define RP_RASTER_INFO_H
#include <stdbool.h>
#include <stdint.h>

#include <gdal.h>
#include <ogr_srs_api.h>

#include "grid.h"
#include "rasterpool.h"

/* What the job needs to know of one band. */
typedef struct rp_band_info {
    int band;          /* 1-based */
    GDALDataType type; /* GDAL's type: the buffer type of reads */
    /* How the bytes read are to be taken: type, except a Byte band marked
     * PIXELTYPE=SIGNEDBYTE (GDAL < 3.7 has no Int8 type), which is
     * RP_GDT_INT8. Values, nodata and text use this one. */
    GDALDataType value_type;
    int type_size;
    int block_w, block_h; /* this band's own blocks */
    bool has_nodata;
    double nodata;         /* for types up to 32 bits and floats */
    int64_t nodata_i64;    /* GDT_Int64 */
    uint64_t nodata_u64;   /* GDT_UInt64 */
    char description[256]; /* GDAL's band description ("B08"), "" when none */
    bool has_scale;        /* GDAL scale/offset other than 1/0 (applied with --unscale) */
    double scale, offset;
    bool read_mask;        /* a mask band (per-dataset, alpha, or explicit) must be read */
    bool mask_per_dataset; /* that mask is shared by all bands (read once a block) */
} rp_band_info;

/* One raster's metadata, read on the caller's thread before planning. */
typedef struct rp_raster_info {
    const char *path;
    rp_grid grid;             /* with band 1's block size */
    bool has_geotransform;    /* false: grid.gt is GDAL's default (pixel coordinates) */
    OGRSpatialReferenceH srs; /* NULL when the raster has none (or srs_deferred) */
    char *wkt;                /* the CRS as the raster gives it, "" when none */
    /* The CRS is not read yet (srs and wkt NULL): rp_raster_info_read_srs
     * reads it. Reading a GeoTIFF's CRS opens PROJ's database (about 15 ms),
     * which a job whose points need no transformation never needs. */
    bool srs_deferred;
    int band_count;
    char *driver;
    /* Without a geotransform: what else locates its pixels (georef.h) */
    int ngcps;
    bool has_rpc, has_geoloc;
    int georef;               /* rp_georef_method chosen by the job; 0: unset */
    char **georef_options;    /* --to KEY=VALUE transformer options (borrowed) */
    uint64_t block_bytes_sum; /* sum of BLOCK_SIZE_* metadata over touched blocks: set by plan */
    bool block_bytes_known;
} rp_raster_info;

/* Reads metadata (size, geotransform, blocks, CRS). RP_OPEN, with a message
 * that starts with the path, when it is not a raster, has no band, or its
 * geotransform cannot be inverted. With open_ds, the dataset stays open for
 * the caller (who closes it) on success. Free info with rp_raster_info_free
 * in every case. */
rp_status rp_raster_info_read(const char *path, rp_raster_info *info, GDALDatasetH *open_ds,
                              rp_error *err);
/* The same without a GeoTIFF's CRS: info->srs_deferred is set, and srs
 * and wkt stay NULL until rp_raster_info_read_srs (other drivers' CRS is
 * read at once). For a job that may never need the CRS (extract: CSV
 * points without --points-crs into a CSV file). */
rp_status rp_raster_info_read_no_srs(const char *path, rp_raster_info *info, GDALDatasetH *open_ds,
                                     rp_error *err);
/* Reads a deferred CRS (opening the raster again: for a remote raster GDAL's
 * /vsicurl/ cache still holds its header, so no request is sent); nothing
 * when it is read already. RP_OPEN naming the path when the raster cannot be
 * opened again. Caller's thread. */
rp_status rp_raster_info_read_srs(rp_raster_info *info, rp_error *err);
void rp_raster_info_free(rp_raster_info *info);
/* Band metadata; RP_USAGE when the raster has no such band. A Float32
 * band's nodata beyond the float range is taken as none (no pixel can
 * equal it). */
rp_status rp_band_info_read(GDALDatasetH ds, const char *path, int band, rp_band_info *out,
                            rp_error *err);
/* The band's nodata as a double, whatever its type (64-bit integers cast,
 * as GDALGetRasterNoDataValue does); meaningful when has_nodata. */
double rp_band_nodata_as_double(const rp_band_info *band);
/* The stored size of one block of a band from the GeoTIFF BLOCK_SIZE_x_y
 * metadata; -1 when unknown. */
int64_t rp_raster_block_bytes(GDALDatasetH ds, int band, int64_t block_x, int64_t block_y);

#endif
