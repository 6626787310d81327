/*
 * test_zonal_sort.c — the value lists' sort (zonal_sort.c) against the
 * stable sort by (value, weight) built independently: qsort on a total
 * order (value, weight, then input position), compared bit for bit (so -0
 * against +0 and the order of equal pairs count). Random lists with many
 * ties, -0 and +0, infinities, subnormals, Float32-like values, all-equal,
 * sorted and reversed lists, at sizes either side of the radix threshold;
 * and lists with a NaN against glibc's qsort with the comparator the code
 * used before.
 */
#include <stdint.h>

#include "check.h"
#include "zonal_sort.h"

typedef struct {
    double v, w;
    size_t at;
} item;

static int cmp_total(const void *pa, const void *pb) {
    const item *x = pa, *y = pb;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    if (x->w != y->w)
        return x->w < y->w ? -1 : 1;
    return (x->at > y->at) - (x->at < y->at);
}

static int cmp_pair(const void *pa, const void *pb) {
    const double *x = pa, *y = pb;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

static uint64_t rng_state = 88172645463325252u;
static uint64_t next(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double pick_value(int kind) {
    static const double few[] = {-0.0,     0.0,       1.0,   -1.0,   2.5, INFINITY, -INFINITY,
                                 4.9e-324, -4.9e-324, 1e308, -1e308, 3.0, 1e-300};
    switch (kind) {
    case 0: return few[next() % (sizeof few / sizeof *few)];
    case 1: return (double)(float)((double)(next() % 2000000) / 1000.0 - 700.0);
    case 2: {
        double d;
        uint64_t u = next();
        memcpy(&d, &u, sizeof d);
        return isnan(d) ? 0.5 : d;
    }
    case 3: return 42.0;
    default: return (double)(next() % 7);
    }
}

static double pick_weight(int kind) {
    static const double few[] = {1.0, 0.5, 0.0, -0.0, 0.25, 1.0, 1.0};
    if (kind == 3)
        return 1.0;
    return few[next() % (sizeof few / sizeof *few)];
}

/* Sorts one list both ways; 0 on agreement. */
static int compare(double *p, size_t n) {
    item *ref = malloc((n ? n : 1) * sizeof *ref);
    for (size_t i = 0; i < n; i++)
        ref[i] = (item){p[2 * i], p[2 * i + 1], i};
    qsort(ref, n, sizeof *ref, cmp_total);
    zonal_pairs_sort(p, n);
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++)
        bad = memcmp(&p[2 * i], &ref[i].v, sizeof(double)) != 0 ||
              memcmp(&p[2 * i + 1], &ref[i].w, sizeof(double)) != 0;
    free(ref);
    return bad;
}

static void random_lists(void) {
    static const size_t sizes[] = {0, 1, 2, 3, 16, 17, 100, 255, 256, 257, 1000, 4097, 100000};
    for (int kind = 0; kind < 5; kind++)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            size_t n = sizes[s];
            double *p = malloc((n ? n : 1) * 2 * sizeof *p);
            for (size_t i = 0; i < n; i++) {
                p[2 * i] = pick_value(kind);
                p[2 * i + 1] = pick_weight(kind);
            }
            int bad = compare(p, n);
            if (bad)
                fprintf(stderr, "kind %d, %zu pairs\n", kind, n);
            CHECK(!bad);
            /* sorted already, then reversed */
            CHECK(!compare(p, n));
            for (size_t i = 0; i < n / 2; i++)
                for (int k = 0; k < 2; k++) {
                    double t = p[2 * i + k];
                    p[2 * i + k] = p[2 * (n - 1 - i) + k];
                    p[2 * (n - 1 - i) + k] = t;
                }
            CHECK(!compare(p, n));
            free(p);
        }
}

/* A NaN anywhere: the order qsort gives with the former comparator. */
static void nan_lists(void) {
    static const size_t sizes[] = {5, 300, 5000};
    for (size_t s = 0; s < 3; s++) {
        size_t n = sizes[s];
        double *p = malloc(n * 2 * sizeof *p), *q = malloc(n * 2 * sizeof *q);
        for (size_t i = 0; i < n; i++) {
            p[2 * i] = i % 11 == 3 ? NAN : pick_value(4);
            p[2 * i + 1] = pick_weight(0);
        }
        memcpy(q, p, n * 2 * sizeof *p);
        qsort(q, n, 2 * sizeof *q, cmp_pair);
        zonal_pairs_sort(p, n);
        CHECK(memcmp(p, q, n * 2 * sizeof *p) == 0);
        free(p);
        free(q);
    }
}

/* glibc's qsort is the former code: it agrees with the stable reference. */
static void qsort_is_stable(void) {
    size_t n = 50000;
    double *p = malloc(n * 2 * sizeof *p), *q = malloc(n * 2 * sizeof *q);
    for (size_t i = 0; i < n; i++) {
        p[2 * i] = pick_value(0);
        p[2 * i + 1] = pick_weight(0);
    }
    memcpy(q, p, n * 2 * sizeof *p);
    qsort(q, n, 2 * sizeof *q, cmp_pair);
    zonal_pairs_sort(p, n);
    CHECK(memcmp(p, q, n * 2 * sizeof *p) == 0);
    free(p);
    free(q);
}

int main(void) {
    random_lists();
    nan_lists();
    qsort_is_stable();
    printf("%d checks, %d failures\n", check_count, check_failures);
    return check_failures ? 1 : 0;
}
