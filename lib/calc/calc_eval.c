/*
 * calc_eval.c — translated expressions compiled and evaluated by muparser.
 *
 * Each worker thread owns one parser per expression, whose variables are
 * bound to that worker's arrays (mupDefineBulkVar), and evaluates a whole
 * window per call (mupEvalBulk). Debian's muparser 2.3.3 is built with
 * OpenMP and would split each bulk call over its own threads; the job already
 * runs one worker per CPU, so every thread limits OpenMP to itself first
 * (rp_calc_eval_single_thread: the OpenMP thread count is per thread).
 *
 * Errors: muparser reports positions in the translated text; they are mapped
 * back to the user's text, and internal names in its messages are replaced
 * by what the user wrote.
 *
 * Threads: a parser belongs to the thread that made it. muparser keeps no
 * shared mutable state between parser instances.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <muParserDLL.h>

#include "calc_internal.h"
#include "error.h"

/* From libgomp, which Debian's libmuparser links; declared here so that the
 * build does not depend on a compiler's omp.h. */
void omp_set_num_threads(int n);

void rp_calc_eval_single_thread(void) {
    omp_set_num_threads(1);
}

struct rp_calc_parser {
    muParserHandle_t h;
};

/* muparser's message without its own "at position N" (which counts in the
 * translated text), internal names turned back into the user's words. */
static void clean_message(const char *msg, char *out, size_t size) {
    size_t o = 0;
    for (size_t i = 0; msg[i] && o + 1 < size;) {
        if (strncmp(msg + i, " at position", 12) == 0)
            break;
        if (strncmp(msg + i, "_rpnodata", 9) == 0) {
            o += (size_t)snprintf(out + o, size - o, "nodata");
            i += 9;
        } else if (strncmp(msg + i, "_rpv", 4) == 0 || strncmp(msg + i, "_rpn", 4) == 0) {
            /* the caret shows which one */
            o += (size_t)snprintf(out + o, size - o, "%s", msg[i + 3] == 'v' ? "band" : "isnodata");
            i += 4;
            while (msg[i] >= '0' && msg[i] <= '9')
                i++;
        } else {
            out[o++] = msg[i++];
        }
        if (o >= size)
            o = size - 1;
    }
    while (o > 0 && (out[o - 1] == '.' || out[o - 1] == ' '))
        o--;
    out[o] = '\0';
}

static rp_status parser_error(muParserHandle_t h, const rp_calc_expr *e, int index, rp_error *err) {
    char what[512];
    clean_message(mupGetErrorMsg(h), what, sizeof what);
    int tpos = (int)mupGetErrorPos(h);
    int tlen = (int)strlen(e->translated);
    int pos = (tpos >= 0 && tpos <= tlen) ? e->pos_map[tpos] : (int)strlen(e->text);
    return rp_calc_expr_error(err, RP_USAGE, e->text, index, pos, what);
}

static void define_common(muParserHandle_t h, double nodata) {
    mupDefineConst(h, "_rpnodata", nodata);
}

rp_calc_parser *rp_calc_parser_new(const rp_calc_expr *e, int index, double *const *values,
                                   double *const *isnodata, double nodata, rp_error *err) {
    rp_calc_parser *p = calloc(1, sizeof *p);
    if (!p) {
        rp_error_set(err, RP_NOMEM, "out of memory");
        return NULL;
    }
    p->h = mupCreate(muBASETYPE_FLOAT);
    if (!p->h) {
        free(p);
        rp_error_set(err, RP_NOMEM, "out of memory");
        return NULL;
    }
    define_common(p->h, nodata);
    char name[32];
    for (int k = 0; k < e->nvars; k++) {
        snprintf(name, sizeof name, "_rpv%d", e->vars[k]);
        mupDefineBulkVar(p->h, name, values[e->vars[k]]);
    }
    for (int k = 0; k < e->n_nd_vars; k++) {
        snprintf(name, sizeof name, "_rpn%d", e->nd_vars[k]);
        mupDefineBulkVar(p->h, name, isnodata[e->nd_vars[k]]);
    }
    mupSetExpr(p->h, e->translated);
    if (mupError(p->h)) {
        parser_error(p->h, e, index, err);
        rp_calc_parser_free(p);
        return NULL;
    }
    return p;
}

rp_status rp_calc_parser_eval(rp_calc_parser *p, double *result, int n, rp_error *err) {
    mupEvalBulk(p->h, result, n);
    if (mupError(p->h))
        return rp_error_set(err, RP_INTERNAL, "evaluating an expression: %s", mupGetErrorMsg(p->h));
    return RP_OK;
}

void rp_calc_parser_free(rp_calc_parser *p) {
    if (!p)
        return;
    if (p->h)
        mupRelease(p->h);
    free(p);
}

rp_status rp_calc_expr_check(const rp_calc_expr *e, int index, int nrefs, rp_error *err) {
    muParserHandle_t h = mupCreate(muBASETYPE_FLOAT);
    if (!h)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    double *dummies = calloc((size_t)(2 * nrefs + 1), sizeof *dummies);
    if (!dummies) {
        mupRelease(h);
        return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    define_common(h, 0.0);
    char name[32];
    for (int k = 0; k < e->nvars; k++) {
        snprintf(name, sizeof name, "_rpv%d", e->vars[k]);
        mupDefineVar(h, name, &dummies[e->vars[k]]);
    }
    for (int k = 0; k < e->n_nd_vars; k++) {
        snprintf(name, sizeof name, "_rpn%d", e->nd_vars[k]);
        mupDefineVar(h, name, &dummies[nrefs + e->nd_vars[k]]);
    }
    rp_status rc = RP_OK;
    mupSetExpr(h, e->translated);
    if (mupError(h)) {
        rc = parser_error(h, e, index, err);
    } else {
        int nresults = 0;
        mupEvalMulti(h, &nresults);
        if (mupError(h))
            rc = parser_error(h, e, index, err);
        else if (nresults != 1)
            rc = rp_error_set(err, RP_USAGE,
                              "expression %d gives %d values; give one expression per band with "
                              "-e (e.g. -e \"A[3]\" -e \"A[2]\")",
                              index + 1, nresults);
    }
    free(dummies);
    mupRelease(h);
    return rc;
}
