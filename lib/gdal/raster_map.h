/*
 * raster_map.h — a local GeoTIFF read through a memory map of the file
 * (raster_map.c): libtiff decodes each tile from the page cache in place
 * instead of the kernel copying it into a buffer first.
 */
#ifndef RP_RASTER_MAP_H
#define RP_RASTER_MAP_H
#include <stdbool.h>

#include <gdal.h>

typedef struct rp_raster_map rp_raster_map;

/* A map's /vsimem/ name is this prefix, a number of its own, then the
 * file's absolute path: GDAL's messages about a mapped dataset name it, and
 * gdal_errors.c strips the prefix and the number, leaving the file. */
#define RP_RASTER_MAP_PREFIX "/vsimem/rasterpool-map/"

/* Whether path, open as ds, may be read through a map: the process opted
 * in (rp_map_raster_files), the file is a regular file on a local disk
 * file system, GDAL's GTiff driver reads it, and GDAL uses no other file
 * for it (no .aux.xml, .ovr, .msk, world file: a map is read without its
 * neighbours). */
bool rp_raster_map_eligible(GDALDatasetH ds, const char *path);
/* Maps path for one job's reads; NULL when it cannot (the job reads the
 * file with pread). The map is the job's own: no other job sees it. */
rp_raster_map *rp_raster_map_new(const char *path);
/* Unmaps. Every dataset opened through the map must be closed before (a
 * pool's workers close theirs when the pool's run ends). NULL: no-op. */
void rp_raster_map_free(rp_raster_map *map);
/* The name a worker opens the map by (rp_handles_get opens it with
 * rp_raster_map_open_name); it stays valid until rp_raster_map_free. */
const char *rp_raster_map_name(const rp_raster_map *map);
/* Whether path is a map's name. */
bool rp_raster_map_is_name(const char *path);
/* A map's name opened read-only so that libtiff reads tiles in place;
 * NULL when GDAL cannot open it. Any thread. */
GDALDatasetH rp_raster_map_open_name(const char *name, unsigned int flags);
/* After the window was read from band (of map's file, through the map or
 * not): the map's pages of the blocks under it leave the process's
 * resident set (the page cache keeps them), so that a job's memory does
 * not grow with the file. NULL map: nothing. Any thread. */
void rp_raster_map_done_window(const rp_raster_map *map, GDALRasterBandH band, int xoff, int yoff,
                               int w, int h);

#endif
