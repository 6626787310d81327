/*
 * checked_vsi.h — a path under which every write GDAL makes is checked
 * (checked_vsi.c): a short write, or a failed flush, truncate or close,
 * raises a GDAL error (CE_Failure) on the writing thread.
 */
#ifndef RP_CHECKED_VSI_H
#define RP_CHECKED_VSI_H
#include <stdbool.h>

/* "/vsirpchecked/" + path for a local path (relative paths stay relative to
 * the working folder); a GDAL virtual path ("/vsi...") is returned as it is.
 * The caller frees the result (malloc); NULL when out of memory. */
char *rp_checked_vsi_path(const char *path);

/* The reason (errno's text) of the first write that failed under
 * /vsirpchecked/ on this thread since rp_checked_vsi_reset, or "": drivers
 * often report a failed write with their own words only ("Failed writing
 * geometry"), and this is the cause behind them. */
void rp_checked_vsi_reset(void);
const char *rp_checked_vsi_failure(void);

#endif
