/*
 * table_ogr.h — the output table as a GDAL vector dataset, and the check,
 * before any pixel work, that the format can hold the table's fields.
 */
#ifndef RP_TABLE_OGR_H
#define RP_TABLE_OGR_H
#include <gdal.h>

#include "table_internal.h"

/* Writes a new dataset at path with driver drv (spec->name names it in
 * messages). RP_OK; RP_WRITE, RP_READ (the points changed), RP_NOMEM,
 * RP_INTERRUPTED. */
rp_status rp_table_write_ogr(GDALDriverH drv, const char *path, const rp_table_spec *spec,
                             rp_error *err);

/* Builds the output's layer and fields exactly as rp_table_write_ogr does,
 * in memory (/vsimem/), writes one feature with every field set, and
 * closes it: RP_OK when drv takes them all, RP_USAGE with the driver's
 * reason and the fields of types drv does not list when it refuses one.
 * No pixel value is needed (value columns need their names and types
 * only). A driver that cannot write to /vsimem/ is not probed (RP_OK): its
 * real write reports. */
rp_status rp_table_probe_ogr(GDALDriverH drv, const rp_table_spec *spec, rp_error *err);

#endif
