/*
 * raster_info.c — what the planner needs to know of a raster and its bands:
 * size, geotransform, block size, CRS, data type, nodata and masks, and the
 * GeoTIFF per-block byte counts that --plan uses to estimate I/O. The
 * extract planner and calc's setup (which checks that its inputs share one
 * grid) both read rasters through here.
 *
 * The CRS may be left for later (rp_raster_info_read_no_srs): GDAL's GTiff
 * driver builds it from the GeoKeys through PROJ's SQLite database, about
 * 15 ms of a small job's start, which extract needs only when points are to
 * be transformed or the output carries a CRS; rp_raster_info_read_srs then
 * opens the raster again for it.
 *
 * Threads: the caller's thread; it opens its own short-lived handle (the
 * workers open theirs).
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_string.h>

#include "crs.h"
#include "gdal_errors.h"
#include "pixel.h"
#include "raster_info.h"
#include "remote.h"

/* The raster's CRS from its open dataset into info. */
static rp_status load_srs(GDALDatasetH ds, rp_raster_info *info, rp_error *err) {
    const char *wkt = GDALGetProjectionRef(ds);
    info->srs = rp_crs_from_wkt(wkt);
    info->wkt = strdup(wkt ? wkt : "");
    info->srs_deferred = false;
    if (!info->wkt)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    return RP_OK;
}

static rp_status read_info(const char *path, rp_raster_info *info, GDALDatasetH *open_ds,
                           bool with_srs, rp_error *err) {
    memset(info, 0, sizeof *info);
    info->path = path;
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    GDALDatasetH ds =
        rp_remote_open(path, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR);
    rp_gdal_capture_pop();
    char why[768];
    if (!ds)
        return rp_error_set(err, RP_OPEN, "%s: cannot open raster: %s", path,
                            rp_gdal_open_failure(path, &cap, why, sizeof why));
    rp_status rc = RP_OK;
    info->band_count = GDALGetRasterCount(ds);
    if (info->band_count < 1) {
        rc = rp_error_set(err, RP_OPEN, "%s: has no raster bands", path);
        goto done;
    }
    double gt[6];
    info->has_geotransform = GDALGetGeoTransform(ds, gt) == CE_None;
    if (!info->has_geotransform) {
        /* GDAL's default: pixel coordinates, used only when the job says
         * so (georef.c); what else could locate the pixels: */
        info->ngcps = GDALGetGCPCount(ds);
        info->has_rpc = GDALGetMetadata(ds, "RPC") != NULL;
        info->has_geoloc = GDALGetMetadata(ds, "GEOLOCATION") != NULL;
        gt[0] = 0;
        gt[1] = 1;
        gt[2] = 0;
        gt[3] = 0;
        gt[4] = 0;
        gt[5] = 1;
    }
    int bw, bh;
    GDALGetBlockSize(GDALGetRasterBand(ds, 1), &bw, &bh);
    if (!rp_grid_init(&info->grid, gt, GDALGetRasterXSize(ds), GDALGetRasterYSize(ds), bw, bh)) {
        rc = rp_error_set(err, RP_OPEN, "%s: its geotransform cannot be inverted", path);
        goto done;
    }
    GDALDriverH drv = GDALGetDatasetDriver(ds);
    info->driver = strdup(drv ? GDALGetDriverShortName(drv) : "?");
    if (!info->driver)
        rc = rp_error_set(err, RP_NOMEM, "out of memory");
    /* only a GeoTIFF's CRS is worth deferring (built from its GeoKeys
     * through PROJ's database); other drivers hand over stored WKT, and
     * opening them again (a VRT of thousands of sources) may cost more */
    else if (with_srs || strcmp(info->driver, "GTiff") != 0)
        rc = load_srs(ds, info, err);
    else
        info->srs_deferred = true;
done:
    if (rc == RP_OK && open_ds)
        *open_ds = ds; /* the caller reads the bands, then closes it */
    else
        GDALClose(ds);
    return rc;
}

rp_status rp_raster_info_read(const char *path, rp_raster_info *info, GDALDatasetH *open_ds,
                              rp_error *err) {
    return read_info(path, info, open_ds, true, err);
}

rp_status rp_raster_info_read_no_srs(const char *path, rp_raster_info *info, GDALDatasetH *open_ds,
                                     rp_error *err) {
    return read_info(path, info, open_ds, false, err);
}

rp_status rp_raster_info_read_srs(rp_raster_info *info, rp_error *err) {
    if (!info->srs_deferred)
        return RP_OK;
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    GDALDatasetH ds =
        rp_remote_open(info->path, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR);
    rp_gdal_capture_pop();
    char why[768];
    if (!ds)
        return rp_error_set(err, RP_OPEN, "%s: cannot open raster again to read its CRS: %s",
                            info->path, rp_gdal_open_failure(info->path, &cap, why, sizeof why));
    rp_status rc = load_srs(ds, info, err);
    GDALClose(ds);
    return rc;
}

void rp_raster_info_free(rp_raster_info *info) {
    if (!info)
        return;
    if (info->srs)
        OSRDestroySpatialReference(info->srs);
    free(info->driver);
    free(info->wkt);
    memset(info, 0, sizeof *info);
}

rp_status rp_band_info_read(GDALDatasetH ds, const char *path, int band, rp_band_info *out,
                            rp_error *err) {
    memset(out, 0, sizeof *out);
    int count = GDALGetRasterCount(ds);
    if (band < 1 || band > count)
        return rp_error_set(err, RP_USAGE, "%s: has no band %d (it has %d band%s)", path, band,
                            count, count == 1 ? "" : "s");
    GDALRasterBandH b = GDALGetRasterBand(ds, band);
    out->band = band;
    out->type = GDALGetRasterDataType(b);
    out->type_size = GDALGetDataTypeSizeBytes(out->type);
    out->value_type = out->type;
    const char *pixeltype = GDALGetMetadataItem(b, "PIXELTYPE", "IMAGE_STRUCTURE");
    if (out->type == GDT_Byte && pixeltype && EQUAL(pixeltype, "SIGNEDBYTE"))
        out->value_type = RP_GDT_INT8; /* GDAL 3.6 reads these as unsigned */
    if (out->type_size <= 0 || out->type_size > 16)
        return rp_error_set(err, RP_READ, "%s: band %d has a data type rasterpool cannot read (%s)",
                            path, band, GDALGetDataTypeName(out->type));
    GDALGetBlockSize(b, &out->block_w, &out->block_h);
    int has = 0;
    if (out->type == GDT_Int64) {
        out->nodata_i64 = GDALGetRasterNoDataValueAsInt64(b, &has);
    } else if (out->type == GDT_UInt64) {
        out->nodata_u64 = GDALGetRasterNoDataValueAsUInt64(b, &has);
    } else {
        out->nodata = GDALGetRasterNoDataValue(b, &has);
    }
    out->has_nodata = has != 0;
    /* A Float32 band's nodata beyond the float range can equal no pixel
     * (and casting it would be undefined). */
    if ((out->type == GDT_Float32 || out->type == GDT_CFloat32) && isfinite(out->nodata) &&
        fabs(out->nodata) > FLT_MAX)
        out->has_nodata = false;
    const char *desc = GDALGetDescription(b);
    snprintf(out->description, sizeof out->description, "%s", desc ? desc : "");
    int has_scale = 0, has_offset = 0;
    out->scale = GDALGetRasterScale(b, &has_scale);
    out->offset = GDALGetRasterOffset(b, &has_offset);
    if (!has_scale)
        out->scale = 1;
    if (!has_offset)
        out->offset = 0;
    out->has_scale = out->scale != 1 || out->offset != 0;
    int flags = GDALGetMaskFlags(b);
    /* Nodata is compared directly; an all-valid mask needs nothing. Any other
     * mask (per-dataset, alpha, explicit per-band) is read with the block. */
    out->read_mask = !(flags & GMF_ALL_VALID) && !(flags & GMF_NODATA);
    out->mask_per_dataset = (flags & GMF_PER_DATASET) != 0;
    return RP_OK;
}

double rp_band_nodata_as_double(const rp_band_info *band) {
    if (band->type == GDT_Int64)
        return (double)band->nodata_i64;
    if (band->type == GDT_UInt64)
        return (double)band->nodata_u64;
    return band->nodata;
}

int64_t rp_raster_block_bytes(GDALDatasetH ds, int band, int64_t block_x, int64_t block_y) {
    char key[64];
    snprintf(key, sizeof key, "BLOCK_SIZE_%" PRId64 "_%" PRId64, block_x, block_y);
    const char *v = GDALGetMetadataItem(GDALGetRasterBand(ds, band), key, "TIFF");
    if (!v)
        return -1;
    return strtoll(v, NULL, 10);
}
