/*
 * vrt_xml.h — a VRT's bands and sources as read from its XML,
 * and whether each band can be read straight from its source files.
 */
#ifndef RP_VRT_XML_H
#define RP_VRT_XML_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gdal.h>

#include "rasterpool.h"

/* One 1:1 source: a window of a source band copied unchanged into the VRT
 * at (dst_x, dst_y). */
typedef struct rp_vrt_source {
    char *path;           /* as GDAL opens it: relative names resolved */
    int band;             /* 1-based band of the source file */
    int64_t src_x, src_y; /* SrcRect offset */
    int64_t dst_x, dst_y; /* DstRect offset */
    int64_t w, h;         /* the window size (SrcRect and DstRect agree) */
    bool has_nodata;      /* ComplexSource NODATA: such pixels are transparent */
    double nodata;
    /* SourceProperties, or what opening the file told (props_known) */
    bool props_known;
    bool props_failed; /* opening it to learn them failed */
    int64_t raster_w, raster_h;
    int block_w, block_h;
    GDALDataType type;
} rp_vrt_source;

typedef struct rp_vrt_band {
    int band;               /* 1-based */
    GDALDataType type;      /* the VRT band's dataType */
    bool direct;            /* sources can be read directly */
    char reason[256];       /* when not: why (for --plan) */
    rp_vrt_source *sources; /* in the XML's order: later ones paint over earlier ones */
    size_t nsources;
} rp_vrt_band;

typedef struct rp_vrt {
    int nbands;
    rp_vrt_band *bands; /* bands[i] is band i + 1 */
    bool remote;        /* some source is a remote file */
} rp_vrt;

/* Parses VRT XML. vrt_path is the VRT's own path (relative source names
 * are resolved against its folder) or NULL (against the current folder).
 * Returns NULL with `why` filled when the XML is not a VRTDataset that can
 * be planned at all (a warped or pansharpened VRT, bad XML, ...): the
 * caller then reads through GDAL. Bands that cannot be read directly have
 * direct = false and a reason. Memory: the caller frees with rp_vrt_free. */
rp_vrt *rp_vrt_parse(const char *xml, const char *vrt_path, char *why, size_t why_size);

/* Reads the VRT at path (a file, a /vsi path, or inline "<VRTDataset>" XML;
 * at most 64 MiB of XML) and parses it. NULL with `why` otherwise. */
rp_vrt *rp_vrt_read(const char *path, char *why, size_t why_size);

void rp_vrt_free(rp_vrt *vrt);

/* Learns a source's size, block size and type by opening it (on the
 * calling thread) unless its XML told them. Returns false when it cannot
 * be opened (props_failed is then set and `why` says why). */
bool rp_vrt_source_props(rp_vrt_source *src, char *why, size_t why_size);

#endif
