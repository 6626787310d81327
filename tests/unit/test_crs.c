/*
 * test_crs.c — the two CRS comparisons of gdal/crs.c and the raster
 * metadata calc reads through gdal/raster_info.c.
 *
 * CRS: the same CRS in two axis orders (EPSG:4326 is latitude first,
 * OGC:CRS84 longitude first), two different CRSs, and one or both sides
 * missing, where rp_crs_same (extract: a missing CRS is taken to be the
 * other) and rp_crs_same_or_both_none (calc: a missing CRS matches only
 * another missing one) differ. Where both sides are defined, the oracle is
 * GDAL's own default comparison (OSRIsSame on CRSs read with GDAL's
 * default axis mapping), which calc used before.
 *
 * Metadata: rasters this test writes to /vsimem/ with known geotransform,
 * CRS and nodata, read back with rp_raster_info_read / rp_band_info_read.
 */
#include <gdal.h>
#include <ogr_srs_api.h>

#include "check.h"
#include "crs.h"
#include "raster_info.h"

/* GDAL's default comparison of two CRSs given as user text. */
static bool gdal_default_same(const char *a, const char *b) {
    OGRSpatialReferenceH sa = OSRNewSpatialReference(NULL), sb = OSRNewSpatialReference(NULL);
    CHECK(OSRSetFromUserInput(sa, a) == OGRERR_NONE);
    CHECK(OSRSetFromUserInput(sb, b) == OGRERR_NONE);
    bool same = OSRIsSame(sa, sb) != 0;
    OSRDestroySpatialReference(sa);
    OSRDestroySpatialReference(sb);
    return same;
}

static void check_pair(const char *a, const char *b, bool want) {
    rp_error err;
    rp_error_clear(&err);
    OGRSpatialReferenceH sa = rp_crs_from_user(a, &err), sb = rp_crs_from_user(b, &err);
    CHECK(sa && sb);
    CHECK_EQ_INT(gdal_default_same(a, b), want);
    CHECK_EQ_INT(rp_crs_same(sa, sb), want);
    CHECK_EQ_INT(rp_crs_same(sb, sa), want);
    CHECK_EQ_INT(rp_crs_same_or_both_none(sa, sb), want);
    CHECK_EQ_INT(rp_crs_same_or_both_none(sb, sa), want);
    OSRDestroySpatialReference(sa);
    OSRDestroySpatialReference(sb);
}

static void test_crs_same(void) {
    check_pair("EPSG:4326", "EPSG:4326", true);
    check_pair("EPSG:4326", "OGC:CRS84", true); /* axis order differs */
    check_pair("EPSG:32633", "EPSG:32634", false);
    check_pair("EPSG:4326", "EPSG:4269", false); /* WGS 84 vs NAD83 */

    /* one side missing: extract takes it as the other, calc as different */
    rp_error err;
    rp_error_clear(&err);
    OGRSpatialReferenceH utm = rp_crs_from_user("EPSG:32633", &err);
    CHECK(rp_crs_same(utm, NULL));
    CHECK(rp_crs_same(NULL, utm));
    CHECK(!rp_crs_same_or_both_none(utm, NULL));
    CHECK(!rp_crs_same_or_both_none(NULL, utm));
    CHECK(rp_crs_same(NULL, NULL));
    CHECK(rp_crs_same_or_both_none(NULL, NULL));

    char buf[300];
    CHECK_EQ_STR(rp_crs_describe(utm, buf, sizeof buf), "EPSG:32633 (WGS 84 / UTM zone 33N)");
    CHECK_EQ_STR(rp_crs_describe(NULL, buf, sizeof buf), "none");
    CHECK_EQ_STR(rp_crs_label(utm, buf, sizeof buf), "EPSG:32633");
    OSRDestroySpatialReference(utm);
}

/* A 3x2 GTiff in /vsimem/ with one band of `type`; gt and srs when given. */
static void write_raster(const char *path, GDALDataType type, const double *gt, const char *srs,
                         bool has_nodata, double nodata) {
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, 3, 2, 1, type, NULL);
    CHECK(ds != NULL);
    if (gt)
        GDALSetGeoTransform(ds, (double *)gt);
    if (srs) {
        OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
        OSRSetFromUserInput(s, srs);
        GDALSetSpatialRef(ds, s);
        OSRDestroySpatialReference(s);
    }
    if (has_nodata && type == GDT_Int64)
        GDALSetRasterNoDataValueAsInt64(GDALGetRasterBand(ds, 1), (int64_t)nodata);
    else if (has_nodata)
        GDALSetRasterNoDataValue(GDALGetRasterBand(ds, 1), nodata);
    GDALClose(ds);
}

static void test_raster_info(void) {
    const double gt[6] = {500000, 10, 0, 4000000, 0, -10};
    write_raster("/vsimem/with.tif", GDT_Int16, gt, "EPSG:32633", true, -9999);
    write_raster("/vsimem/without.tif", GDT_Int64, NULL, NULL, true, -5);
    rp_error err;
    rp_error_clear(&err);
    rp_raster_info ri;
    GDALDatasetH ds = NULL;
    CHECK_EQ_INT(rp_raster_info_read("/vsimem/with.tif", &ri, &ds, &err), RP_OK);
    CHECK(ri.has_geotransform);
    CHECK(memcmp(ri.grid.gt, gt, sizeof gt) == 0);
    CHECK_EQ_INT(ri.grid.width, 3);
    CHECK_EQ_INT(ri.grid.height, 2);
    CHECK_EQ_INT(ri.band_count, 1);
    CHECK(ri.wkt && strstr(ri.wkt, "UTM zone 33N") != NULL);
    CHECK_EQ_STR(ri.wkt, GDALGetProjectionRef(ds));
    rp_band_info band;
    CHECK_EQ_INT(rp_band_info_read(ds, ri.path, 1, &band, &err), RP_OK);
    CHECK_EQ_INT(band.type, GDT_Int16);
    CHECK(band.has_nodata);
    CHECK(rp_band_nodata_as_double(&band) == -9999);
    GDALClose(ds);
    rp_raster_info_free(&ri);

    CHECK_EQ_INT(rp_raster_info_read("/vsimem/without.tif", &ri, &ds, &err), RP_OK);
    CHECK(!ri.has_geotransform);
    CHECK_EQ_STR(ri.wkt, "");
    CHECK(ri.srs == NULL);
    const double pixels[6] = {0, 1, 0, 0, 0, 1}; /* GDAL's default */
    CHECK(memcmp(ri.grid.gt, pixels, sizeof pixels) == 0);
    CHECK_EQ_INT(rp_band_info_read(ds, ri.path, 1, &band, &err), RP_OK);
    CHECK_EQ_INT(band.type, GDT_Int64);
    CHECK(band.has_nodata);
    CHECK(rp_band_nodata_as_double(&band) == -5);
    GDALClose(ds);
    rp_raster_info_free(&ri);

    /* not a raster: RP_OPEN, the message starts with the path */
    CHECK_EQ_INT(rp_raster_info_read("/vsimem/nothing.tif", &ri, NULL, &err), RP_OPEN);
    CHECK(strncmp(err.message, "/vsimem/nothing.tif: ", 21) == 0);
    rp_raster_info_free(&ri);
    VSIUnlink("/vsimem/with.tif");
    VSIUnlink("/vsimem/without.tif");
}

int main(void) {
    GDALAllRegister();
    test_crs_same();
    test_raster_info();
    return CHECK_DONE();
}
