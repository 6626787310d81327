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
 * Threads: the caller's thread only.
 */
#include <stdlib.h>
#include <string.h>

#include <ogr_api.h>

#include "gdal_errors.h"
#include "table_internal.h"
#include "valfmt.h"

static OGRFieldType field_type_for(GDALDataType t, OGRFieldSubType *sub) {
    *sub = OFSTNone;
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
    OGRFieldType type = field_type_for(col->band.type, &sub);
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
        rp_format_value(text, col->band.type, p);
        if (type == OFTString)
            OGR_F_SetFieldString(f, field, text);
        else
            OGR_F_SetFieldInteger64(f, field, strtoll(text, NULL, 10));
    }
}

static void create_field(OGRLayerH layer, const char *name, OGRFieldType type,
                         OGRFieldSubType sub) {
    OGRFieldDefnH fd = OGR_Fld_Create(name, type);
    OGR_Fld_SetSubType(fd, sub);
    OGR_L_CreateField(layer, fd, TRUE);
    OGR_Fld_Destroy(fd);
}

/* The input's fields, then value and status fields. Returns the number of
 * input fields, or -1 when the driver refused one. */
static int create_fields(OGRLayerH layer, const rp_table_spec *spec) {
    const rp_points *pts = spec->points;
    int nin = 0;
    if (pts->is_csv) {
        for (; pts->header_names && pts->header_names[nin]; nin++)
            create_field(layer, pts->header_names[nin], OFTString, OFSTNone);
    } else {
        OGRFeatureDefnH in = OGR_L_GetLayerDefn(pts->layer);
        for (; nin < OGR_FD_GetFieldCount(in); nin++)
            OGR_L_CreateField(layer, OGR_FD_GetFieldDefn(in, nin), TRUE);
    }
    for (int c = 0; c < spec->ncolumns; c++) {
        OGRFieldSubType sub;
        OGRFieldType t = field_type_for(spec->columns[c].band.type, &sub);
        create_field(layer, spec->columns[c].name, t, sub);
        if (spec->with_status)
            create_field(layer, spec->columns[c].status_name, OFTString, OFSTNone);
    }
    int want = nin + spec->ncolumns * (spec->with_status ? 2 : 1);
    return OGR_FD_GetFieldCount(OGR_L_GetLayerDefn(layer)) == want ? nin : -1;
}

/* Copies input row i (a CSV record or a feature) into f. */
static void copy_input_row(OGRFeatureH f, const rp_points *pts, const rp_csv_record *rec,
                           OGRFeatureH in, size_t i, int nin, char **text, size_t *text_cap) {
    if (rec) {
        for (size_t k = 0; k < rec->nfields && (int)k < nin; k++) {
            size_t need = rec->fields[k].length + 1;
            if (need > *text_cap) {
                char *grown = realloc(*text, need);
                if (!grown)
                    continue;
                *text = grown;
                *text_cap = need;
            }
            rp_csv_field_text(rec, k, *text, *text_cap);
            OGR_F_SetFieldString(f, (int)k, *text);
        }
    } else {
        for (int k = 0; k < nin; k++)
            if (OGR_F_IsFieldSetAndNotNull(in, k))
                OGR_F_SetFieldRaw(f, k, OGR_F_GetRawFieldRef(in, k));
    }
    if (!pts->bad[i]) {
        OGRGeometryH g = OGR_G_CreateGeometry(wkbPoint);
        OGR_G_SetPoint_2D(g, 0, pts->x[i], pts->y[i]);
        OGR_F_SetGeometryDirectly(f, g);
    }
}

static rp_status write_rows(OGRLayerH layer, const char *path, const rp_table_spec *spec, int nin,
                            rp_gdal_capture *cap, rp_error *err) {
    rp_points *pts = spec->points;
    rp_points_rows *rows = rp_points_rows_begin(pts, err);
    if (!rows)
        return err->code;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
    const rp_csv_record *rec = NULL;
    OGRFeatureH in = NULL;
    char *text = NULL;
    size_t text_cap = 0, i = 0;
    rp_status rc = RP_OK;
    int got;
    while (rc == RP_OK && (got = rp_points_rows_next(rows, &rec, &in)) == 1 && i < pts->n) {
        OGRFeatureH f = OGR_F_Create(defn);
        copy_input_row(f, pts, rec, in, i, nin, &text, &text_cap);
        int field = nin;
        for (int c = 0; c < spec->ncolumns; c++) {
            set_value_field(f, field++, &spec->columns[c], i);
            if (spec->with_status)
                OGR_F_SetFieldString(
                    f, field++, rp_point_status_name((rp_point_status)spec->columns[c].status[i]));
        }
        if (OGR_L_CreateFeature(layer, f) != OGRERR_NONE)
            rc = rp_error_set(err, RP_WRITE, "%s: cannot write feature %zu: %s", path, i + 1,
                              rp_gdal_capture_text(cap));
        OGR_F_Destroy(f);
        i++;
        if (rc == RP_OK)
            rc = rp_table_row_written(spec, i, err);
    }
    if (rc == RP_OK)
        rc = rp_table_rows_complete(spec, i, got, err);
    free(text);
    rp_points_rows_end(rows);
    return rc;
}

rp_status rp_table_write_ogr(GDALDriverH drv, const char *target, const rp_table_spec *spec,
                             rp_error *err) {
    const char *path = spec->name ? spec->name : target; /* for messages */
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    rp_status rc = RP_OK;
    GDALDatasetH ds = GDALCreate(drv, target, 0, 0, 0, GDT_Unknown, NULL);
    OGRLayerH layer = NULL;
    if (!ds) {
        rc = rp_error_set(err, RP_WRITE, "%s: cannot create: %s", path, rp_gdal_capture_text(&cap));
    } else {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(base, "."), base);
        /* FlatGeobuf's spatial index would reorder the features: rows must
         * stay in input order. */
        const char *fgb_options[] = {"SPATIAL_INDEX=NO", NULL};
        bool fgb = strcmp(GDALGetDriverShortName(drv), "FlatGeobuf") == 0;
        layer = GDALDatasetCreateLayer(ds, name, spec->srs, wkbPoint,
                                       fgb ? (char **)fgb_options : NULL);
        if (!layer)
            rc = rp_error_set(err, RP_WRITE, "%s: cannot create a layer: %s", path,
                              rp_gdal_capture_text(&cap));
    }
    int nin = rc == RP_OK ? create_fields(layer, spec) : 0;
    if (rc == RP_OK && nin < 0)
        rc = rp_error_set(err, RP_WRITE, "%s: cannot create the output fields: %s", path,
                          rp_gdal_capture_text(&cap));
    if (rc == RP_OK && spec->points->nbad && spec->log &&
        strcmp(GDALGetDriverShortName(drv), "FlatGeobuf") == 0)
        fprintf(spec->log,
                "rasterpool: warning: %s: FlatGeobuf cannot hold features without geometry: "
                "the %zu bad row(s) are left out (.gpkg keeps them)\n",
                path, spec->points->nbad);
    if (rc == RP_OK) {
        bool txn = GDALDatasetStartTransaction(ds, FALSE) == OGRERR_NONE;
        rc = write_rows(layer, path, spec, nin, &cap, err);
        if (txn && GDALDatasetCommitTransaction(ds) != OGRERR_NONE && rc == RP_OK)
            rc = rp_error_set(err, RP_WRITE, "%s: cannot commit: %s", path,
                              rp_gdal_capture_text(&cap));
    }
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
