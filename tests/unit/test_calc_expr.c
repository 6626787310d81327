/*
 * test_calc_expr.c — calc's expression translation (band references,
 * keywords, positions of errors), muparser evaluation on the calling thread
 * only, and the conversion of results to output types. Expected values are
 * written out by hand.
 */
#include <dirent.h>
#include <float.h>
#include <pthread.h>
#include <stdint.h>

#include "calc_internal.h"
#include "check.h"

static const rp_calc_input inputs[] = {{.name = "A", .path = "a.tif"},
                                       {.name = "nir", .path = "b.tif"}};

/* Translates; returns the status and leaves the message in err. */
static rp_status tr(const char *text, rp_calc_expr *e, rp_calc_ref **refs, int *nrefs,
                    rp_error *err) {
    rp_error_clear(err);
    return rp_calc_expr_translate(text, 0, inputs, 2, e, refs, nrefs, err);
}

static void test_translation(void) {
    rp_calc_expr e;
    rp_calc_ref *refs = NULL;
    int nrefs = 0;
    rp_error err;
    CHECK_EQ_INT(tr("(A[2] - nir) / (A[2] + nir)", &e, &refs, &nrefs, &err), RP_OK);
    CHECK_EQ_STR(e.translated, "(_rpv0 - _rpv1) / (_rpv0 + _rpv1)");
    CHECK_EQ_INT(nrefs, 2);
    CHECK_EQ_INT(refs[0].input, 0);
    CHECK_EQ_INT(refs[0].band, 2);
    CHECK_EQ_INT(refs[1].input, 1);
    CHECK_EQ_INT(refs[1].band, 1);
    CHECK_EQ_INT(e.nvars, 2);
    /* "_rpv1" at translated offset 9 came from "nir" at offset 8 */
    CHECK_EQ_INT(e.pos_map[9], 8);
    rp_calc_expr_clear(&e);

    /* a second expression reuses refs; A and A[1] are the same band */
    CHECK_EQ_INT(tr("A + A[1] + A [ 2 ] + 1e5 + 2.5E-3", &e, &refs, &nrefs, &err), RP_OK);
    CHECK_EQ_STR(e.translated, "_rpv2 + _rpv2 + _rpv0 + 1e5 + 2.5E-3");
    CHECK_EQ_INT(nrefs, 3);
    rp_calc_expr_clear(&e);

    CHECK_EQ_INT(tr("isnodata(A[2]) ? nodata : A[2]", &e, &refs, &nrefs, &err), RP_OK);
    CHECK_EQ_STR(e.translated, "_rpn0 ? _rpnodata : _rpv0");
    CHECK(e.uses_nodata);
    CHECK_EQ_INT(e.n_nd_vars, 1);
    rp_calc_expr_clear(&e);

    CHECK_EQ_INT(tr("min(A, _pi) * sqrt(nir)", &e, &refs, &nrefs, &err), RP_OK);
    CHECK_EQ_STR(e.translated, "min(_rpv2, _pi) * sqrt(_rpv1)");
    rp_calc_expr_clear(&e);

    /* errors name the position (1-based) and draw a caret under it */
    CHECK_EQ_INT(tr("A + B", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK(strstr(err.message, "unknown name 'B' (inputs: A, nir) at character 5") != NULL);
    CHECK(strstr(err.message, "\n  A + B\n      ^") != NULL);
    CHECK_EQ_INT(tr("A[0]", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK(strstr(err.message, "numbered from 1") != NULL);
    CHECK_EQ_INT(tr("A[2", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK(strstr(err.message, "without a closing ']' at character 2") != NULL);
    CHECK_EQ_INT(tr("[2]", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK_EQ_INT(tr("A(2)", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK_EQ_INT(tr("isnodata(3)", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK_EQ_INT(tr("_rpv0 + 1", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK_EQ_INT(tr("   ", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK_EQ_INT(tr("A[99999999999]", &e, &refs, &nrefs, &err), RP_USAGE);
    free(refs);
}

/* One token class at a time: numbers, isnodata() with spaces, the nodata
 * keyword, constants and calls passed through, and each class's errors. */
static void test_translation_tokens(void) {
    rp_calc_expr e;
    rp_calc_ref *refs = NULL;
    int nrefs = 0;
    rp_error err;
    /* numbers: a leading dot, a dot before the exponent */
    CHECK_EQ_INT(tr(".5 + 2.e3 * A", &e, &refs, &nrefs, &err), RP_OK);
    CHECK_EQ_STR(e.translated, ".5 + 2.e3 * _rpv0");
    rp_calc_expr_clear(&e);
    /* a dangling exponent is not part of the number: `e` is a name */
    CHECK_EQ_INT(tr("2e", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK(strstr(err.message, "unknown name 'e' (inputs: A, nir) at character 2") != NULL);
    CHECK_EQ_INT(tr("1e+A", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK(strstr(err.message, "unknown name 'e' (inputs: A, nir) at character 2") != NULL);

    /* isnodata with spaces everywhere; positions map back to the user's text */
    CHECK_EQ_INT(tr("isnodata ( nir [ 2 ] ) + nodata", &e, &refs, &nrefs, &err), RP_OK);
    CHECK_EQ_STR(e.translated, "_rpn1 + _rpnodata");
    CHECK_EQ_INT(e.n_nd_vars, 1);
    CHECK_EQ_INT(e.nd_vars[0], 1);
    CHECK_EQ_INT(e.nvars, 0);
    CHECK(e.uses_nodata);
    CHECK_EQ_INT(refs[1].input, 1);
    CHECK_EQ_INT(refs[1].band, 2);
    CHECK_EQ_INT(e.pos_map[0], 0);   /* _rpn1 <- "isnodata" */
    CHECK_EQ_INT(e.pos_map[6], 23);  /* '+' */
    CHECK_EQ_INT(e.pos_map[8], 25);  /* _rpnodata <- "nodata" */
    CHECK_EQ_INT(e.pos_map[17], 31); /* the end */
    rp_calc_expr_clear(&e);
    CHECK_EQ_INT(tr("isnodata + 1", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK(strstr(err.message, "isnodata needs a band") != NULL);
    CHECK(strstr(err.message, "at character 1") != NULL);
    CHECK_EQ_INT(tr("isnodata(A", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK(strstr(err.message, "isnodata takes one input band") != NULL);
    CHECK(strstr(err.message, "at character 11") != NULL);

    /* a constant and calls pass through (nodata called is muparser's to reject) */
    CHECK_EQ_INT(tr("_e * nodata(1)", &e, &refs, &nrefs, &err), RP_OK);
    CHECK_EQ_STR(e.translated, "_e * nodata(1)");
    CHECK(!e.uses_nodata);
    rp_calc_expr_clear(&e);
    CHECK_EQ_INT(tr("_rpx(A)", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK(strstr(err.message, "names starting with _rp are reserved at character 1") != NULL);

    /* characters that are no token of calc's */
    CHECK_EQ_INT(tr("A + \"x\"", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK(strstr(err.message, "text values are not supported at character 5") != NULL);
    CHECK_EQ_INT(tr("A]", &e, &refs, &nrefs, &err), RP_USAGE);
    CHECK(strstr(err.message, "brackets select a band") != NULL);
    CHECK(strstr(err.message, "at character 2") != NULL);
    free(refs);
}

/* muparser's own errors come back at the user's position */
static void test_check(void) {
    rp_calc_expr e;
    rp_calc_ref *refs = NULL;
    int nrefs = 0;
    rp_error err;
    CHECK_EQ_INT(tr("(nir - A[3]) / ", &e, &refs, &nrefs, &err), RP_OK);
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_calc_expr_check(&e, 0, nrefs, &err), RP_USAGE);
    CHECK(strstr(err.message, "expression 1: ") == err.message);
    CHECK(strstr(err.message, "_rp") == NULL); /* no internal name leaks */
    rp_calc_expr_clear(&e);

    CHECK_EQ_INT(tr("A +* nir", &e, &refs, &nrefs, &err), RP_OK);
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_calc_expr_check(&e, 0, nrefs, &err), RP_USAGE);
    CHECK(strstr(err.message, "at character 4") != NULL);
    rp_calc_expr_clear(&e);

    CHECK_EQ_INT(tr("nosuchfn(A)", &e, &refs, &nrefs, &err), RP_OK);
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_calc_expr_check(&e, 0, nrefs, &err), RP_USAGE);
    CHECK(strstr(err.message, "at character 1") != NULL);
    rp_calc_expr_clear(&e);

    CHECK_EQ_INT(tr("A, nir", &e, &refs, &nrefs, &err), RP_OK);
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_calc_expr_check(&e, 0, nrefs, &err), RP_USAGE);
    CHECK(strstr(err.message, "gives 2 values") != NULL);
    rp_calc_expr_clear(&e);

    CHECK_EQ_INT(tr("A > 2 ? A : nodata", &e, &refs, &nrefs, &err), RP_OK);
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_calc_expr_check(&e, 0, nrefs, &err), RP_OK);
    rp_calc_expr_clear(&e);
    free(refs);
}

static int count_threads(void) {
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *de; (de = readdir(d));)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Bulk evaluation; and it starts no OpenMP threads of its own. */
static void *eval_thread(void *arg) {
    int *threads_seen = arg;
    rp_calc_eval_single_thread();
    rp_calc_expr e;
    rp_calc_ref *refs = NULL;
    int nrefs = 0;
    rp_error err;
    CHECK_EQ_INT(tr("A > 2 ? A * 2 + 1 : nodata", &e, &refs, &nrefs, &err), RP_OK);
    enum { N = 100000 };
    double *a = malloc(N * sizeof *a), *nd = calloc(N, sizeof *nd), *out = malloc(N * sizeof *out);
    for (int i = 0; i < N; i++)
        a[i] = i % 5;
    double *values[1] = {a}, *isnd[1] = {nd};
    rp_error_clear(&err);
    rp_calc_parser *p = rp_calc_parser_new(&e, 0, values, isnd, -9, &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ_INT(rp_calc_parser_eval(p, out, N, &err), RP_OK);
        int bad = 0;
        for (int i = 0; i < N; i++)
            bad += out[i] != (a[i] > 2 ? a[i] * 2 + 1 : -9);
        CHECK_EQ_INT(bad, 0);
    }
    *threads_seen = count_threads();
    rp_calc_parser_free(p);
    rp_calc_expr_clear(&e);
    free(refs);
    free(a);
    free(nd);
    free(out);
    return NULL;
}

static void *count_thread(void *arg) {
    *(int *)arg = count_threads();
    return NULL;
}

static void test_eval_single_thread(void) {
    /* the same count from a thread that evaluated nothing (sanitizers may
     * run a thread of their own once threads exist) */
    int baseline = 0, seen = 0;
    pthread_t t;
    pthread_create(&t, NULL, count_thread, &baseline);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, eval_thread, &seen);
    pthread_join(t, NULL);
    /* no OpenMP team was started by the evaluation */
    CHECK(baseline > 1);
    CHECK_EQ_INT(seen, baseline);
}

static void test_convert(void) {
    const double in[] = {-1.5, -0.5, 0.5, 1.49, 254.5, 300, NAN, INFINITY, -INFINITY};
    uint8_t b[9];
    rp_calc_convert(in, 9, GDT_Byte, b, 7);
    const uint8_t want_b[] = {0, 0, 1, 1, 255, 255, 7, 255, 0};
    CHECK(memcmp(b, want_b, sizeof b) == 0);
    int16_t s[9];
    rp_calc_convert(in, 9, GDT_Int16, s, -1);
    const int16_t want_s[] = {-2, -1, 1, 1, 255, 300, -1, 32767, -32768};
    CHECK(memcmp(s, want_s, sizeof s) == 0);
    const double big[] = {1e39, -1e39, (double)FLT_MAX, 0.1};
    float f[4];
    rp_calc_convert(big, 4, GDT_Float32, f, 0);
    CHECK(isinf(f[0]) && f[0] > 0);
    CHECK(isinf(f[1]) && f[1] < 0);
    CHECK(f[2] == FLT_MAX);
    CHECK(f[3] == 0.1f);
    CHECK(rp_calc_value_fits(255, GDT_Byte));
    CHECK(!rp_calc_value_fits(256, GDT_Byte));
    CHECK(!rp_calc_value_fits(1.5, GDT_Int16));
    CHECK(!rp_calc_value_fits(NAN, GDT_UInt16));
    CHECK(rp_calc_value_fits(NAN, GDT_Float32));
    CHECK(!rp_calc_value_fits(1e300, GDT_Float32));
    CHECK(rp_calc_value_fits(-9999, GDT_Float32));
}

int main(void) {
    test_translation();
    test_translation_tokens();
    test_check();
    test_eval_single_thread();
    test_convert();
    return CHECK_DONE();
}
