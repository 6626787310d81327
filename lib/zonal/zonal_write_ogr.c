/*
 * zonal_write_ogr.c — the zonal table in a GDAL vector format (-o x.gpkg,
 * .fgb, .geojson, .shp, ...): one feature per polygon in input order, the
 * carried attributes with their input types (list types as text), one
 * Real field per statistic (unset when empty), an optional status field.
 * A list-valued statistic (values, coverage, ...) is a RealList field where
 * the driver has them (GeoJSON, FlatGeobuf, ...), else a String field with
 * CSV's JSON array text ("[1,2.5]"; GeoPackage, shapefile).
 * No geometry unless --include-geom (the input's, in its CRS): the table
 * joins back to the polygons by an attribute. FlatGeobuf needs geometry.
 * Written in one transaction where the driver has them.
 *
 * Threads: the caller's. The staging around it is io/table_write.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ogr_api.h>

#include "error.h"
#include "gdal_errors.h"
#include "numtext.h"
#include "zonal_internal.h"

static OGRFieldType carried_type(int t) {
    switch (t) {
    case OFTInteger:
    case OFTInteger64:
    case OFTReal:
    case OFTDate:
    case OFTTime:
    case OFTDateTime: return (OGRFieldType)t;
    default: return OFTString;
    }
}

/* Whether the driver creates RealList fields. */
static bool has_real_lists(GDALDriverH drv) {
    const char *types = GDALGetMetadataItem(drv, GDAL_DMD_CREATIONFIELDDATATYPES, NULL);
    return types && strstr(types, "RealList") != NULL;
}

static bool is_list_column(const zonal_table *t, int k) {
    return zonal_op_is_list(t->o->stats[t->col_j[k] % t->o->nstats].op);
}

/* A list as JSON array text, "[1,2.5]"; NULL: out of memory. */
static char *list_text(const double *list, size_t n) {
    char *s = malloc(n * 32 + 3), *at = s;
    if (!s)
        return NULL;
    *at++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *at++ = ',';
        rp_shortest_double(at, 32, list[i]);
        at += strlen(at);
    }
    strcpy(at, "]");
    return s;
}

static rp_status make_fields(const zonal_table *t, OGRLayerH layer, const char *target, bool lists,
                             rp_error *err) {
    char name[512];
    for (int i = 0; i < t->p->nout_cols + t->per_row + (t->o->status_column ? 1 : 0); i++) {
        OGRFieldType type = OFTReal;
        if (i < t->p->nout_cols) {
            int c = t->p->out_cols[i];
            snprintf(name, sizeof name, "%s", t->p->col_names[c]);
            type = carried_type(t->p->col_types[c]);
        } else if (i < t->p->nout_cols + t->per_row) {
            zonal_column_name(t, i - t->p->nout_cols, name, sizeof name);
            if (is_list_column(t, i - t->p->nout_cols))
                type = lists ? OFTRealList : OFTString;
        } else {
            snprintf(name, sizeof name, "status");
            type = OFTString;
        }
        OGRFieldDefnH fd = OGR_Fld_Create(name, type);
        OGRErr e = OGR_L_CreateField(layer, fd, TRUE);
        OGR_Fld_Destroy(fd);
        if (e != OGRERR_NONE)
            return rp_error_set(err, RP_WRITE, "%s: cannot create the field '%s': %s", target, name,
                                CPLGetLastErrorMsg());
    }
    return RP_OK;
}

static rp_status write_features(const zonal_table *t, OGRLayerH layer, const char *target,
                                bool lists, rp_error *err) {
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
    for (size_t i = 0; i < t->p->n; i++) {
        const zonal_feature *f = &t->p->feats[i];
        OGRFeatureH feat = OGR_F_Create(defn);
        int k = 0;
        for (int c = 0; c < t->p->nout_cols; c++, k++)
            if (f->attrs[t->p->out_cols[c]])
                OGR_F_SetFieldString(feat, k, f->attrs[t->p->out_cols[c]]);
        for (int j = 0; j < t->per_row; j++, k++) {
            size_t at = i * (size_t)t->per_row + (size_t)j;
            if (t->has[at] && t->lists[at] && lists) {
                OGR_F_SetFieldDoubleList(feat, k, (int)t->vals[at], t->lists[at]);
            } else if (t->has[at] && t->lists[at]) {
                char *s = list_text(t->lists[at], (size_t)t->vals[at]);
                if (!s) {
                    OGR_F_Destroy(feat);
                    return rp_error_set(err, RP_NOMEM, "out of memory");
                }
                OGR_F_SetFieldString(feat, k, s);
                free(s);
            } else if (t->has[at]) {
                OGR_F_SetFieldDouble(feat, k, t->vals[at]);
            }
        }
        if (t->o->status_column)
            OGR_F_SetFieldString(feat, k, zonal_status_name(f->status));
        OGRGeometryH g = NULL;
        if (f->wkb && OGR_G_CreateFromWkbEx(f->wkb, NULL, &g, f->wkb_size) == OGRERR_NONE)
            OGR_F_SetGeometryDirectly(feat, g);
        OGRErr e = OGR_L_CreateFeature(layer, feat);
        OGR_F_Destroy(feat);
        if (e != OGRERR_NONE)
            return rp_error_set(err, RP_WRITE, "%s: cannot write polygon %zu: %s", target, i + 1,
                                CPLGetLastErrorMsg());
    }
    return RP_OK;
}

rp_status zonal_write_ogr(const zonal_table *t, const char *target, GDALDriverH drv,
                          rp_error *err) {
    if (!t->o->include_geom && strcmp(GDALGetDriverShortName(drv), "FlatGeobuf") == 0)
        return rp_error_set(err, RP_USAGE,
                            "%s: FlatGeobuf files need a geometry: add --include-geom, or "
                            "write .gpkg or .csv",
                            t->o->output_path);
    for (size_t i = 0; i < t->p->n; i++)
        if (!t->p->feats[i].wkb && strcmp(GDALGetDriverShortName(drv), "FlatGeobuf") == 0)
            return rp_error_set(err, RP_WRITE,
                                "%s: polygon %zu (FID %lld) has no geometry, and FlatGeobuf "
                                "drops such features: write .gpkg or .csv",
                                t->o->output_path, i + 1, (long long)t->p->feats[i].fid);
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    GDALDatasetH ds = GDALCreate(drv, target, 0, 0, 0, GDT_Unknown, NULL);
    rp_status rc = RP_OK;
    if (!ds) {
        rc = rp_error_set(err, RP_WRITE, "%s: cannot create: %s", target,
                          rp_gdal_capture_text(&cap));
    } else {
        /* FlatGeobuf's spatial index would sort the rows: input order wins */
        const char *lco[] = {"SPATIAL_INDEX=NO", NULL};
        bool fgb = strcmp(GDALGetDriverShortName(drv), "FlatGeobuf") == 0;
        OGRLayerH layer = GDALDatasetCreateLayer(ds, "zonal", t->o->include_geom ? t->p->srs : NULL,
                                                 t->o->include_geom ? wkbUnknown : wkbNone,
                                                 fgb ? (char **)lco : NULL);
        if (!layer)
            rc = rp_error_set(err, RP_WRITE, "%s: cannot create a layer: %s", target,
                              rp_gdal_capture_text(&cap));
        bool tx = layer && GDALDatasetStartTransaction(ds, FALSE) == OGRERR_NONE;
        if (rc == RP_OK)
            rc = make_fields(t, layer, target, has_real_lists(drv), err);
        if (rc == RP_OK)
            rc = write_features(t, layer, target, has_real_lists(drv), err);
        if (tx && rc == RP_OK && GDALDatasetCommitTransaction(ds) != OGRERR_NONE)
            rc = rp_error_set(err, RP_WRITE, "%s: cannot commit: %s", target,
                              rp_gdal_capture_text(&cap));
        int failures = cap.count;
        GDALClose(ds); /* void in GDAL 3.6: a write error shows as a captured failure */
        if (rc == RP_OK && cap.count > failures)
            rc = rp_error_set(err, RP_WRITE, "%s: cannot write: %s", target,
                              rp_gdal_capture_text(&cap));
    }
    rp_gdal_capture_pop();
    return rc;
}
