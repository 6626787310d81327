/* test_grid.c — the cell convention, against hand-computed cells. */
#include <float.h>

#include "check.h"
#include "grid.h"

static void north_up(void) {
    /* 10 x 5 cells of 2 x 2 units, origin (100, 50), y down */
    rp_grid g;
    double gt[6] = {100, 2, 0, 50, 0, -2};
    CHECK(rp_grid_init(&g, gt, 10, 5, 4, 4));
    CHECK_EQ_INT(g.blocks_x, 3);
    CHECK_EQ_INT(g.blocks_y, 2);
    int64_t c, r;
    /* centre of cell (0, 0) */
    CHECK(rp_grid_locate(&g, 101, 49, &c, &r));
    CHECK_EQ_INT(c, 0);
    CHECK_EQ_INT(r, 0);
    /* top-left corner: inside, cell (0, 0) */
    CHECK(rp_grid_locate(&g, 100, 50, &c, &r));
    CHECK_EQ_INT(c, 0);
    CHECK_EQ_INT(r, 0);
    /* interior vertical edge x = 102 goes to the higher column */
    CHECK(rp_grid_locate(&g, 102, 49, &c, &r));
    CHECK_EQ_INT(c, 1);
    /* interior horizontal edge y = 48 goes to the higher row */
    CHECK(rp_grid_locate(&g, 101, 48, &c, &r));
    CHECK_EQ_INT(r, 1);
    /* right and bottom outer edges are inside: last column / row */
    CHECK(rp_grid_locate(&g, 120, 49, &c, &r));
    CHECK_EQ_INT(c, 9);
    CHECK(rp_grid_locate(&g, 101, 40, &c, &r));
    CHECK_EQ_INT(r, 4);
    CHECK(rp_grid_locate(&g, 120, 40, &c, &r));
    CHECK_EQ_INT(c, 9);
    CHECK_EQ_INT(r, 4);
    /* one ulp outside every edge is outside */
    CHECK(!rp_grid_locate(&g, nextafter(100, 0), 49, &c, &r));
    CHECK(!rp_grid_locate(&g, nextafter(120, 200), 49, &c, &r));
    CHECK(!rp_grid_locate(&g, 101, nextafter(50, 100), &c, &r));
    CHECK(!rp_grid_locate(&g, 101, nextafter(40, 0), &c, &r));
    /* one ulp inside the far edges is the last cell */
    CHECK(rp_grid_locate(&g, nextafter(120, 0), nextafter(40, 100), &c, &r));
    CHECK_EQ_INT(c, 9);
    CHECK_EQ_INT(r, 4);
    /* NaN and infinities are outside */
    CHECK(!rp_grid_locate(&g, NAN, 49, &c, &r));
    CHECK(!rp_grid_locate(&g, 101, NAN, &c, &r));
    CHECK(!rp_grid_locate(&g, INFINITY, 49, &c, &r));
    CHECK(!rp_grid_locate(&g, -INFINITY, 49, &c, &r));
}

static void large_origin(void) {
    /* UTM-like origin, 30 m cells */
    rp_grid g;
    double gt[6] = {500000, 30, 0, 4000000, 0, -30};
    CHECK(rp_grid_init(&g, gt, 100, 100, 16, 16));
    int64_t c, r;
    CHECK(rp_grid_locate(&g, 503000, 3997000, &c, &r));
    CHECK_EQ_INT(c, 99);
    CHECK_EQ_INT(r, 99);
    CHECK(!rp_grid_locate(&g, nextafter(503000, 1e9), 3999000, &c, &r));
    CHECK(rp_grid_locate(&g, 500030, 3999970, &c, &r)); /* interior corner */
    CHECK_EQ_INT(c, 1);
    CHECK_EQ_INT(r, 1);
}

static void south_up(void) {
    rp_grid g;
    double gt[6] = {0, 1, 0, 0, 0, 1}; /* y grows with rows */
    CHECK(rp_grid_init(&g, gt, 4, 4, 4, 4));
    int64_t c, r;
    CHECK(rp_grid_locate(&g, 0.5, 3.5, &c, &r));
    CHECK_EQ_INT(r, 3);
    CHECK(!rp_grid_locate(&g, 0.5, -0.5, &c, &r));
}

static void rotated(void) {
    /* 90 degrees: columns go down (y decreasing), rows go right */
    rp_grid g;
    double gt[6] = {10, 0, 1, 20, -1, 0};
    CHECK(rp_grid_init(&g, gt, 3, 2, 3, 2));
    CHECK(g.rotated);
    int64_t c, r;
    /* pixel (col 2.5, row 1.5): x = 10 + 1.5 = 11.5, y = 20 - 2.5 = 17.5 */
    CHECK(rp_grid_locate(&g, 11.5, 17.5, &c, &r));
    CHECK_EQ_INT(c, 2);
    CHECK_EQ_INT(r, 1);
    /* pixel (0.5, 0.5) */
    CHECK(rp_grid_locate(&g, 10.5, 19.5, &c, &r));
    CHECK_EQ_INT(c, 0);
    CHECK_EQ_INT(r, 0);
    /* beyond the last row */
    CHECK(!rp_grid_locate(&g, 12.5, 19.5, &c, &r));
    /* sheared grid: px = x - y*0.5 (for gt = 0,1,0.5, 0,0,1) */
    double sh[6] = {0, 1, 0.5, 0, 0, 1};
    CHECK(rp_grid_init(&g, sh, 4, 4, 4, 4));
    CHECK(rp_grid_locate(&g, 2.25, 1.5, &c, &r)); /* px = 2.25 - 0.75 = 1.5 */
    CHECK_EQ_INT(c, 1);
    CHECK_EQ_INT(r, 1);
}

static void invalid(void) {
    rp_grid g;
    double zero[6] = {0, 0, 0, 0, 0, 0};
    CHECK(!rp_grid_init(&g, zero, 10, 10, 1, 1));
    double gt[6] = {0, 1, 0, 0, 0, -1};
    CHECK(!rp_grid_init(&g, gt, 0, 10, 1, 1));
    CHECK(!rp_grid_init(&g, gt, 10, 10, 0, 1));
    double nan_gt[6] = {NAN, 1, 0, 0, 0, -1};
    CHECK(!rp_grid_init(&g, nan_gt, 10, 10, 1, 1));
}

int main(void) {
    north_up();
    large_origin();
    south_up();
    rotated();
    invalid();
    return CHECK_DONE();
}
