/*
 * table_ogr.c — the output table as a GDAL vector dataset (.gpkg, .fgb,
 * .geojson, .shp, ...).
 *
 * One point layer named after the file. Fields: the input's own (a vector
 * input's field definitions, or the CSV header's names as text), then a
 * typed field per value column (Integer, Integer64 or Real by band type;
 * text for UInt64 and complex values, which no OGR type holds exactly) and
 * a text field per status column. Features keep the input point; rows
 * without a usable point (bad rows) are written without geometry. Writes
 * run inside one transaction where the driver has them.
 *
 * A driver may create a field with another type than the input's (fields
 * are created with approximation allowed: Shapefile makes DateTime a Date,
 * PCIDSK makes Integer64 text): input values are copied with
 * OGR_F_SetFromWithMap, which converts, never as raw OGRField bytes. A
 * driver may also refuse a field (Shapefile and lists) or fail only when
 * it writes one (FlatGeobuf and lists): rp_table_probe_ogr builds the same
 * layer in /vsimem/ and writes one feature with every field set before the
 * job reads any pixel, so such an output fails at once.
 *
 * Threads: the caller's thread only.
 */
#include "table_ogr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_string.h>
#include <cpl_vsi.h>
#include <ogr_api.h>

#include "checked_vsi.h"
#include "fileio.h"
#include "gdal_errors.h"
#include "pixel.h"
#include "table_rows.h"
#include "valfmt.h"

static OGRFieldType field_type_for(GDALDataType t, OGRFieldSubType *sub) {
    *sub = OFSTNone;
    if (t == RP_GDT_INT8)
        return OFTInteger;
    switch (t) {
    case GDT_Byte:
    case GDT_UInt16:
    case GDT_Int16:
    case GDT_Int32: return OFTInteger;
    case GDT_UInt32:
    case GDT_Int64: return OFTInteger64;
    case GDT_Float32: *sub = OFSTFloat32; return OFTReal;
    case GDT_Float64: return OFTReal;
    default: return OFTString;
    }
}

static void set_value_field(OGRFeatureH f, int field, const rp_value_column *col, size_t i) {
    if (col->status[i] != RP_POINT_OK) {
        OGR_F_SetFieldNull(f, field);
        return;
    }
    const unsigned char *p = col->values + i * (size_t)col->band.type_size;
    OGRFieldSubType sub;
    OGRFieldType type = field_type_for(col->band.value_type, &sub);
    if (col->band.type == GDT_Float32) {
        float v;
        memcpy(&v, p, sizeof v);
        OGR_F_SetFieldDouble(f, field, v);
    } else if (col->band.type == GDT_Float64) {
        double v;
        memcpy(&v, p, sizeof v);
        OGR_F_SetFieldDouble(f, field, v);
    } else {
        char text[RP_VALFMT_MAX];
        rp_format_value(text, col->band.value_type, p);
        if (type == OFTString)
            OGR_F_SetFieldString(f, field, text);
        else
            OGR_F_SetFieldInteger64(f, field, strtoll(text, NULL, 10));
    }
}

/* Creates a field; false when the driver refused it (the layer has no
 * more fields than before). */
static bool create_field(OGRLayerH layer, OGRFieldDefnH fd) {
    int before = OGR_FD_GetFieldCount(OGR_L_GetLayerDefn(layer));
    OGR_L_CreateField(layer, fd, TRUE);
    return OGR_FD_GetFieldCount(OGR_L_GetLayerDefn(layer)) == before + 1;
}

static bool create_new_field(OGRLayerH layer, const char *name, OGRFieldType type,
                             OGRFieldSubType sub) {
    OGRFieldDefnH fd = OGR_Fld_Create(name, type);
    OGR_Fld_SetSubType(fd, sub);
    bool made = create_field(layer, fd);
    OGR_Fld_Destroy(fd);
    return made;
}

/* The input's fields, then value and status fields. Returns the number of
 * input fields, or -1 when the driver refused one (*refused: its name). */
static int create_fields(OGRLayerH layer, const rp_table_spec *spec, const char **refused) {
    const rp_points *pts = spec->points;
    int nin = 0;
    *refused = NULL;
    if (pts->is_csv) {
        for (; pts->header_names && pts->header_names[nin] && !*refused; nin++)
            if (!create_new_field(layer, pts->header_names[nin], OFTString, OFSTNone))
                *refused = pts->header_names[nin];
    } else {
        OGRFeatureDefnH in = OGR_L_GetLayerDefn(pts->layer);
        for (; nin < OGR_FD_GetFieldCount(in) && !*refused; nin++)
            if (!create_field(layer, OGR_FD_GetFieldDefn(in, nin)))
                *refused = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(in, nin));
    }
    for (int c = 0; c < spec->ncolumns && !*refused; c++) {
        const rp_value_column *col = &spec->columns[c];
        OGRFieldSubType sub;
        OGRFieldType t = field_type_for(col->band.value_type, &sub);
        if (!create_new_field(layer, col->name, t, sub))
            *refused = col->name;
        else if (spec->with_status &&
                 !create_new_field(layer, col->status_name, OFTString, OFSTNone))
            *refused = col->status_name;
    }
    return *refused ? -1 : nin;
}

/* An output being written: the dataset, its layer, the number of input
 * fields, the capture of GDAL's messages (pushed by the caller). */
typedef struct ogr_output {
    const char *path; /* for messages */
    GDALDatasetH ds;
    OGRLayerH layer;
    int nin;
    rp_gdal_capture *cap;
    int errors_before_rows; /* cap->count once the layer and fields were made */
} ogr_output;

/* Creates the dataset at target and its point layer. */
static rp_status open_output(GDALDriverH drv, const char *target, const rp_table_spec *spec,
                             ogr_output *o, rp_error *err) {
    o->ds = GDALCreate(drv, target, 0, 0, 0, GDT_Unknown, NULL);
    if (!o->ds)
        return rp_error_set(err, RP_WRITE, "%s: cannot create: %s", o->path,
                            rp_gdal_capture_text(o->cap));
    const char *base = strrchr(o->path, '/');
    base = base ? base + 1 : o->path;
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(base, "."), base);
    /* FlatGeobuf's spatial index would reorder the features: rows must
     * stay in input order. */
    const char *fgb_options[] = {"SPATIAL_INDEX=NO", NULL};
    bool fgb = strcmp(GDALGetDriverShortName(drv), "FlatGeobuf") == 0;
    o->layer =
        GDALDatasetCreateLayer(o->ds, name, spec->srs, wkbPoint, fgb ? (char **)fgb_options : NULL);
    if (!o->layer)
        return rp_error_set(err, RP_WRITE, "%s: cannot create a layer: %s", o->path,
                            rp_gdal_capture_text(o->cap));
    return RP_OK;
}

/* The layer's fields; refused_code when the driver refuses one. */
static rp_status add_fields(GDALDriverH drv, const rp_table_spec *spec, ogr_output *o,
                            rp_status refused_code, rp_error *err) {
    const char *refused;
    o->nin = create_fields(o->layer, spec, &refused);
    if (o->nin < 0)
        return rp_error_set(err, refused_code, "%s: %s cannot hold the field '%s': %s", o->path,
                            GDALGetDriverShortName(drv), refused, rp_gdal_capture_text(o->cap));
    return RP_OK;
}

/* The name of the k-th field create_fields asked for. */
static const char *asked_name(const rp_table_spec *spec, int k) {
    const rp_points *pts = spec->points;
    int nin = pts->is_csv ? CSLCount(pts->header_names)
                          : OGR_FD_GetFieldCount(OGR_L_GetLayerDefn(pts->layer));
    if (k < nin)
        return pts->is_csv
                   ? pts->header_names[k]
                   : OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(OGR_L_GetLayerDefn(pts->layer), k));
    k -= nin;
    int per = spec->with_status ? 2 : 1;
    const rp_value_column *col = &spec->columns[k / per];
    return k % per ? col->status_name : col->name;
}

/* Drivers that shorten or launder names (Shapefile: 10 characters; two
 * long names that share a start become `sent2_L2A_` and `sent2_L2_1`):
 * says which name became which, once, so the columns can be told apart. */
static void warn_renamed_fields(const rp_table_spec *spec, const ogr_output *o) {
    if (!spec->log)
        return;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(o->layer);
    int n = OGR_FD_GetFieldCount(defn), renamed = 0;
    for (int k = 0; k < n; k++) {
        const char *asked = asked_name(spec, k);
        const char *got = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, k));
        if (strcmp(asked, got) == 0)
            continue;
        if (!renamed++)
            fprintf(spec->log, "rasterpool: warning: %s: the format renamed fields:\n", o->path);
        fprintf(spec->log, "rasterpool:   %s -> %s\n", asked, got);
    }
}

/* Closes the dataset; a GDAL error raised since the fields were made (a
 * failed write a driver did not report back, or one at close) becomes the
 * result when there was none before. */
static rp_status close_output(ogr_output *o, rp_status rc, rp_status fail_code, rp_error *err) {
    if (!o->ds)
        return rc;
    /* GDAL 3.6's GDALClose returns nothing, and some drivers (GML) ignore
     * failed writes: both show only as captured messages. */
    GDALClose(o->ds);
    o->ds = NULL;
    if (o->cap->count > o->errors_before_rows && rc == RP_OK)
        rc = rp_error_set(err, fail_code, "%s: cannot finish writing: %s", o->path,
                          rp_gdal_capture_text(o->cap));
    return rc;
}

/* ---------------------------------------------------------------------------
 * Writing the rows. */
typedef struct feature_writer {
    const rp_table_spec *spec;
    ogr_output *o;
    OGRFeatureDefnH defn;
    int *map;   /* input field k -> output field k, for OGR_F_SetFromWithMap */
    char *text; /* a CSV field's text */
    size_t text_cap;
} feature_writer;

/* A CSV row's fields as text. */
static rp_status copy_csv_fields(feature_writer *w, OGRFeatureH f, const rp_csv_record *rec,
                                 size_t i, rp_error *err) {
    if (rec->raw_len + 1 > w->text_cap) { /* no field is longer than its record */
        char *grown = realloc(w->text, rec->raw_len + 1);
        if (!grown)
            return rp_error_set(err, RP_NOMEM, "%s: out of memory copying row %zu", w->o->path,
                                i + 1);
        w->text = grown;
        w->text_cap = rec->raw_len + 1;
    }
    for (size_t k = 0; k < rec->nfields && (int)k < w->o->nin; k++) {
        rp_csv_field_text(rec, k, w->text, w->text_cap);
        OGR_F_SetFieldString(f, (int)k, w->text);
    }
    return RP_OK;
}

/* Input row i (a CSV record or a feature) into f, then its point. */
static rp_status copy_input_row(feature_writer *w, OGRFeatureH f, const rp_csv_record *rec,
                                OGRFeatureH in, size_t i, rp_error *err) {
    const rp_points *pts = w->spec->points;
    if (rec) {
        rp_status rc = copy_csv_fields(w, f, rec, i, err);
        if (rc != RP_OK)
            return rc;
    } else if (w->o->nin > 0) {
        if (OGR_F_SetFromWithMap(f, in, FALSE, w->map) != OGRERR_NONE)
            return rp_error_set(err, RP_WRITE, "%s: cannot convert the fields of row %zu: %s",
                                w->o->path, i + 1, rp_gdal_capture_text(w->o->cap));
        OGR_F_SetStyleString(f, NULL); /* fields only, as for CSV input */
    }
    OGRGeometryH g = NULL;
    if (!pts->bad[i]) {
        g = OGR_G_CreateGeometry(wkbPoint);
        OGR_G_SetPoint_2D(g, 0, pts->x[i], pts->y[i]);
    }
    OGR_F_SetGeometryDirectly(f, g);
    return RP_OK;
}

static rp_status write_feature(void *vw, size_t i, const rp_csv_record *rec, OGRFeatureH in,
                               rp_error *err) {
    feature_writer *w = vw;
    const rp_table_spec *spec = w->spec;
    OGRFeatureH f = OGR_F_Create(w->defn);
    rp_status rc = copy_input_row(w, f, rec, in, i, err);
    int field = w->o->nin;
    for (int c = 0; rc == RP_OK && c < spec->ncolumns; c++) {
        set_value_field(f, field++, &spec->columns[c], i);
        if (spec->with_status)
            OGR_F_SetFieldString(f, field++,
                                 rp_point_status_name((rp_point_status)spec->columns[c].status[i]));
    }
    if (rc == RP_OK && OGR_L_CreateFeature(w->o->layer, f) != OGRERR_NONE)
        rc = rp_error_set(err, RP_WRITE, "%s: cannot write feature %zu: %s", w->o->path, i + 1,
                          rp_gdal_capture_text(w->o->cap));
    OGR_F_Destroy(f);
    return rc;
}

static rp_status write_rows(ogr_output *o, const rp_table_spec *spec, rp_error *err) {
    feature_writer w = {.spec = spec, .o = o, .defn = OGR_L_GetLayerDefn(o->layer)};
    if (o->nin > 0 && !spec->points->is_csv) {
        w.map = malloc((size_t)o->nin * sizeof *w.map);
        if (!w.map)
            return rp_error_set(err, RP_NOMEM, "out of memory");
        for (int k = 0; k < o->nin; k++)
            w.map[k] = k;
    }
    rp_status rc = rp_table_for_each_row(spec, write_feature, &w, err);
    free(w.map);
    free(w.text);
    return rc;
}

/* The path GDAL writes: through /vsirpchecked/ (every write checked) for
 * drivers that write through GDAL's file layer, except SQLite's (GPKG,
 * SQLite), which checks its own writes and keeps its native file access. */
static char *checked_target(GDALDriverH drv, const char *target) {
    const char *name = GDALGetDriverShortName(drv);
    if (!GDALGetMetadataItem(drv, GDAL_DCAP_VIRTUALIO, NULL) || strcmp(name, "GPKG") == 0 ||
        strcmp(name, "SQLite") == 0)
        return strdup(target);
    return rp_checked_vsi_path(target);
}

/* A write error with the file system's reason added when the driver's own
 * words do not give it: the first failed write under /vsirpchecked/
 * ("Failed writing geometry" + "File too large"), else, for drivers that
 * write on their own (SQLite's GPKG: "disk I/O error", "database disk image
 * is malformed" on a full disk), what the file system of target says now
 * (rp_write_failure_reason), put first: "NAME: No space left on device
 * (...); the driver said: ...". */
static rp_status with_cause(rp_status rc, const char *target, const char *name, rp_error *err) {
    if (rc != RP_WRITE || !err)
        return rc;
    const char *cause = rp_checked_vsi_failure();
    size_t n = strlen(err->message), nl = strlen(name);
    if (*cause) {
        if (!strstr(err->message, cause))
            snprintf(err->message + n, sizeof err->message - n, " (%s)", cause);
        return rc;
    }
    char found[256];
    int hint = strstr(err->message, "database or disk is full") ? ENOSPC /* SQLITE_FULL */
               : strstr(err->message, "disk I/O error")         ? EIO    /* SQLITE_IOERR */
                                                                : 0;
    if (!rp_write_failure_reason(target, hint, found, sizeof found))
        return rc;
    char said[sizeof err->message];
    bool named = strncmp(err->message, name, nl) == 0 && strncmp(err->message + nl, ": ", 2) == 0;
    snprintf(said, sizeof said, "%s", named ? err->message + nl + 2 : err->message);
    int k = snprintf(err->message, sizeof err->message, "%s: %s; the driver said: ", name, found);
    size_t at = k < 0 ? 0 : (size_t)k < sizeof err->message ? (size_t)k : sizeof err->message - 1;
    size_t len = strlen(said), room = sizeof err->message - 1 - at;
    memcpy(err->message + at, said, len < room ? len : room);
    err->message[at + (len < room ? len : room)] = '\0';
    return rc;
}

rp_status rp_table_write_ogr(GDALDriverH drv, const char *target, const rp_table_spec *spec,
                             rp_error *err) {
    rp_checked_vsi_reset();
    char *checked = checked_target(drv, target);
    if (!checked)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    ogr_output o = {.path = spec->name ? spec->name : target, .cap = &cap};
    rp_status rc = open_output(drv, checked, spec, &o, err);
    if (rc == RP_OK)
        rc = add_fields(drv, spec, &o, RP_WRITE, err);
    if (rc == RP_OK)
        warn_renamed_fields(spec, &o);
    if (rc == RP_OK && spec->points->nbad && spec->log &&
        strcmp(GDALGetDriverShortName(drv), "FlatGeobuf") == 0)
        fprintf(spec->log,
                "rasterpool: warning: %s: FlatGeobuf cannot hold features without geometry: "
                "the %zu bad row(s) are left out (.gpkg keeps them)\n",
                o.path, spec->points->nbad);
    o.errors_before_rows = cap.count;
    if (rc == RP_OK) {
        bool txn = GDALDatasetStartTransaction(o.ds, FALSE) == OGRERR_NONE;
        rc = write_rows(&o, spec, err);
        if (txn && GDALDatasetCommitTransaction(o.ds) != OGRERR_NONE && rc == RP_OK)
            rc = rp_error_set(err, RP_WRITE, "%s: cannot commit: %s", o.path,
                              rp_gdal_capture_text(&cap));
    }
    rc = close_output(&o, rc, RP_WRITE, err);
    rp_gdal_capture_pop();
    free(checked);
    rc = with_cause(rc, target, o.path, err);
    return rc;
}

/* ---------------------------------------------------------------------------
 * The probe: the same layer in /vsimem/, one feature with every field set. */

/* A value of the field's type. */
static void set_probe_value(OGRFeatureH f, int k) {
    static const int ints[1] = {1};
    static const GIntBig int64s[1] = {1};
    static const double reals[1] = {1.5};
    const char *const strings[2] = {"a", NULL};
    static const GByte bytes[1] = {1};
    switch (OGR_Fld_GetType(OGR_F_GetFieldDefnRef(f, k))) {
    case OFTInteger:
    case OFTInteger64: OGR_F_SetFieldInteger64(f, k, 1); break;
    case OFTReal: OGR_F_SetFieldDouble(f, k, 1.5); break;
    case OFTDate:
    case OFTTime:
    case OFTDateTime: OGR_F_SetFieldDateTimeEx(f, k, 2000, 1, 2, 3, 4, 5, 0); break;
    case OFTBinary: OGR_F_SetFieldBinary(f, k, 1, bytes); break;
    case OFTIntegerList: OGR_F_SetFieldIntegerList(f, k, 1, ints); break;
    case OFTInteger64List: OGR_F_SetFieldInteger64List(f, k, 1, int64s); break;
    case OFTRealList: OGR_F_SetFieldDoubleList(f, k, 1, reals); break;
    case OFTStringList: OGR_F_SetFieldStringList(f, k, (CSLConstList)strings); break;
    default: OGR_F_SetFieldString(f, k, "a"); break;
    }
}

/* " (fields of types DRIVER does not list: a (StringList), ...)", or "". */
static void unlisted_types(GDALDriverH drv, OGRFeatureDefnH defn, char *buf, size_t cap) {
    buf[0] = '\0';
    const char *types = GDALGetMetadataItem(drv, GDAL_DMD_CREATIONFIELDDATATYPES, NULL);
    if (!types)
        return;
    char **listed = CSLTokenizeString2(types, " ", 0);
    size_t len = 0;
    for (int k = 0; k < OGR_FD_GetFieldCount(defn) && len < cap; k++) {
        OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, k);
        const char *type = OGR_GetFieldTypeName(OGR_Fld_GetType(fd));
        if (CSLFindString(listed, type) >= 0)
            continue;
        int n = snprintf(buf + len, cap - len, "%s%s (%s)",
                         len ? ", " : " (fields of types the driver does not list: ",
                         OGR_Fld_GetNameRef(fd), type);
        len = n < 0 ? cap : len + (size_t)n;
    }
    if (len > 0 && len + 1 < cap)
        strcat(buf, ")");
    CSLDestroy(listed);
}

/* Writes the probe feature and closes the dataset. */
static rp_status write_probe(GDALDriverH drv, ogr_output *o, rp_error *err) {
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(o->layer);
    char unlisted[512];
    unlisted_types(drv, defn, unlisted, sizeof unlisted);
    OGRFeatureH f = OGR_F_Create(defn);
    for (int k = 0; k < OGR_FD_GetFieldCount(defn); k++)
        set_probe_value(f, k);
    OGRGeometryH g = OGR_G_CreateGeometry(wkbPoint);
    OGR_G_SetPoint_2D(g, 0, 0, 0);
    OGR_F_SetGeometryDirectly(f, g);
    int before = o->cap->count;
    bool written = OGR_L_CreateFeature(o->layer, f) == OGRERR_NONE;
    OGR_F_Destroy(f);
    GDALClose(o->ds);
    o->ds = NULL;
    if (written && o->cap->count == before)
        return RP_OK;
    return rp_error_set(err, RP_USAGE, "%s: %s cannot hold the input's fields: %s%s", o->path,
                        GDALGetDriverShortName(drv), rp_gdal_capture_text(o->cap), unlisted);
}

rp_status rp_table_probe_ogr(GDALDriverH drv, const rp_table_spec *spec, rp_error *err) {
    const char *base = strrchr(spec->name, '/');
    base = base ? base + 1 : spec->name;
    char dir[64];
    snprintf(dir, sizeof dir, "/vsimem/rasterpool-probe-%p", (void *)dir); /* unique per call */
    char *target = CPLStrdup(CPLFormFilename(dir, base, NULL));
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    VSIMkdir(dir, 0700);
    ogr_output o = {.path = spec->name, .cap = &cap};
    rp_error scratch = {RP_OK, ""};
    rp_status rc = RP_OK;
    /* a driver that cannot write in memory is not probed: its real write
     * reports */
    if (open_output(drv, target, spec, &o, &scratch) == RP_OK) {
        rc = add_fields(drv, spec, &o, RP_USAGE, err);
        if (rc == RP_OK)
            rc = write_probe(drv, &o, err);
    }
    if (o.ds)
        GDALClose(o.ds);
    VSIRmdirRecursive(dir);
    rp_gdal_capture_pop();
    CPLFree(target);
    return rc;
}
