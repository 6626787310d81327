/*
 * vrt_xml.c — reads a VRT's XML (GDAL's own XML parser) into its bands
 * and their sources, and decides for each band whether rasterpool can read
 * it straight from the source files.
 *
 * A band qualifies when every source is a SimpleSource or ComplexSource
 * that copies pixels 1:1: SrcRect and DstRect of the same integer size, no
 * scaling, LUT, colour table component, exponent or mask band, no open
 * options, and the source's data type equal to the band's (a different
 * type is checked again once the file is opened, when its XML does not
 * say). A ComplexSource NODATA makes those pixels transparent, as GDAL
 * paints them. Anything else keeps the band on GDAL's own VRT reader, and
 * the reason is kept for --plan.
 *
 * Threads: parsing is pure (no GDAL state but the thread's error handler
 * stack); rp_vrt_source_props opens a file on the calling thread.
 * Ownership: rp_vrt owns every string in it.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_minixml.h>
#include <cpl_string.h>
#include <cpl_vsi.h>

#include "gdal_errors.h"
#include "remote.h"
#include "vrt_xml.h"

enum { MAX_VRT_XML_BYTES = 64 << 20 };

/* CPLGetXMLNode without the cast at every call (it does not modify). */
static const CPLXMLNode *node_get(const CPLXMLNode *node, const char *path) {
    return CPLGetXMLNode((CPLXMLNode *)node, path);
}

static void say(char *why, size_t size, const char *fmt, ...) RP_PRINTF(3, 4);
static void say(char *why, size_t size, const char *fmt, ...) {
    if (!why || !size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
}

/* An XML attribute or element as a whole number (the VRT writes doubles). */
static bool get_int(const CPLXMLNode *node, const char *key, int64_t *out) {
    const char *s = CPLGetXMLValue(node, key, NULL);
    if (!s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (errno || end == s || *end || !(v >= -9.0e15 && v <= 9.0e15) || v != floor(v))
        return false;
    *out = (int64_t)v;
    return true;
}

static bool get_double(const CPLXMLNode *node, const char *key, double *out) {
    const char *s = CPLGetXMLValue(node, key, NULL);
    if (!s)
        return false;
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (end == s || *end)
        return false;
    *out = v;
    return true;
}

static char *resolve_path(const char *name, bool relative, const char *vrt_path) {
    if (!relative || !vrt_path || CPLIsFilenameRelative(name) == FALSE)
        return rp_remote_gdal_path(name);
    char *dir = strdup(CPLGetPath(vrt_path)); /* CPL's ring buffer: copy it */
    if (!dir)
        return NULL;
    char *joined = rp_remote_gdal_path(CPLProjectRelativeFilename(dir, name));
    free(dir);
    return joined;
}

/* ComplexSource elements that change values (any of them: not 1:1). */
static const char *value_changer(const CPLXMLNode *src) {
    static const char *const changers[] = {
        "LUT", "ColorTableComponent", "Exponent", "SrcMin", "SrcMax", "DstMin", "DstMax", NULL};
    for (int i = 0; changers[i]; i++)
        if (node_get(src, changers[i]))
            return changers[i];
    double v;
    if (get_double(src, "ScaleOffset", &v) && v != 0)
        return "ScaleOffset";
    if (get_double(src, "ScaleRatio", &v) && v != 1)
        return "ScaleRatio";
    if (node_get(src, "ScaleOffset") && !get_double(src, "ScaleOffset", &v))
        return "ScaleOffset";
    if (node_get(src, "ScaleRatio") && !get_double(src, "ScaleRatio", &v))
        return "ScaleRatio";
    return NULL;
}

/* The SrcRect/DstRect of a 1:1 copy into out (offsets, size); false with
 * `why` otherwise. */
static bool parse_rects(const CPLXMLNode *node, size_t index, rp_vrt_source *out, char *why,
                        size_t wsize) {
    const CPLXMLNode *sr = node_get(node, "SrcRect");
    const CPLXMLNode *dr = node_get(node, "DstRect");
    int64_t sx, sy, sw, sh, dx, dy, dw, dh;
    if (!sr || !dr) {
        say(why, wsize, "source %zu has no SrcRect/DstRect", index);
        return false;
    }
    if (!get_int(sr, "xOff", &sx) || !get_int(sr, "yOff", &sy) || !get_int(sr, "xSize", &sw) ||
        !get_int(sr, "ySize", &sh) || !get_int(dr, "xOff", &dx) || !get_int(dr, "yOff", &dy) ||
        !get_int(dr, "xSize", &dw) || !get_int(dr, "ySize", &dh)) {
        say(why, wsize, "source %zu has a SrcRect/DstRect that is not whole pixels", index);
        return false;
    }
    if (sw != dw || sh != dh) {
        say(why, wsize, "source %zu is resampled (SrcRect %lldx%lld to DstRect %lldx%lld)", index,
            (long long)sw, (long long)sh, (long long)dw, (long long)dh);
        return false;
    }
    if (sw <= 0 || sh <= 0 || sx < 0 || sy < 0) {
        say(why, wsize, "source %zu has an empty or negative SrcRect", index);
        return false;
    }
    out->src_x = sx;
    out->src_y = sy;
    out->dst_x = dx;
    out->dst_y = dy;
    out->w = sw;
    out->h = sh;
    return true;
}

/* The source's SourceProperties into out, when they are complete
 * (props_known). */
static void read_props(const CPLXMLNode *node, rp_vrt_source *out) {
    const CPLXMLNode *props = node_get(node, "SourceProperties");
    int64_t rw, rh, bw, bh;
    if (props && get_int(props, "RasterXSize", &rw) && get_int(props, "RasterYSize", &rh) &&
        get_int(props, "BlockXSize", &bw) && get_int(props, "BlockYSize", &bh) && rw > 0 &&
        rh > 0 && bw > 0 && bh > 0 && rw <= INT32_MAX && rh <= INT32_MAX && bw <= INT32_MAX &&
        bh <= INT32_MAX && CPLGetXMLValue(props, "DataType", NULL)) {
        out->type = GDALGetDataTypeByName(CPLGetXMLValue(props, "DataType", ""));
        out->raster_w = rw;
        out->raster_h = rh;
        out->block_w = (int)bw;
        out->block_h = (int)bh;
        out->props_known = out->type != GDT_Unknown;
    }
}

/* What parse_source found. */
typedef enum source_verdict {
    SOURCE_DIRECT,     /* a plain 1:1 copy */
    SOURCE_NOT_DIRECT, /* anything else: `why` says what */
    SOURCE_NO_MEMORY   /* memory ran out */
} source_verdict;

/* Parses one Simple/ComplexSource into *out. index is 1-based, for
 * messages. */
static source_verdict parse_source(const CPLXMLNode *node, size_t index, const rp_vrt_band *band,
                                   const char *vrt_path, rp_vrt_source *out, char *why,
                                   size_t wsize) {
    bool complex = strcmp(node->pszValue, "ComplexSource") == 0;
    memset(out, 0, sizeof *out);
    const char *name = CPLGetXMLValue(node, "SourceFilename", NULL);
    if (!name || !*name) {
        say(why, wsize, "source %zu has no SourceFilename", index);
        return SOURCE_NOT_DIRECT;
    }
    if (node_get(node, "OpenOptions")) {
        say(why, wsize, "source %zu has open options", index);
        return SOURCE_NOT_DIRECT;
    }
    const char *sb = CPLGetXMLValue(node, "SourceBand", "1");
    int64_t band_no;
    if (strncmp(sb, "mask", 4) == 0 || !get_int(node, "SourceBand", &band_no) || band_no < 1 ||
        band_no > 1000000) {
        if (node_get(node, "SourceBand") || strncmp(sb, "mask", 4) == 0) {
            say(why, wsize, "source %zu reads a mask band (%s)", index, sb);
            return SOURCE_NOT_DIRECT;
        }
        band_no = 1;
    }
    if (!parse_rects(node, index, out, why, wsize))
        return SOURCE_NOT_DIRECT;
    if (complex) {
        const char *changer = value_changer(node);
        if (changer) {
            say(why, wsize, "source %zu changes values (%s)", index, changer);
            return SOURCE_NOT_DIRECT;
        }
        if (CPLTestBool(CPLGetXMLValue(node, "UseMaskBand", "false"))) {
            say(why, wsize, "source %zu uses its mask band", index);
            return SOURCE_NOT_DIRECT;
        }
    }
    out->band = (int)band_no;
    if (complex && node_get(node, "NODATA")) {
        if (!get_double(node, "NODATA", &out->nodata)) {
            say(why, wsize, "source %zu has a NODATA that is not a number", index);
            return SOURCE_NOT_DIRECT;
        }
        out->has_nodata = true;
    }
    read_props(node, out);
    if (out->props_known && out->type != band->type) {
        say(why, wsize, "source %zu is %s, the band %s (values are converted)", index,
            GDALGetDataTypeName(out->type), GDALGetDataTypeName(band->type));
        return SOURCE_NOT_DIRECT;
    }
    bool relative = CPLTestBool(CPLGetXMLValue(node, "SourceFilename.relativeToVRT", "0"));
    out->path = resolve_path(name, relative, vrt_path);
    if (!out->path) {
        say(why, wsize, "out of memory");
        return SOURCE_NO_MEMORY;
    }
    return SOURCE_DIRECT;
}

static bool is_source_element(const char *name) {
    size_t n = strlen(name);
    return n >= 6 && strcmp(name + n - 6, "Source") == 0;
}

static void free_band_sources(rp_vrt_band *b) {
    for (size_t i = 0; i < b->nsources; i++)
        free(b->sources[i].path);
    free(b->sources);
    b->sources = NULL;
    b->nsources = 0;
}

/* Fills b from a VRTRasterBand element; sets direct/reason. Returns false
 * only when memory runs out. */
static bool parse_band(const CPLXMLNode *node, const char *vrt_path, bool dataset_mask,
                       rp_vrt_band *b, bool *remote) {
    b->type = GDALGetDataTypeByName(CPLGetXMLValue(node, "dataType", "Byte"));
    b->direct = false;
    const char *sub = CPLGetXMLValue(node, "subClass", NULL);
    if (sub) {
        say(b->reason, sizeof b->reason, "band %d is a %s", b->band, sub);
        return true;
    }
    if (dataset_mask) {
        say(b->reason, sizeof b->reason, "the VRT has a dataset mask band");
        return true;
    }
    if (node_get(node, "MaskBand")) {
        say(b->reason, sizeof b->reason, "band %d has a mask band", b->band);
        return true;
    }
    if (CPLTestBool(CPLGetXMLValue(node, "HideNoDataValue", "0"))) {
        say(b->reason, sizeof b->reason, "band %d hides its nodata value", b->band);
        return true;
    }
    size_t count = 0;
    for (const CPLXMLNode *c = node->psChild; c; c = c->psNext)
        if (c->eType == CXT_Element && is_source_element(c->pszValue))
            count++;
    b->sources = calloc(count ? count : 1, sizeof *b->sources);
    if (!b->sources)
        return false;
    size_t index = 0;
    for (const CPLXMLNode *c = node->psChild; c; c = c->psNext) {
        if (c->eType != CXT_Element || !is_source_element(c->pszValue))
            continue;
        index++;
        if (strcmp(c->pszValue, "SimpleSource") != 0 && strcmp(c->pszValue, "ComplexSource") != 0) {
            say(b->reason, sizeof b->reason, "band %d: source %zu is a %s", b->band, index,
                c->pszValue);
            free_band_sources(b);
            return true;
        }
        char why[200] = "";
        rp_vrt_source *src = &b->sources[b->nsources];
        source_verdict verdict = parse_source(c, index, b, vrt_path, src, why, sizeof why);
        if (verdict != SOURCE_DIRECT) {
            say(b->reason, sizeof b->reason, "band %d: %s", b->band, why);
            free_band_sources(b);
            return verdict != SOURCE_NO_MEMORY;
        }
        b->nsources++;
        if (rp_path_is_remote(src->path))
            *remote = true;
    }
    b->direct = true;
    return true;
}

void rp_vrt_free(rp_vrt *vrt) {
    if (!vrt)
        return;
    for (int i = 0; i < vrt->nbands; i++)
        free_band_sources(&vrt->bands[i]);
    free(vrt->bands);
    free(vrt);
}

rp_vrt *rp_vrt_parse(const char *xml, const char *vrt_path, char *why, size_t why_size) {
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLXMLNode *root = CPLParseXMLString(xml);
    CPLPopErrorHandler();
    if (!root) {
        say(why, why_size, "its XML cannot be parsed");
        return NULL;
    }
    rp_vrt *vrt = NULL;
    const CPLXMLNode *ds = node_get(root, "=VRTDataset");
    if (!ds) {
        say(why, why_size, "it is not a VRTDataset");
        goto done;
    }
    const char *sub = CPLGetXMLValue(ds, "subClass", NULL);
    if (sub) {
        say(why, why_size, "it is a %s", sub);
        goto done;
    }
    int nbands = 0;
    for (const CPLXMLNode *c = ds->psChild; c; c = c->psNext)
        if (c->eType == CXT_Element && strcmp(c->pszValue, "VRTRasterBand") == 0)
            nbands++;
    vrt = calloc(1, sizeof *vrt);
    if (!vrt || !(vrt->bands = calloc(nbands ? (size_t)nbands : 1, sizeof *vrt->bands))) {
        free(vrt);
        vrt = NULL;
        say(why, why_size, "out of memory");
        goto done;
    }
    bool dataset_mask = node_get(ds, "MaskBand") != NULL;
    for (const CPLXMLNode *c = ds->psChild; c; c = c->psNext) {
        if (c->eType != CXT_Element || strcmp(c->pszValue, "VRTRasterBand") != 0)
            continue;
        rp_vrt_band *b = &vrt->bands[vrt->nbands];
        b->band = vrt->nbands + 1;
        vrt->nbands++;
        if (!parse_band(c, vrt_path, dataset_mask, b, &vrt->remote)) {
            rp_vrt_free(vrt);
            vrt = NULL;
            say(why, why_size, "out of memory");
            goto done;
        }
    }
done:
    CPLDestroyXMLNode(root);
    return vrt;
}

rp_vrt *rp_vrt_read(const char *path, char *why, size_t why_size) {
    const char *p = path;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (strncmp(p, "<VRTDataset", 11) == 0)
        return rp_vrt_parse(p, NULL, why, why_size);
    GByte *text = NULL;
    vsi_l_offset size = 0;
    int ok = 0;
    rp_gdal_capture cap;
    for (int attempt = 1;; attempt++) { /* a reset connection is tried again */
        rp_gdal_capture_push(&cap);
        ok = VSIIngestFile(NULL, path, &text, &size, MAX_VRT_XML_BYTES);
        rp_gdal_capture_pop();
        if (ok || !rp_remote_retry(path, &cap, attempt))
            break;
        VSIFree(text);
        text = NULL;
    }
    if (!ok || !text) {
        VSIFree(text);
        say(why, why_size, "its XML cannot be read (or is over %d MiB)", MAX_VRT_XML_BYTES >> 20);
        return NULL;
    }
    rp_vrt *vrt = rp_vrt_parse((const char *)text, path, why, why_size);
    VSIFree(text);
    return vrt;
}

bool rp_vrt_source_props(rp_vrt_source *src, char *why, size_t why_size) {
    if (src->props_known)
        return true;
    if (src->props_failed) {
        say(why, why_size, "%s: cannot open", src->path);
        return false;
    }
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    GDALDatasetH ds = rp_remote_open(src->path, GDAL_OF_RASTER | GDAL_OF_READONLY);
    rp_gdal_capture_pop();
    if (!ds) {
        src->props_failed = true;
        char reason[768];
        say(why, why_size, "%s: cannot open: %s", src->path,
            rp_gdal_open_failure(src->path, &cap, reason, sizeof reason));
        return false;
    }
    bool ok = src->band <= GDALGetRasterCount(ds);
    if (ok) {
        GDALRasterBandH b = GDALGetRasterBand(ds, src->band);
        src->raster_w = GDALGetRasterXSize(ds);
        src->raster_h = GDALGetRasterYSize(ds);
        GDALGetBlockSize(b, &src->block_w, &src->block_h);
        src->type = GDALGetRasterDataType(b);
        src->props_known = src->block_w > 0 && src->block_h > 0;
        ok = src->props_known;
    }
    if (!ok) {
        src->props_failed = true;
        say(why, why_size, "%s: has no band %d", src->path, src->band);
    }
    GDALClose(ds);
    return ok;
}
