/*
 * raster_map.c — a local GeoTIFF read through a memory map of the file.
 *
 * Read with pread, every compressed tile is first copied by the kernel from
 * the page cache into GDAL's buffer. GDAL's GTiff driver can decode from
 * memory in place: a /vsimem/ file opened with GTIFF_USE_MMAP=YES hands
 * libtiff the file's bytes as a mapping, and libtiff reads each tile where
 * it lies. So an extract job maps an eligible raster for its reads (mmap of
 * the file, read-only, shared), registers the mapping as a /vsimem/ file
 * of a name of its own (RP_RASTER_MAP_PREFIX, a number, the absolute path;
 * without copying), and its workers open that name (rp_handles_get) instead
 * of the path, each its own dataset as before. The map is the job's: no
 * other job, concurrent or not, finds or opens it, and the job frees it
 * once its workers have closed their datasets.
 *
 * What a map changes, and how each is kept:
 * - Sidecar files (.aux.xml, .ovr, .msk, world files) would not be found
 *   beside a /vsimem/ name: a raster is eligible only when GDAL's file list
 *   for it is the file alone (rp_raster_map_eligible).
 * - Memory: mapped pages a process touched count in its resident set.
 *   After each block is read the pages of its tiles are dropped from it
 *   (madvise MADV_DONTNEED over the map's own range: on a shared read-only
 *   file mapping the page cache keeps them, and a thread still reading a
 *   shared boundary page faults it in again, the same bytes), using the
 *   tile offsets GDAL reports (BLOCK_OFFSET_x_y / BLOCK_SIZE_x_y). Mask
 *   bands' tiles are not dropped (a mask is a small fraction of its band).
 * - A file truncated underneath, or an I/O error of the device, raises
 *   SIGBUS instead of failing a read: so mapping is opt-in for the process
 *   (rp_map_raster_files: the CLI opts in and handles SIGBUS, naming the
 *   file through rp_mapped_raster_at; library users get pread unless they
 *   opt in), only files on local file systems are mapped (no NFS, CIFS,
 *   FUSE), and every map is registered in core/mapped_ranges.c. A file
 *   rewritten in place reads the new bytes, as pread would.
 * - GDAL's messages name the /vsimem/ file: gdal_errors.c strips the
 *   prefix and the number, which leaves the file's absolute path; a block
 *   that fails through the map is read again from the file
 *   (read_common.c), whose failure GDAL describes better.
 * - Tiles whose recorded range lies past the file's end: libtiff checks
 *   the range against the mapping's length and fails the tile.
 *
 * Threads: a map is made and freed on the job's thread, before and after
 * its workers; workers open its name and drop its pages from any thread
 * (the map is read-only to them). The name counter is atomic.
 */
#include "raster_map.h"

#include <fcntl.h>
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

#include "fileio.h"
#include "mapped_ranges.h"
#include "raster_info.h"
#include "rasterpool.h"
#include "remote.h"

struct rp_raster_map {
    char *path; /* as the job names it: the name a SIGBUS message gives */
    char *name; /* the /vsimem/ file */
    void *base;
    size_t len;
    int slot;        /* in mapped_ranges.c; -1 none */
    bool registered; /* name is a /vsimem/ file */
};

static atomic_int map_enabled;
static atomic_uint map_counter;

void rp_map_raster_files(int enable) {
    atomic_store(&map_enabled, enable != 0);
}

const char *rp_mapped_raster_at(const void *addr) {
    int kind = 0;
    const char *name = rp_mapped_ranges_at(addr, &kind);
    return kind == RP_MAPPED_RASTER ? name : NULL;
}

bool rp_raster_map_eligible(GDALDatasetH ds, const char *path) {
    if (!atomic_load(&map_enabled) || !ds || rp_path_is_remote(path) ||
        strncmp(path, "/vsi", 4) == 0)
        return false;
    GDALDriverH drv = GDALGetDatasetDriver(ds);
    if (!drv || strcmp(GDALGetDriverShortName(drv), "GTiff") != 0)
        return false;
    char **files = GDALGetFileList(ds);
    bool alone = CSLCount(files) == 1;
    CSLDestroy(files);
    int fd = alone ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    bool ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
              (uint64_t)st.st_size <= SIZE_MAX && rp_fd_fs_kind(fd) != RP_FS_OTHER;
    if (fd >= 0)
        close(fd);
    return ok;
}

void rp_raster_map_free(rp_raster_map *m) {
    if (!m)
        return;
    if (m->registered)
        VSIUnlink(m->name);
    rp_mapped_ranges_remove(m->slot);
    if (m->base)
        munmap(m->base, m->len);
    free(m->path);
    free(m->name);
    free(m);
}

/* Maps the open regular file fd into m; false when it cannot. */
static bool map_fd(rp_raster_map *m, int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0)
        return false;
    m->len = (size_t)st.st_size;
    void *base = mmap(NULL, m->len, PROT_READ, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        return false;
    m->base = base;
    return true;
}

/* Registers m's mapping as the /vsimem/ file m->name, without a copy. */
static bool register_vsimem(rp_raster_map *m) {
    VSILFILE *fp = VSIFileFromMemBuffer(m->name, (GByte *)m->base, (vsi_l_offset)m->len, FALSE);
    if (!fp)
        return false;
    VSIFCloseL(fp);
    m->registered = true;
    return true;
}

/* For tests: the file truncated to half just after mapping (reading the
 * map's pages past the new end raises SIGBUS). */
static void test_truncate(const rp_raster_map *m) {
    const char *hook = getenv("RASTERPOOL_TEST_TRUNCATE_RASTER");
    if (hook && strcmp(hook, "1") == 0 && truncate(m->path, (off_t)(m->len / 2)) != 0) {
        /* nothing truncated: the test sees no signal and fails, as it should */
    }
}

rp_raster_map *rp_raster_map_new(const char *path) {
    rp_raster_map *m = calloc(1, sizeof *m);
    char *absolute = realpath(path, NULL);
    int fd = absolute ? open(absolute, O_RDONLY | O_CLOEXEC) : -1;
    bool ok = m && fd >= 0;
    if (m)
        m->slot = -1;
    if (ok) {
        ok = map_fd(m, fd);
        size_t cap = strlen(RP_RASTER_MAP_PREFIX) + 16 + strlen(absolute);
        m->name = malloc(cap);
        m->path = strdup(path);
        ok = ok && m->name && m->path;
        if (ok)
            snprintf(m->name, cap, "%s%u%s", RP_RASTER_MAP_PREFIX,
                     atomic_fetch_add(&map_counter, 1u), absolute);
    }
    if (fd >= 0)
        close(fd); /* the mapping keeps the file */
    free(absolute);
    /* without a slot a SIGBUS could not be named: then pread */
    if (ok)
        m->slot = rp_mapped_ranges_add(m->base, m->len, m->path, RP_MAPPED_RASTER);
    if (!ok || m->slot < 0 || !register_vsimem(m)) {
        rp_raster_map_free(m);
        return NULL;
    }
    test_truncate(m);
    return m;
}

const char *rp_raster_map_name(const rp_raster_map *map) {
    return map->name;
}

bool rp_raster_map_is_name(const char *path) {
    return strncmp(path, RP_RASTER_MAP_PREFIX, strlen(RP_RASTER_MAP_PREFIX)) == 0;
}

GDALDatasetH rp_raster_map_open_name(const char *name, unsigned int flags) {
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

/* Drops [offset, offset + size) of the map from the resident set. */
static void drop_range(const rp_raster_map *m, uint64_t offset, uint64_t size) {
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    if (size == 0 || offset >= m->len)
        return;
    uint64_t end = size < m->len - offset ? offset + size : m->len;
    uint64_t from = offset / page * page;
    (void)madvise((char *)m->base + from, (size_t)(end - from), MADV_DONTNEED);
}

void rp_raster_map_done_window(const rp_raster_map *map, GDALRasterBandH band, int xoff, int yoff,
                               int w, int h) {
    int bw = 0, bh = 0;
    if (!map || w <= 0 || h <= 0)
        return;
    GDALGetBlockSize(band, &bw, &bh);
    if (bw <= 0 || bh <= 0)
        return;
    for (int by = yoff / bh; by <= (yoff + h - 1) / bh; by++) {
        for (int bx = xoff / bw; bx <= (xoff + w - 1) / bw; bx++) {
            unsigned long long offset, size;
            if (rp_gtiff_block_extent(band, bx, by, &offset, &size))
                drop_range(map, offset, size);
        }
    }
}
