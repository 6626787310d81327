/*
 * points_ogr.h — pass 1 of points from any vector dataset GDAL reads.
 */
#ifndef RP_POINTS_OGR_H
#define RP_POINTS_OGR_H
#include "points_buf.h"

/* Opens opts->path with OGR (kept open in pts for pass 2), picks the layer
 * (opts->layer, or the first), its CRS, and reads every feature's point
 * into xy; a feature without a point geometry is a bad row. RP_OK; RP_OPEN,
 * RP_USAGE (no such layer), RP_NOMEM, RP_INTERRUPTED. */
rp_status rp_points_ogr_read(const rp_points_options *opts, rp_points *pts, rp_xy_buf *xy,
                             rp_error *err);

#endif
