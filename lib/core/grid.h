/*
 * grid.h — the raster's pixel grid: geotransform arithmetic that
 * maps a coordinate to a cell and a cell to a block. Pure; no GDAL.
 */
#ifndef RP_GRID_H
#define RP_GRID_H
#include <stdbool.h>
#include <stdint.h>

typedef struct rp_grid {
    double gt[6];  /* GDAL geotransform */
    double inv[6]; /* its inverse (used when the grid is rotated) */
    bool rotated;  /* gt[2] or gt[4] non-zero */
    int64_t width, height;
    int64_t block_w, block_h;
    int64_t blocks_x, blocks_y; /* blocks across and down (partial ones included) */
} rp_grid;

/* Fills grid from a geotransform, the raster size and its block size.
 * Returns false when the geotransform cannot be inverted or sizes are not
 * positive. */
bool rp_grid_init(rp_grid *grid, const double gt[6], int64_t width, int64_t height, int64_t block_w,
                  int64_t block_h);

/* The cell holding (x, y), pixel-is-area: col = floor(px), row = floor(py).
 * A point on an interior cell edge belongs to the higher column/row; the
 * outer edges, right and bottom included, are inside (px == width maps to
 * the last column). Returns false for points further out and for NaN. */
bool rp_grid_locate(const rp_grid *grid, double x, double y, int64_t *col, int64_t *row);

/* Pixel coordinates (px, py) of (x, y), before flooring. */
void rp_grid_pixel(const rp_grid *grid, double x, double y, double *px, double *py);

#endif
