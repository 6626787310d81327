/*
 * raster_map.h — local GeoTIFFs read straight from a memory map of the file
 * (raster_map.c): libtiff decodes each tile from the page cache in place
 * instead of the kernel copying it into a buffer first.
 */
#ifndef RP_RASTER_MAP_H
#define RP_RASTER_MAP_H
#include <stdbool.h>

#include <gdal.h>

typedef struct rp_raster_map rp_raster_map;

/* Whether path, opened as ds, may be read through a map: mapping is
 * enabled for the process (rp_map_raster_files), RASTERPOOL_MAP_RASTERS is
 * not "0", the file is a local regular file read by the GTiff driver, and
 * GDAL uses no other file for it (no .aux.xml, .ovr, .msk, world file: a
 * map is read without its neighbours). */
bool rp_raster_map_eligible(GDALDatasetH ds, const char *path);
/* Maps path for the jobs that open it through rp_raster_map_open until
 * the matching release; a path mapped already gets another reference.
 * NULL when it cannot be mapped (the job reads it with pread, as before).
 * Call only while no dataset of path is open through a map of an earlier
 * release. */
rp_raster_map *rp_raster_map_acquire(const char *path);
/* Drops one reference; the last one unmaps. Every dataset opened through
 * the map must be closed before. NULL is a no-op. */
void rp_raster_map_release(rp_raster_map *map);
/* path opened read-only through its map when path is mapped, else NULL
 * (the caller opens path as usual). Any thread. */
GDALDatasetH rp_raster_map_open(const char *path, unsigned int flags);
/* Whether ds was opened through a map. */
bool rp_raster_map_is_mapped(GDALDatasetH ds);
/* While set on a thread, rp_raster_map_open opens nothing on it (the file
 * is read with pread): a block that failed through a map is read again
 * from the file, whose failure GDAL describes better (a tile past the
 * file's end: "got 6149 bytes, expected 12299" instead of only "failed"). */
void rp_raster_map_bypass(bool on);
/* The stored offset and size of block (bx, by) of band from the GTiff
 * driver's "TIFF" metadata; false when it has none (another driver, a
 * sparse block). */
bool rp_gtiff_block_extent(GDALRasterBandH band, int bx, int by, unsigned long long *offset,
                           unsigned long long *size);
/* After the window was read from band: the map's pages of the blocks under
 * it leave the process's resident set (the page cache keeps them), so that
 * a job's memory does not grow with the file. Nothing when band's dataset
 * is not mapped. Any thread (the band's own). */
void rp_raster_map_done_window(GDALRasterBandH band, int xoff, int yoff, int w, int h);
/* The /vsimem/ name of a map is this prefix + the file's absolute path:
 * GDAL's messages about a mapped dataset name it, and gdal_errors.c strips
 * the prefix so that they name the file. */
#define RP_RASTER_MAP_PREFIX "/vsimem/rasterpool-map"

#endif
