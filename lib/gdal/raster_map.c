/*
 * raster_map.c — local GeoTIFFs read through a memory map of the file.
 *
 * Read with pread, every compressed tile is first copied by the kernel from
 * the page cache into GDAL's buffer: on 2 CPUs, 500k points on a 211 MB
 * DEFLATE GeoTIFF spend a fifth of their CPU time in that copy. GDAL's
 * GTiff driver can decode from memory in place: a /vsimem/ file opened
 * with GTIFF_USE_MMAP=YES hands libtiff the file's bytes as a mapping, and
 * libtiff then reads each tile where it lies. So an eligible raster is
 * mapped once for the process (mmap of the file, read-only, shared), the
 * mapping is registered as the /vsimem/ file RP_RASTER_MAP_PREFIX + its
 * absolute path (without copying), and the workers open that name instead
 * of the path (rp_raster_map_open, from handles.c), each its own dataset as
 * before.
 *
 * What a map changes, and how each is kept:
 * - Sidecar files (.aux.xml, .ovr, .msk, world files) would not be found
 *   beside a /vsimem/ name: a raster is eligible only when GDAL's file list
 *   for it is the file alone (rp_raster_map_eligible).
 * - Memory: the mapped pages a process touched count in its resident set.
 *   After each block is read the pages of its tiles are dropped from it
 *   (madvise MADV_DONTNEED on a shared read-only mapping: the page cache
 *   keeps them, and a thread still reading a shared boundary page faults it
 *   in again, same bytes), using the tile offsets GDAL reports
 *   (BLOCK_OFFSET_x_y / BLOCK_SIZE_x_y). Mask bands' tiles are not dropped
 *   (a mask is a small fraction of its band).
 * - A file truncated underneath raises SIGBUS instead of a short read: so
 *   mapping is opt-in for the process (rp_map_raster_files: the CLI opts in
 *   and handles SIGBUS, naming the file through rp_mapped_raster_at; library
 *   users get pread unless they opt in), and every map is registered in
 *   mapped_ranges.c. A file rewritten in place reads the new bytes, as
 *   pread would.
 * - GDAL's messages name the /vsimem/ file: gdal_errors.c strips the prefix,
 *   which leaves the file's absolute path.
 * - Tiles whose recorded range lies past the file's end: libtiff checks
 *   the range against the mapping's length and fails the tile with its
 *   usual message, as with pread.
 *
 * Threads: the table of maps is guarded by one mutex; acquire and release
 * run on the job's own thread before and after its workers, which look up
 * and open maps (rp_raster_map_open) and drop pages from any thread. A map
 * is unmapped when its last reference goes, after every dataset opened
 * through it was closed (the caller's duty).
 */
#include "raster_map.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>

#include "mapped_ranges.h"
#include "rasterpool.h"
#include "remote.h"

struct rp_raster_map {
    char *path; /* as the job names it: the key */
    char *name; /* the /vsimem/ file: prefix + absolute path */
    void *base;
    size_t len;
    int refs;
    int slot; /* in mapped_ranges.c */
    rp_raster_map *next;
};

static _Thread_local bool bypass;
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static rp_raster_map *maps; /* under maps_lock */
static atomic_int map_enabled;

void rp_map_raster_files(int enable) {
    atomic_store(&map_enabled, enable != 0);
}

const char *rp_mapped_raster_at(const void *addr) {
    const char *name = rp_mapped_ranges_at(addr);
    /* the points files share the registry: only a raster's name is ours */
    return name && strncmp(name, RP_RASTER_MAP_PREFIX, strlen(RP_RASTER_MAP_PREFIX)) == 0
               ? name + strlen(RP_RASTER_MAP_PREFIX)
               : NULL;
}

bool rp_raster_map_eligible(GDALDatasetH ds, const char *path) {
    if (!atomic_load(&map_enabled) || !ds || rp_path_is_remote(path) ||
        strncmp(path, "/vsi", 4) == 0)
        return false;
    const char *env = getenv("RASTERPOOL_MAP_RASTERS");
    if (env && strcmp(env, "0") == 0)
        return false;
    GDALDriverH drv = GDALGetDatasetDriver(ds);
    if (!drv || strcmp(GDALGetDriverShortName(drv), "GTiff") != 0)
        return false;
    char **files = GDALGetFileList(ds);
    bool alone = CSLCount(files) == 1;
    CSLDestroy(files);
    struct stat st;
    return alone && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
           (uint64_t)st.st_size <= SIZE_MAX;
}

static rp_raster_map *find_locked(const char *path) {
    for (rp_raster_map *m = maps; m; m = m->next)
        if (strcmp(m->path, path) == 0)
            return m;
    return NULL;
}

static void free_map(rp_raster_map *m) {
    if (!m)
        return;
    if (m->name)
        VSIUnlink(m->name);
    rp_mapped_ranges_remove(m->slot);
    if (m->base)
        munmap(m->base, m->len);
    free(m->path);
    free(m->name);
    free(m);
}

/* A new map of path, registered; NULL when any step fails. */
static rp_raster_map *map_file(const char *path) {
    rp_raster_map *m = calloc(1, sizeof *m);
    char *absolute = realpath(path, NULL);
    int fd = absolute ? open(absolute, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    if (!m || fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
        if (fd >= 0)
            close(fd);
        free(absolute);
        free(m);
        return NULL;
    }
    m->slot = -1;
    m->len = (size_t)st.st_size;
    m->base = mmap(NULL, m->len, PROT_READ, MAP_SHARED, fd, 0);
    close(fd); /* the mapping keeps the file */
    size_t name_len = strlen(RP_RASTER_MAP_PREFIX) + strlen(absolute) + 1;
    m->name = malloc(name_len);
    m->path = strdup(path);
    if (m->base == MAP_FAILED)
        m->base = NULL;
    if (m->name)
        snprintf(m->name, name_len, "%s%s", RP_RASTER_MAP_PREFIX, absolute);
    free(absolute);
    if (m->base && m->name && m->path)
        m->slot = rp_mapped_ranges_add(m->base, m->len, m->name);
    VSILFILE *fp =
        m->slot >= 0 ? VSIFileFromMemBuffer(m->name, (GByte *)m->base, (vsi_l_offset)m->len, FALSE)
                     : NULL;
    if (!fp) {
        char *name = m->name;
        m->name = NULL; /* nothing to unlink */
        free_map(m);
        free(name);
        return NULL;
    }
    VSIFCloseL(fp);
    m->refs = 1;
    /* tests: the file truncated underneath the map (SIGBUS when read) */
    const char *hook = getenv("RASTERPOOL_TEST_TRUNCATE_RASTER");
    if (hook && strcmp(hook, "1") == 0 && truncate(path, (off_t)(m->len / 2)) != 0)
        (void)0; /* the test then sees no signal: it fails, as it should */
    return m;
}

rp_raster_map *rp_raster_map_acquire(const char *path) {
    pthread_mutex_lock(&maps_lock);
    rp_raster_map *m = find_locked(path);
    if (m) {
        m->refs++;
    } else if ((m = map_file(path)) != NULL) {
        m->next = maps;
        maps = m;
    }
    pthread_mutex_unlock(&maps_lock);
    return m;
}

void rp_raster_map_release(rp_raster_map *map) {
    if (!map)
        return;
    pthread_mutex_lock(&maps_lock);
    bool last = --map->refs == 0;
    if (last)
        for (rp_raster_map **p = &maps; *p; p = &(*p)->next)
            if (*p == map) {
                *p = map->next;
                break;
            }
    pthread_mutex_unlock(&maps_lock);
    if (last)
        free_map(map);
}

void rp_raster_map_bypass(bool on) {
    bypass = on;
}

bool rp_raster_map_is_mapped(GDALDatasetH ds) {
    const char *desc = ds ? GDALGetDescription(ds) : NULL;
    return desc && strncmp(desc, RP_RASTER_MAP_PREFIX, strlen(RP_RASTER_MAP_PREFIX)) == 0;
}

GDALDatasetH rp_raster_map_open(const char *path, unsigned int flags) {
    char name[PATH_MAX + 64];
    if (bypass)
        return NULL;
    pthread_mutex_lock(&maps_lock);
    const rp_raster_map *m = maps ? find_locked(path) : NULL;
    bool found = m && strlen(m->name) < sizeof name;
    if (found)
        memcpy(name, m->name, strlen(m->name) + 1);
    pthread_mutex_unlock(&maps_lock);
    if (!found)
        return NULL;
    /* libtiff reads the tiles in place only with this option, which GDAL
     * reads when it opens the file: set on this thread for the open alone */
    const char *had = CPLGetThreadLocalConfigOption("GTIFF_USE_MMAP", NULL);
    char *saved = had ? CPLStrdup(had) : NULL;
    CPLSetThreadLocalConfigOption("GTIFF_USE_MMAP", "YES");
    static const char *const gtiff_only[] = {"GTiff", NULL};
    GDALDatasetH ds = GDALOpenEx(name, flags, gtiff_only, NULL, NULL);
    CPLSetThreadLocalConfigOption("GTIFF_USE_MMAP", saved);
    CPLFree(saved);
    return ds;
}

/* Drops [offset, offset + size) of the map at base from the resident set. */
static void drop_range(const GByte *base, vsi_l_offset len, uint64_t offset, uint64_t size) {
    long page = sysconf(_SC_PAGESIZE);
    if (size == 0 || offset >= len)
        return;
    uint64_t end = offset + size < len ? offset + size : len;
    uint64_t from = offset / (uint64_t)page * (uint64_t)page;
    (void)madvise((void *)(base + from), (size_t)(end - from), MADV_DONTNEED);
}

bool rp_gtiff_block_extent(GDALRasterBandH band, int bx, int by, unsigned long long *offset,
                           unsigned long long *size) {
    char name[64];
    snprintf(name, sizeof name, "BLOCK_OFFSET_%d_%d", bx, by);
    const char *o = GDALGetMetadataItem(band, name, "TIFF");
    if (!o || sscanf(o, "%llu", offset) != 1 || *offset == 0)
        return false;
    snprintf(name, sizeof name, "BLOCK_SIZE_%d_%d", bx, by);
    const char *z = GDALGetMetadataItem(band, name, "TIFF");
    return z && sscanf(z, "%llu", size) == 1 && *size > 0;
}

void rp_raster_map_done_window(GDALRasterBandH band, int xoff, int yoff, int w, int h) {
    GDALDatasetH ds = GDALGetBandDataset(band);
    if (!rp_raster_map_is_mapped(ds) || w <= 0 || h <= 0)
        return;
    vsi_l_offset len = 0;
    const GByte *base = VSIGetMemFileBuffer(GDALGetDescription(ds), &len, FALSE);
    int bw = 0, bh = 0;
    GDALGetBlockSize(band, &bw, &bh);
    if (!base || bw <= 0 || bh <= 0)
        return;
    for (int by = yoff / bh; by <= (yoff + h - 1) / bh; by++) {
        for (int bx = xoff / bw; bx <= (xoff + w - 1) / bw; bx++) {
            unsigned long long offset, size;
            if (rp_gtiff_block_extent(band, bx, by, &offset, &size))
                drop_range(base, len, offset, size);
        }
    }
}
