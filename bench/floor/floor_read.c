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
 * Usage: floor_read RASTER BLOCKS_FILE THREADS
 * Prints "blocks N bands B threads T" on stdout; exits 1 on any error.
 */
#include <cpl_conv.h>
#include <gdal.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

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

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: floor_read RASTER BLOCKS_FILE THREADS\n");
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

    shared_work work = {.path = argv[1], .blocks = blocks, .nblocks = nblocks};
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
