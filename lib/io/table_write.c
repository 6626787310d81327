/*
 * table_write.c — where the output table goes, the checks before any work
 * (a known format, a writable folder; then, once the points are read, a
 * format that holds the fields), the column names, and putting the table
 * in place. The writers (table_csv.c, table_ogr.c) never call back here.
 *
 * Standard output, and paths that are not regular files (/dev/null, a FIFO),
 * are written directly. Anything else is staged beside the destination
 * (core/staged_output: ".NAME.rp-tmp-PID-XXXXXX/NAME") and put in place only
 * when the writer finished without error, every file of it (formats such as
 * Shapefile or MapInfo write several), so a failed or interrupted run leaves
 * nothing half-written. A single-file output replaces an old one atomically
 * (fsync, rename, folder fsync).
 *
 * Threads: the caller's thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_string.h>
#include <ogr_api.h>

#include "fileio.h"
#include "gdal_errors.h"
#include "output_guard.h"
#include "staged_output.h"
#include "table_csv.h"
#include "table_ogr.h"
#include "table_write.h"

static const char *extension_of(const char *path) {
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    return (!dot || (slash && dot < slash)) ? "" : dot + 1;
}

static bool is_stdout(const char *path) {
    return !path || strcmp(path, "-") == 0;
}

bool rp_table_is_text(const char *path) {
    if (is_stdout(path))
        return true;
    const char *ext = extension_of(path);
    return !*ext || strcasecmp(ext, "csv") == 0 || strcasecmp(ext, "tsv") == 0 ||
           strcasecmp(ext, "txt") == 0;
}

GDALDriverH rp_table_driver_for(const char *path) {
    const char *ext = extension_of(path);
    for (int i = 0; *ext && i < GDALGetDriverCount(); i++) {
        GDALDriverH d = GDALGetDriver(i);
        if (!GDALGetMetadataItem(d, GDAL_DCAP_VECTOR, NULL) ||
            !GDALGetMetadataItem(d, GDAL_DCAP_CREATE, NULL))
            continue;
        const char *exts = GDALGetMetadataItem(d, GDAL_DMD_EXTENSIONS, NULL);
        if (!exts)
            exts = GDALGetMetadataItem(d, GDAL_DMD_EXTENSION, NULL);
        char **list = exts ? CSLTokenizeString2(exts, " ", 0) : NULL;
        bool match = false;
        for (char **e = list; e && *e; e++)
            match = match || strcasecmp(*e, ext) == 0;
        CSLDestroy(list);
        if (match)
            return d;
    }
    return NULL;
}

/* A device, FIFO or /dev/stdout is written directly: renaming over it
 * would replace it (core/output_guard). */
static bool is_special_file(const char *path) {
    return rp_output_is_direct(path);
}


rp_status rp_table_check_output(const char *path, rp_error *err) {
    struct stat st;
    if (!is_stdout(path) && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return rp_error_set(err, RP_USAGE, "%s: is a folder; -o takes a file name", path);
    if (is_stdout(path) || is_special_file(path))
        return RP_OK;
    if (!rp_table_is_text(path) && !rp_table_driver_for(path))
        return rp_error_set(err, RP_USAGE,
                            "%s: no GDAL vector driver writes '.%s' files (use .csv, .gpkg, "
                            ".fgb, .geojson, .shp, ...)",
                            path, extension_of(path));
    char *dir = rp_path_folder(path);
    if (!dir)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    rp_status rc = RP_OK;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        rc = rp_error_set(err, RP_WRITE, "%s: the folder %s does not exist", path, dir);
    else if (access(dir, W_OK | X_OK) != 0)
        rc = rp_error_set(err, RP_WRITE, "%s: cannot write in %s: %s", path, dir, strerror(errno));
    free(dir);
    return rc;
}

/* True when name is among names (case-insensitive: most formats are). */
static bool name_taken(char **names, const char *name) {
    for (char **n = names; n && *n; n++)
        if (strcasecmp(*n, name) == 0)
            return true;
    return false;
}

/* The input's column names, as the output will carry them. */
static char **input_names(rp_points *pts) {
    if (pts->is_csv)
        return CSLDuplicate(pts->header_names);
    char **names = CSLAddString(CSLAddString(NULL, "x"), "y");
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(pts->layer);
    for (int f = 0; f < OGR_FD_GetFieldCount(defn); f++)
        names = CSLAddString(names, OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, f)));
    return names;
}

/* Makes *name unique among names (appending _2, _3, ...) and adds it. */
static rp_status claim_name(char ***names, char **name, FILE *log, rp_error *err) {
    if (name_taken(*names, *name)) {
        size_t cap = strlen(*name) + 16;
        char *fresh = malloc(cap);
        if (!fresh)
            return rp_error_set(err, RP_NOMEM, "out of memory");
        for (int k = 2;; k++) {
            snprintf(fresh, cap, "%s_%d", *name, k);
            if (!name_taken(*names, fresh))
                break;
        }
        if (log)
            fprintf(log, "rasterpool: the input already has a column '%s': the new one is '%s'\n",
                    *name, fresh);
        free(*name);
        *name = fresh;
    }
    *names = CSLAddString(*names, *name);
    return RP_OK;
}

rp_status rp_table_unique_names(rp_points *pts, rp_value_column *cols, int ncols, bool with_status,
                                FILE *log, rp_error *err) {
    char **names = input_names(pts);
    rp_status rc = RP_OK;
    for (int c = 0; c < ncols && rc == RP_OK; c++) {
        rc = claim_name(&names, &cols[c].name, log, err);
        if (rc == RP_OK && with_status)
            rc = claim_name(&names, &cols[c].status_name, log, err);
    }
    CSLDestroy(names);
    return rc;
}

rp_status rp_table_check_fields(const char *path, rp_points *points, const rp_value_column *columns,
                                int ncolumns, bool with_status, rp_error *err) {
    if (rp_table_is_text(path))
        return RP_OK;
    GDALDriverH drv = rp_table_driver_for(path);
    if (!drv)
        return RP_OK; /* rp_table_check_output said so */
    rp_table_spec spec = {.name = path,
                          .points = points,
                          .columns = columns,
                          .ncolumns = ncolumns,
                          .with_status = with_status};
    return rp_table_probe_ogr(drv, &spec, err);
}

/* fopen for writing. Opening a FIFO waits for its reader; a signal (Ctrl-C)
 * ends the wait with EINTR: the caller's progress function decides whether
 * to stop (NULL, errno EINTR) or wait on. */
static FILE *open_output(const char *path, const rp_table_spec *spec) {
    for (;;) {
        FILE *f = fopen(path, "wb");
        if (f || errno != EINTR)
            return f;
        if (spec->progress && spec->progress(0, "opening the output", spec->progress_user) != 0) {
            errno = EINTR;
            return NULL;
        }
    }
}

static rp_status write_to(const char *path, GDALDriverH drv, const rp_table_spec *spec,
                          rp_error *err) {
    if (drv)
        return rp_table_write_ogr(drv, path, spec, err);
    FILE *out = open_output(path, spec);
    if (!out && errno == EINTR)
        return rp_error_set(err, RP_INTERRUPTED, "interrupted while opening %s", path);
    if (!out)
        return rp_error_set(err, RP_WRITE, "%s: cannot create: %s", path, strerror(errno));
    setvbuf(out, NULL, _IOFBF, 1 << 16);
    rp_status rc = rp_table_write_csv(out, spec, !is_special_file(path), err);
    if (fclose(out) != 0 && rc == RP_OK)
        rc = rp_error_set(err, RP_WRITE, "%s: cannot write: %s", path, strerror(errno));
    return rc;
}

/* The files of the dataset now at path (GDAL's list: a Shapefile's .shp,
 * .shx, .dbf, .prj), or NULL when there is none GDAL can open. */
static char **old_files(const char *path) {
    if (access(path, F_OK) != 0)
        return NULL;
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    char **list = ds ? GDALGetFileList(ds) : NULL;
    if (ds)
        GDALClose(ds);
    rp_gdal_capture_pop();
    return list;
}

/* Writes the table under a staged name beside path, after sweeping the
 * folder of dead processes' leftovers, and puts every file of it in place.
 * An old dataset of several files is replaced as a set: kept aside until
 * every new file is in place, restored whole if a move fails, and its files
 * the new one does not have removed after (core/staged_output). CSV text is
 * written into the stage's own file; GDAL drivers create theirs (most
 * refuse an existing file). */
static rp_status write_staged(const char *path, GDALDriverH drv, rp_table_writer_fn write,
                              void *user, rp_error *err) {
    char *dir = rp_path_folder(path);
    if (!dir)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    rp_stage_sweep(dir);
    free(dir);
    rp_stage *stage = NULL;
    rp_status rc = rp_stage_open(path, drv ? 0 : RP_STAGE_CREATE, &stage, err);
    if (rc == RP_OK)
        rc = write(rp_stage_path(stage), drv, user, err);
    char **old = rc == RP_OK && drv ? old_files(path) : NULL;
    if (rc == RP_OK)
        rc = rp_stage_commit_replacing(stage, (const char *const *)old, (size_t)CSLCount(old), err);
    CSLDestroy(old);
    rp_stage_free(stage); /* removes what was not committed */
    return rc;
}

/* Standard output, a device or FIFO (written in place), or a staged file:
 * the one dispatch of every table output. target NULL: standard output. */
static rp_status write_table(const char *path, rp_table_writer_fn write, void *user,
                             rp_error *err) {
    if (is_stdout(path)) {
        rp_status rc = write(NULL, NULL, user, err);
        if (fflush(stdout) != 0 && rc == RP_OK)
            rc =
                rp_error_set(err, RP_WRITE, "cannot write to standard output: %s", strerror(errno));
        return rc;
    }
    GDALDriverH drv = rp_table_is_text(path) ? NULL : rp_table_driver_for(path);
    if (is_special_file(path))
        return write(path, drv, user, err);
    return write_staged(path, drv, write, user, err);
}

/* rp_table_write's writer: the points' table to target (NULL: stdout). */
static rp_status write_spec(const char *target, GDALDriverH drv, void *user, rp_error *err) {
    const rp_table_spec *spec = user;
    if (!target)
        return rp_table_write_csv(stdout, spec, false, err);
    return write_to(target, drv, spec, err);
}

rp_status rp_table_write(const char *path, const rp_table_spec *spec, rp_error *err) {
    return write_table(path, write_spec, (void *)spec, err);
}

/* For a job whose rows are not points (zonal): the same staging, any
 * writer. */
rp_status rp_table_write_staged(const char *path, rp_table_writer_fn write, void *user,
                                rp_error *err) {
    return write_table(path, write, user, err);
}
