/*
 * table_out.c — write the output table: every input row again, in input
 * order, followed by the value (and status) columns.
 *
 * CSV output (stdout, or a path ending in .csv/.tsv/.txt) is plain text: a
 * CSV input row is copied byte for byte and the values are appended with
 * the input's delimiter; a vector input row becomes x, y and its fields.
 * Any other extension picks the OGR driver that claims it (.gpkg, .fgb,
 * .geojson, ...): features keep their geometry and fields, and values get
 * typed fields. Files are written under a temporary name in the same folder
 * and renamed when complete, so a failed run leaves no partial output
 * (Shapefiles, being several files, are written in place).
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

#include "error_internal.h"
#include "extract_internal.h"
#include "points_internal.h"
#include "valfmt_internal.h"

static const char *extension_of(const char *path) {
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    return (!dot || (slash && dot < slash)) ? "" : dot + 1;
}

/* CSV text for .csv/.tsv/.txt and for names without an extension. */
static bool is_text_output(const char *path) {
    const char *ext = extension_of(path);
    return !*ext || strcasecmp(ext, "csv") == 0 || strcasecmp(ext, "tsv") == 0 ||
           strcasecmp(ext, "txt") == 0;
}

/* A path that exists and is not a regular file (/dev/null, a FIFO,
 * /dev/stdout) is written directly: renaming over it would replace it. */
static bool is_special_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

/* "dir/name.ext" -> "dir/name.rp-tmp-PID.ext" */
static char *temporary_name(const char *path) {
    const char *ext = extension_of(path);
    size_t stem = *ext ? (size_t)(ext - 1 - path) : strlen(path);
    size_t cap = strlen(path) + 40;
    char *tmp = malloc(cap);
    if (tmp)
        snprintf(tmp, cap, "%.*s.rp-tmp-%ld%s%s", (int)stem, path, (long)getpid(),
                 *ext ? "." : "", ext);
    return tmp;
}

/* Writes s as one CSV field, quoted when it holds the delimiter, a quote or
 * a line end. */
static void put_csv_field(FILE *out, const char *s, char delimiter) {
    bool quote = strchr(s, delimiter) || strchr(s, '"') || strchr(s, '\n') || strchr(s, '\r');
    if (!quote) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void put_value_columns(FILE *out, const rp_value_column *cols, int ncols, size_t i,
                              bool with_status, char delimiter) {
    char buf[RP_VALFMT_MAX];
    for (int c = 0; c < ncols; c++) {
        const rp_value_column *col = &cols[c];
        fputc(delimiter, out);
        if (col->status[i] == RP_POINT_OK) {
            size_t n = rp_format_value(buf, col->band.type,
                                       col->values + i * (size_t)col->band.type_size);
            fwrite(buf, 1, n, out);
        }
        if (with_status) {
            fputc(delimiter, out);
            fputs(rp_point_status_name((rp_point_status)col->status[i]), out);
        }
    }
    fputc('\n', out);
}

static rp_status write_csv(FILE *out, rp_points *pts, const rp_value_column *cols, int ncols,
                           bool with_status, rp_error *err) {
    char d = pts->is_csv ? pts->delimiter : ',';
    OGRFeatureDefnH defn = pts->is_csv ? NULL : OGR_L_GetLayerDefn(pts->layer);
    /* header */
    if (pts->is_csv) {
        fwrite(pts->header, 1, pts->header_len, out);
    } else {
        fputs("x,y", out);
        for (int f = 0; f < OGR_FD_GetFieldCount(defn); f++) {
            fputc(d, out);
            put_csv_field(out, OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, f)), d);
        }
    }
    for (int c = 0; c < ncols; c++) {
        fputc(d, out);
        put_csv_field(out, cols[c].name, d);
        if (with_status) {
            fputc(d, out);
            put_csv_field(out, cols[c].status_name, d);
        }
    }
    fputc('\n', out);

    rp_points_rows *rows = rp_points_rows_begin(pts, err);
    if (!rows)
        return err->code;
    rp_status rc = RP_OK;
    const rp_csv_record *rec = NULL;
    OGRFeatureH feat = NULL;
    size_t i = 0;
    int got;
    while ((got = rp_points_rows_next(rows, &rec, &feat)) == 1) {
        if (i >= pts->n) {
            got = -1;
            break;
        }
        if (rec) {
            fwrite(rec->raw, 1, rec->raw_len, out);
        } else {
            char num[RP_VALFMT_MAX];
            if (!pts->bad[i]) {
                rp_format_double(num, pts->x[i]);
                fputs(num, out);
                fputc(d, out);
                rp_format_double(num, pts->y[i]);
                fputs(num, out);
            } else {
                fputc(d, out);
            }
            for (int f = 0; f < OGR_FD_GetFieldCount(defn); f++) {
                fputc(d, out);
                if (OGR_F_IsFieldSetAndNotNull(feat, f))
                    put_csv_field(out, OGR_F_GetFieldAsString(feat, f), d);
            }
        }
        put_value_columns(out, cols, ncols, i, with_status, d);
        i++;
    }
    if (got < 0 || i != pts->n)
        rc = rp_error_set(err, RP_READ, "%s: the points changed while being read",
                          pts->display_name);
    rp_points_rows_end(rows);
    return rc;
}

/* --- OGR output ------------------------------------------------------- */

static GDALDriverH driver_for_extension(const char *ext) {
    for (int i = 0; i < GDALGetDriverCount(); i++) {
        GDALDriverH d = GDALGetDriver(i);
        if (!GDALGetMetadataItem(d, GDAL_DCAP_VECTOR, NULL) ||
            !GDALGetMetadataItem(d, GDAL_DCAP_CREATE, NULL))
            continue;
        const char *exts = GDALGetMetadataItem(d, GDAL_DMD_EXTENSIONS, NULL);
        if (!exts)
            exts = GDALGetMetadataItem(d, GDAL_DMD_EXTENSION, NULL);
        if (!exts)
            continue;
        char **list = CSLTokenizeString2(exts, " ", 0);
        bool match = false;
        for (char **e = list; e && *e; e++)
            if (strcasecmp(*e, ext) == 0)
                match = true;
        CSLDestroy(list);
        if (match)
            return d;
    }
    return NULL;
}

static OGRFieldType field_type_for(GDALDataType t, OGRFieldSubType *sub) {
    *sub = OFSTNone;
    switch (t) {
    case GDT_Byte:
    case GDT_UInt16:
    case GDT_Int16:
    case GDT_Int32:
        return OFTInteger;
    case GDT_UInt32:
    case GDT_Int64:
        return OFTInteger64;
    case GDT_Float32:
        *sub = OFSTFloat32;
        return OFTReal;
    case GDT_Float64:
        return OFTReal;
    default:
        return OFTString; /* UInt64 beyond Int64, complex values: exact as text */
    }
}

static void set_value_field(OGRFeatureH f, int field, const rp_value_column *col, size_t i) {
    if (col->status[i] != RP_POINT_OK) {
        OGR_F_SetFieldNull(f, field);
        return;
    }
    const unsigned char *p = col->values + i * (size_t)col->band.type_size;
    char buf[RP_VALFMT_MAX];
    switch (col->band.type) {
    case GDT_Float32: {
        float v;
        memcpy(&v, p, sizeof v);
        OGR_F_SetFieldDouble(f, field, v);
        return;
    }
    case GDT_Float64: {
        double v;
        memcpy(&v, p, sizeof v);
        OGR_F_SetFieldDouble(f, field, v);
        return;
    }
    case GDT_Int64: {
        int64_t v;
        memcpy(&v, p, sizeof v);
        OGR_F_SetFieldInteger64(f, field, v);
        return;
    }
    default:
        rp_format_value(buf, col->band.type, p);
        if (field_type_for(col->band.type, &(OGRFieldSubType){0}) == OFTString)
            OGR_F_SetFieldString(f, field, buf);
        else
            OGR_F_SetFieldInteger64(f, field, strtoll(buf, NULL, 10));
    }
}

static rp_status write_ogr(GDALDriverH drv, const char *path, rp_points *pts,
                           const rp_value_column *cols, int ncols, bool with_status,
                           OGRSpatialReferenceH srs, rp_error *err) {
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    GDALDatasetH ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    rp_status rc = RP_OK;
    OGRLayerH layer = NULL;
    int nin = 0, first_value = 0;
    OGRFeatureDefnH in_defn = pts->is_csv ? NULL : OGR_L_GetLayerDefn(pts->layer);
    rp_points_rows *rows = NULL;
    if (!ds) {
        rc = rp_error_set(err, RP_WRITE, "%s: cannot create: %s", path, rp_gdal_capture_text(&cap));
        goto done;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char lname[256];
    snprintf(lname, sizeof lname, "%.*s", (int)strcspn(base, "."), base);
    layer = GDALDatasetCreateLayer(ds, lname, srs, wkbPoint, NULL);
    if (!layer) {
        rc = rp_error_set(err, RP_WRITE, "%s: cannot create layer: %s", path,
                          rp_gdal_capture_text(&cap));
        goto done;
    }
    /* input fields: the layer's own, or the CSV header's names as text */
    if (pts->is_csv) {
        rp_csv_reader *hr = NULL;
        FILE *mem = fmemopen(pts->header, pts->header_len ? pts->header_len : 1, "r");
        hr = mem ? rp_csv_reader_new(mem, pts->delimiter) : NULL;
        rp_csv_record hrec;
        if (hr && pts->header_len && rp_csv_read(hr, &hrec) == 1) {
            for (size_t f = 0; f < hrec.nfields; f++) {
                char name[256];
                rp_csv_field_text(&hrec, f, name, sizeof name);
                OGRFieldDefnH fd = OGR_Fld_Create(name, OFTString);
                OGR_L_CreateField(layer, fd, TRUE);
                OGR_Fld_Destroy(fd);
                nin++;
            }
        }
        rp_csv_reader_free(hr);
        if (mem)
            fclose(mem);
    } else {
        for (int f = 0; f < OGR_FD_GetFieldCount(in_defn); f++) {
            OGR_L_CreateField(layer, OGR_FD_GetFieldDefn(in_defn, f), TRUE);
            nin++;
        }
    }
    first_value = nin;
    for (int c = 0; c < ncols; c++) {
        OGRFieldSubType sub;
        OGRFieldType t = field_type_for(cols[c].band.type, &sub);
        OGRFieldDefnH fd = OGR_Fld_Create(cols[c].name, t);
        OGR_Fld_SetSubType(fd, sub);
        OGR_L_CreateField(layer, fd, TRUE);
        OGR_Fld_Destroy(fd);
        if (with_status) {
            fd = OGR_Fld_Create(cols[c].status_name, OFTString);
            OGR_L_CreateField(layer, fd, TRUE);
            OGR_Fld_Destroy(fd);
        }
    }
    if (OGR_FD_GetFieldCount(OGR_L_GetLayerDefn(layer)) !=
        first_value + ncols * (with_status ? 2 : 1)) {
        rc = rp_error_set(err, RP_WRITE, "%s: cannot create the output fields: %s", path,
                          rp_gdal_capture_text(&cap));
        goto done;
    }
    rows = rp_points_rows_begin(pts, err);
    if (!rows) {
        rc = err->code;
        goto done;
    }
    bool txn = GDALDatasetStartTransaction(ds, FALSE) == OGRERR_NONE;
    OGRFeatureDefnH out_defn = OGR_L_GetLayerDefn(layer);
    const rp_csv_record *rec = NULL;
    OGRFeatureH in = NULL;
    size_t i = 0;
    int got;
    while ((got = rp_points_rows_next(rows, &rec, &in)) == 1 && i < pts->n) {
        OGRFeatureH f = OGR_F_Create(out_defn);
        if (rec) {
            char text[4096];
            for (size_t k = 0; k < rec->nfields && (int)k < nin; k++) {
                rp_csv_field_text(rec, k, text, sizeof text);
                OGR_F_SetFieldString(f, (int)k, text);
            }
            if (!pts->bad[i]) {
                OGRGeometryH g = OGR_G_CreateGeometry(wkbPoint);
                OGR_G_SetPoint_2D(g, 0, pts->x[i], pts->y[i]);
                OGR_F_SetGeometryDirectly(f, g);
            }
        } else {
            for (int k = 0; k < nin; k++)
                if (OGR_F_IsFieldSetAndNotNull(in, k))
                    OGR_F_SetFieldRaw(f, k, OGR_F_GetRawFieldRef(in, k));
            OGRGeometryH g = OGR_F_GetGeometryRef(in);
            if (g)
                OGR_F_SetGeometry(f, g);
        }
        int field = first_value;
        for (int c = 0; c < ncols; c++) {
            set_value_field(f, field++, &cols[c], i);
            if (with_status)
                OGR_F_SetFieldString(f, field++,
                                     rp_point_status_name((rp_point_status)cols[c].status[i]));
        }
        OGRErr e = OGR_L_CreateFeature(layer, f);
        OGR_F_Destroy(f);
        if (e != OGRERR_NONE) {
            rc = rp_error_set(err, RP_WRITE, "%s: cannot write feature %zu: %s", path, i + 1,
                              rp_gdal_capture_text(&cap));
            break;
        }
        i++;
    }
    if (rc == RP_OK && (got < 0 || i != pts->n))
        rc = rp_error_set(err, RP_READ, "%s: the points changed while being read",
                          pts->display_name);
    if (txn && GDALDatasetCommitTransaction(ds) != OGRERR_NONE && rc == RP_OK)
        rc = rp_error_set(err, RP_WRITE, "%s: cannot commit: %s", path,
                          rp_gdal_capture_text(&cap));
done:
    rp_points_rows_end(rows);
    if (ds) {
        /* GDAL 3.6's GDALClose returns nothing: write errors at close show
         * as captured messages. */
        int before = cap.count;
        GDALClose(ds);
        if (cap.count > before && rc == RP_OK)
            rc = rp_error_set(err, RP_WRITE, "%s: cannot finish writing: %s", path,
                              rp_gdal_capture_text(&cap));
    }
    rp_gdal_capture_pop();
    return rc;
}

rp_status rp_table_write(const char *path, rp_points *pts, const rp_value_column *cols,
                         int ncols, bool with_status, OGRSpatialReferenceH out_srs,
                         rp_error *err) {
    if (!path || strcmp(path, "-") == 0) {
        static char buf[1 << 16];
        setvbuf(stdout, buf, _IOFBF, sizeof buf);
        rp_status rc = write_csv(stdout, pts, cols, ncols, with_status, err);
        if (fflush(stdout) != 0 && rc == RP_OK)
            rc = rp_error_set(err, RP_WRITE, "cannot write to standard output: %s",
                              strerror(errno));
        return rc;
    }
    GDALDriverH drv = NULL;
    if (!is_text_output(path)) {
        drv = driver_for_extension(extension_of(path));
        if (!drv)
            return rp_error_set(err, RP_USAGE,
                                "%s: no GDAL vector driver writes '.%s' files (use .csv, "
                                ".gpkg, .fgb, .geojson, ...)",
                                path, extension_of(path));
    }
    bool in_place = (drv && strcmp(GDALGetDriverShortName(drv), "ESRI Shapefile") == 0) ||
                    is_special_file(path);
    char *tmp = in_place ? strdup(path) : temporary_name(path);
    if (!tmp)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    rp_status rc;
    if (drv) {
        if (in_place && access(path, F_OK) == 0 && !is_special_file(path))
            GDALDeleteDataset(drv, path); /* an old shapefile set */
        rc = write_ogr(drv, tmp, pts, cols, ncols, with_status, out_srs, err);
    } else {
        FILE *out = fopen(tmp, "wb");
        if (!out) {
            rc = rp_error_set(err, RP_WRITE, "%s: cannot create: %s", path, strerror(errno));
        } else {
            setvbuf(out, NULL, _IOFBF, 1 << 16);
            rc = write_csv(out, pts, cols, ncols, with_status, err);
            if (fclose(out) != 0 && rc == RP_OK)
                rc = rp_error_set(err, RP_WRITE, "%s: cannot write: %s", path, strerror(errno));
        }
    }
    if (!in_place) {
        if (rc == RP_OK && rename(tmp, path) != 0)
            rc = rp_error_set(err, RP_WRITE, "%s: cannot rename the finished output into place: %s",
                              path, strerror(errno));
        if (rc != RP_OK)
            unlink(tmp);
    }
    free(tmp);
    return rc;
}
