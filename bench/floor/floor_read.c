/* floor_read — the hardware floor of point extraction on local rasters.
 *
 * It does only what no extractor can avoid: decode every block that the
 * points touch, once, with N threads. Nothing else: no points to parse, no
 * planning, no values to write. rasterpool's end-to-end time divided by this
 * program's time is bench/'s headline number for local data.
 *
 * Input: a raster and a text file of the touched blocks, one "XBLOCK YBLOCK"
 * pair a line (bench/ computes it from the points with numpy). Every band is
 * read, as rasterpool reads every band by default.
 *
 * Threads: N workers, each opening its own GDAL dataset (GDAL handles are
 * not thread-safe), take the next block index from one atomic counter and
 * read it with GDALReadBlock (no block cache, as rasterpool). The main thread
 * only waits. Each worker owns its buffer; nothing is shared but the counter
 * and the read-only block list.
 *
 * With a fourth argument "map", the raster is read as rasterpool reads a
 * local GeoTIFF (lib/gdal/raster_map.c): the file mapped into memory and
 * opened as a /vsimem/ file with GTIFF_USE_MMAP=YES, so libtiff decodes each
 * tile from the page cache in place instead of the kernel copying it into
 * GDAL's buffer first. The floor of that way of reading.
 *
 * Usage: floor_read RASTER BLOCKS_FILE THREADS [map]
 * Prints "blocks N bands B threads T" on stdout; exits 1 on any error.
 */
#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <gdal.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    int x, y;
} block_xy;

typedef struct {
    const char *path;
    const block_xy *blocks;
    size_t nblocks;
    atomic_size_t next;
    atomic_int failed;
} shared_work;

static void *read_blocks(void *arg) {
    shared_work *work = arg;
    GDALDatasetH ds = GDALOpenEx(work->path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) {
        atomic_store(&work->failed, 1);
        return NULL;
    }
    int nbands = GDALGetRasterCount(ds);
    GDALRasterBandH band1 = GDALGetRasterBand(ds, 1);
    int bw, bh;
    GDALGetBlockSize(band1, &bw, &bh);
    int dtsize = GDALGetDataTypeSizeBytes(GDALGetRasterDataType(band1));
    void *buf = malloc((size_t)bw * (size_t)bh * (size_t)dtsize);
    if (!buf)
        atomic_store(&work->failed, 1);
    while (buf && !atomic_load(&work->failed)) {
        size_t i = atomic_fetch_add(&work->next, 1);
        if (i >= work->nblocks)
            break;
        for (int b = 1; b <= nbands; b++) {
            if (GDALReadBlock(GDALGetRasterBand(ds, b), work->blocks[i].x, work->blocks[i].y,
                              buf) != CE_None) {
                atomic_store(&work->failed, 1);
                break;
            }
        }
    }
    free(buf);
    GDALClose(ds);
    return NULL;
}

static block_xy *load_blocks(const char *path, size_t *count) {
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1024, n = 0;
    block_xy *blocks = malloc(cap * sizeof *blocks);
    int x, y;
    while (blocks && fscanf(f, "%d %d", &x, &y) == 2) {
        if (n == cap) {
            block_xy *grown = realloc(blocks, 2 * cap * sizeof *blocks);
            if (!grown) {
                free(blocks);
                blocks = NULL;
                break;
            }
            blocks = grown;
            cap *= 2;
        }
        blocks[n].x = x;
        blocks[n].y = y;
        n++;
    }
    fclose(f);
    *count = n;
    return blocks;
}

/* path mapped and registered as a /vsimem/ file (the mapping lives until
 * the process ends); NULL on failure. */
static const char *map_raster(const char *path) {
    static char name[4096];
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    void *base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    snprintf(name, sizeof name, "/vsimem/floor_read/%s", path);
    VSILFILE *fp = base == MAP_FAILED
                       ? NULL
                       : VSIFileFromMemBuffer(name, base, (vsi_l_offset)st.st_size, FALSE);
    if (!fp)
        return NULL;
    VSIFCloseL(fp);
    CPLSetConfigOption("GTIFF_USE_MMAP", "YES");
    return name;
}

int main(int argc, char **argv) {
    if (argc != 4 && !(argc == 5 && strcmp(argv[4], "map") == 0)) {
        fprintf(stderr, "usage: floor_read RASTER BLOCKS_FILE THREADS [map]\n");
        return 2;
    }
    int nthreads = atoi(argv[3]);
    if (nthreads < 1 || nthreads > 1024) {
        fprintf(stderr, "floor_read: THREADS must be 1..1024\n");
        return 2;
    }
    size_t nblocks = 0;
    block_xy *blocks = load_blocks(argv[2], &nblocks);
    if (!blocks) {
        fprintf(stderr, "floor_read: cannot read %s\n", argv[2]);
        return 1;
    }
    GDALAllRegister();
    const char *path = argc == 5 ? map_raster(argv[1]) : argv[1];
    if (!path) {
        fprintf(stderr, "floor_read: cannot map %s\n", argv[1]);
        return 1;
    }

    shared_work work = {.path = path, .blocks = blocks, .nblocks = nblocks};
    atomic_init(&work.next, 0);
    atomic_init(&work.failed, 0);
    pthread_t *threads = calloc((size_t)nthreads, sizeof *threads);
    int started = 0;
    for (; threads && started < nthreads; started++)
        if (pthread_create(&threads[started], NULL, read_blocks, &work) != 0)
            break;
    for (int t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    int ok = threads && started == nthreads && !atomic_load(&work.failed);
    free(threads);
    free(blocks);

    GDALDatasetH ds = GDALOpen(argv[1], GA_ReadOnly);
    int nbands = ds ? GDALGetRasterCount(ds) : 0;
    if (ds)
        GDALClose(ds);
    if (!ok) {
        fprintf(stderr, "floor_read: reading %s failed\n", argv[1]);
        return 1;
    }
    printf("blocks %zu bands %d threads %d\n", nblocks, nbands, nthreads);
    return 0;
}
