/*
 * table_write.h — the output table, the entry points: where it goes (CSV
 * text or, by extension, any OGR vector format), the checks before any
 * work, and writing it so that it is put in place only when complete.
 */
#ifndef RP_TABLE_WRITE_H
#define RP_TABLE_WRITE_H
#include <stdbool.h>
#include <stdio.h>

#include <gdal.h>

#include "table_internal.h"

/* Is the output CSV text (stdout, no extension, .csv/.tsv/.txt)? */
bool rp_table_is_text(const char *path);
/* The vector driver that writes files with this path's extension, or NULL. */
GDALDriverH rp_table_driver_for(const char *path);

/* Checks before any work that the output can be written: a known format and
 * a writable folder. path NULL or "-" is standard output. RP_OK; RP_USAGE
 * (a folder, an unknown extension), RP_WRITE (no such folder, not
 * writable). */
rp_status rp_table_check_output(const char *path, rp_error *err);

/* Checks, once the points are read and before any pixel work, that the
 * output's format can hold the table's fields: the input's own (a vector
 * input's types) and the value and status columns (their names and band
 * types; no values are needed). CSV text always can. For a vector format
 * the layer is built in memory and one feature written
 * (rp_table_probe_ogr). RP_OK, or RP_USAGE (exit 2) naming the field and
 * the driver's reason: `-o x.fgb` or `-o x.shp` from points with list
 * fields fails here, not after the whole extraction. */
rp_status rp_table_check_fields(const char *path, rp_points *points, const rp_value_column *columns,
                                int ncolumns, bool with_status, rp_error *err);

/* Renames value and status columns whose names the input already uses
 * (or that repeat), appending _2, _3, ...; says so on log. */
rp_status rp_table_unique_names(rp_points *points, rp_value_column *columns, int ncolumns,
                                bool with_status, FILE *log, rp_error *err);

/* Writes the output table (CSV or by extension any OGR format) and puts it
 * in place only when complete. Call rp_table_check_output first (before the
 * job's work, so a bad -o fails at once), and rp_table_check_fields once
 * the points are read. */
rp_status rp_table_write(const char *path, const rp_table_spec *spec, rp_error *err);

/* The same staging for a job whose rows are not points (zonal): write is
 * called once with the file to create (NULL: standard output) and the
 * vector driver for it (NULL: CSV text); the file is put in place only
 * when write returns RP_OK. */
typedef rp_status (*rp_table_writer_fn)(const char *target, GDALDriverH drv, void *user,
                                        rp_error *err);
rp_status rp_table_write_staged(const char *path, rp_table_writer_fn write, void *user,
                                rp_error *err);

#endif
