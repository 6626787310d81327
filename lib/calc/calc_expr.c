/*
 * calc_expr.c — calc expressions, translated for muparser.
 *
 * muparser (a well-kept Debian library, also behind GDAL's newer raster
 * calc) does the parsing and evaluation; it has no `A[3]` syntax and no
 * notion of nodata, so this file rewrites those parts of the user's text and
 * leaves everything else (numbers, operators, functions) to muparser:
 *   A, A[1]          -> _rpv<k>   the value of band 1 of input A
 *   A[3]             -> _rpv<k>   band 3
 *   isnodata(A[2])   -> _rpn<k>   1 where that band is nodata, else 0
 *   nodata           -> _rpnodata the output's nodata value
 * Every character of the translation keeps the offset in the user's text it
 * came from, so muparser's errors point at what the user typed. Names that
 * are not inputs and are not called like functions are rejected here with a
 * list of the inputs; internal names cannot collide with the user's because
 * every bare name the user writes is either an input, a keyword, a muparser
 * constant, or an error.
 *
 * Threads: none; pure text processing. Ownership: rp_calc_expr owns its
 * strings and arrays (rp_calc_expr_clear).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "calc_internal.h"
#include "error.h"

/* muparser 2.3's built-in functions and constants, and calc's keywords. */
static const char *const reserved_names[] = {
    "sin",   "cos",   "tan",  "asin",  "acos", "atan", "sinh", "cosh",   "tanh",     "asinh",
    "acosh", "atanh", "log2", "log10", "log",  "ln",   "exp",  "sqrt",   "sign",     "rint",
    "abs",   "min",   "max",  "sum",   "avg",  "_pi",  "_e",   "nodata", "isnodata", NULL};

bool rp_calc_name_reserved(const char *name) {
    for (int i = 0; reserved_names[i]; i++)
        if (strcmp(name, reserved_names[i]) == 0)
            return true;
    return strncmp(name, "_rp", 3) == 0;
}

void rp_calc_expr_clear(rp_calc_expr *e) {
    if (!e)
        return;
    free(e->text);
    free(e->translated);
    free(e->pos_map);
    free(e->vars);
    free(e->nd_vars);
    memset(e, 0, sizeof *e);
}

rp_status rp_calc_expr_error(rp_error *err, rp_status code, const char *text, int index, int pos,
                             const char *what) {
    int len = (int)strlen(text);
    if (pos < 0)
        pos = 0;
    if (pos > len)
        pos = len;
    /* Show at most 70 characters of a long expression, around the error. */
    int from = pos > 50 ? pos - 50 : 0;
    int shown = len - from > 70 ? 70 : len - from;
    char line[80];
    for (int i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)text[from + i];
        line[i] = (c < 32 || c == 127) ? ' ' : (char)c; /* keep the caret aligned */
    }
    line[shown] = '\0';
    return rp_error_set(err, code, "expression %d: %s at character %d:\n  %s%s\n  %*s^", index + 1,
                        what, pos + 1, from ? "..." : "", line, pos - from + (from ? 3 : 0), "");
}

typedef struct builder {
    char *out;
    int *map;
    size_t len, cap;
    bool oom;
} builder;

static void put(builder *b, const char *s, size_t n, int origin) {
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *o = realloc(b->out, cap);
        if (o)
            b->out = o;
        int *m = realloc(b->map, cap * sizeof *m);
        if (m)
            b->map = m;
        if (!o || !m) {
            b->oom = true;
            return;
        }
        b->cap = cap;
    }
    memcpy(b->out + b->len, s, n);
    for (size_t i = 0; i < n; i++)
        b->map[b->len + i] = origin < 0 ? -1 : origin;
    b->len += n;
    b->out[b->len] = '\0';
}

/* Copies text[from, to) keeping each character's own offset. */
static void put_span(builder *b, const char *text, int from, int to) {
    for (int i = from; i < to; i++)
        put(b, text + i, 1, i);
}

static int add_unique(int **list, int *n, int value) {
    for (int i = 0; i < *n; i++)
        if ((*list)[i] == value)
            return 0;
    int *grown = realloc(*list, (size_t)(*n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    *list = grown;
    grown[(*n)++] = value;
    return 0;
}

/* The ref index of (input, band), appended when new; -1 when out of memory. */
static int ref_index(rp_calc_ref **refs, int *nrefs, int input, int band, int expr, int pos) {
    for (int k = 0; k < *nrefs; k++)
        if ((*refs)[k].input == input && (*refs)[k].band == band)
            return k;
    rp_calc_ref *grown = realloc(*refs, (size_t)(*nrefs + 1) * sizeof *grown);
    if (!grown)
        return -1;
    *refs = grown;
    grown[*nrefs] = (rp_calc_ref){.input = input, .band = band, .expr = expr, .pos = pos};
    return (*nrefs)++;
}

static int skip_space(const char *t, int i) {
    while (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')
        i++;
    return i;
}

static bool name_start(char c) {
    return isalpha((unsigned char)c) || c == '_';
}

static bool name_char(char c) {
    return isalnum((unsigned char)c) || c == '_';
}

static int find_input(const rp_calc_input *inputs, int ninputs, const char *name, int len) {
    for (int k = 0; k < ninputs; k++)
        if ((int)strlen(inputs[k].name) == len && strncmp(inputs[k].name, name, (size_t)len) == 0)
            return k;
    return -1;
}

static void input_list(const rp_calc_input *inputs, int ninputs, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < ninputs && used + 1 < size; k++) {
        int n = snprintf(buf + used, size - used, "%s%s", k ? ", " : "", inputs[k].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* Parses a band reference at text[*i] (an input name, maybe [n]); on
 * success *i is past it. */
static rp_status parse_ref(const char *text, int index, const rp_calc_input *inputs, int ninputs,
                           int *i, int *input, int *band, rp_error *err) {
    int start = *i, j = *i;
    while (name_char(text[j]))
        j++;
    *input = find_input(inputs, ninputs, text + start, j - start);
    if (*input < 0) {
        char names[256], what[400];
        input_list(inputs, ninputs, names, sizeof names);
        snprintf(what, sizeof what, "'%.*s' is not an input (inputs: %s)",
                 j - start > 64 ? 64 : j - start, text + start, names[0] ? names : "none");
        return rp_calc_expr_error(err, RP_USAGE, text, index, start, what);
    }
    *band = 1;
    int k = skip_space(text, j);
    if (text[k] == '[') {
        int open = k;
        k = skip_space(text, k + 1);
        if (!isdigit((unsigned char)text[k]))
            return rp_calc_expr_error(err, RP_USAGE, text, index, k,
                                      "a band number (1, 2, ...) must follow '['");
        long v = 0;
        while (isdigit((unsigned char)text[k])) {
            v = v * 10 + (text[k] - '0');
            if (v > INT_MAX / 10)
                return rp_calc_expr_error(err, RP_USAGE, text, index, k, "band number too large");
            k++;
        }
        k = skip_space(text, k);
        if (text[k] != ']')
            return rp_calc_expr_error(err, RP_USAGE, text, index, open,
                                      "'[' without a closing ']'");
        if (v < 1)
            return rp_calc_expr_error(err, RP_USAGE, text, index, open + 1,
                                      "bands are numbered from 1");
        *band = (int)v;
        j = k + 1;
    }
    *i = j;
    return RP_OK;
}

rp_status rp_calc_expr_translate(const char *text, int index, const rp_calc_input *inputs,
                                 int ninputs, rp_calc_expr *out, rp_calc_ref **refs, int *nrefs,
                                 rp_error *err) {
    memset(out, 0, sizeof *out);
    builder b = {0};
    rp_status rc = RP_OK;
    int i = 0;
    char var[32];
    bool oom = false;
    put(&b, "", 0, 0);
    while (rc == RP_OK && !oom && text[i]) {
        char c = text[i];
        if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)text[i + 1]))) {
            /* A number, exponent included, so that 1e5 is not a name. */
            int j = i;
            while (isdigit((unsigned char)text[j]) || text[j] == '.')
                j++;
            if ((text[j] == 'e' || text[j] == 'E')) {
                int k = j + 1;
                if (text[k] == '+' || text[k] == '-')
                    k++;
                if (isdigit((unsigned char)text[k])) {
                    while (isdigit((unsigned char)text[k]))
                        k++;
                    j = k;
                }
            }
            put_span(&b, text, i, j);
            i = j;
        } else if (name_start(c)) {
            int j = i;
            while (name_char(text[j]))
                j++;
            int len = j - i;
            int after = skip_space(text, j);
            bool call = text[after] == '(';
            if (len == 8 && strncmp(text + i, "isnodata", 8) == 0) {
                if (!call) {
                    rc = rp_calc_expr_error(err, RP_USAGE, text, index, i,
                                            "isnodata needs a band: isnodata(A) or isnodata(A[2])");
                    break;
                }
                int k = skip_space(text, after + 1);
                if (!name_start(text[k])) {
                    rc = rp_calc_expr_error(err, RP_USAGE, text, index, k,
                                            "isnodata takes one input band, like isnodata(A[2])");
                    break;
                }
                int input, band;
                rc = parse_ref(text, index, inputs, ninputs, &k, &input, &band, err);
                if (rc != RP_OK)
                    break;
                k = skip_space(text, k);
                if (text[k] != ')') {
                    rc = rp_calc_expr_error(err, RP_USAGE, text, index, k,
                                            "isnodata takes one input band, like isnodata(A[2])");
                    break;
                }
                int r = ref_index(refs, nrefs, input, band, index, i);
                oom = r < 0 || add_unique(&out->nd_vars, &out->n_nd_vars, r) != 0;
                snprintf(var, sizeof var, "_rpn%d", r);
                put(&b, var, strlen(var), i);
                i = k + 1;
            } else if (len == 6 && strncmp(text + i, "nodata", 6) == 0 && !call) {
                out->uses_nodata = true;
                put(&b, "_rpnodata", 9, i);
                i = j;
            } else if (find_input(inputs, ninputs, text + i, len) >= 0) {
                if (call) {
                    rc = rp_calc_expr_error(err, RP_USAGE, text, index, i,
                                            "an input is not a function (bands are A[2])");
                    break;
                }
                int input, band, start = i;
                rc = parse_ref(text, index, inputs, ninputs, &i, &input, &band, err);
                if (rc != RP_OK)
                    break;
                int r = ref_index(refs, nrefs, input, band, index, start);
                oom = r < 0 || add_unique(&out->vars, &out->nvars, r) != 0;
                snprintf(var, sizeof var, "_rpv%d", r);
                put(&b, var, strlen(var), start);
            } else if (call || (len == 3 && strncmp(text + i, "_pi", 3) == 0) ||
                       (len == 2 && strncmp(text + i, "_e", 2) == 0)) {
                /* a function (muparser says if it does not know it) or a
                 * muparser constant; _rp names are ours */
                if (len >= 3 && strncmp(text + i, "_rp", 3) == 0) {
                    rc = rp_calc_expr_error(err, RP_USAGE, text, index, i,
                                            "names starting with _rp are reserved");
                    break;
                }
                put_span(&b, text, i, j);
                i = j;
            } else {
                char names[256], what[400];
                input_list(inputs, ninputs, names, sizeof names);
                snprintf(what, sizeof what, "unknown name '%.*s' (inputs: %s)", len > 64 ? 64 : len,
                         text + i, names[0] ? names : "none");
                rc = rp_calc_expr_error(err, RP_USAGE, text, index, i, what);
            }
        } else if (c == '[' || c == ']') {
            rc = rp_calc_expr_error(err, RP_USAGE, text, index, i,
                                    "brackets select a band and follow an input name, like A[2]");
        } else if (c == '"') {
            rc = rp_calc_expr_error(err, RP_USAGE, text, index, i, "text values are not supported");
        } else {
            put_span(&b, text, i, i + 1);
            i++;
        }
    }
    if (rc == RP_OK && !oom && !b.oom) {
        int k = skip_space(text, 0);
        if (!text[k])
            rc = rp_error_set(err, RP_USAGE, "expression %d is empty", index + 1);
    }
    put(&b, "", 0, 0);
    if (rc == RP_OK && (oom || b.oom))
        rc = rp_error_set(err, RP_NOMEM, "out of memory");
    if (rc == RP_OK) {
        out->text = strdup(text);
        if (!out->text)
            rc = rp_error_set(err, RP_NOMEM, "out of memory");
    }
    if (rc != RP_OK) {
        free(b.out);
        free(b.map);
        rp_calc_expr_clear(out);
        return rc;
    }
    /* the terminating NUL maps to the end of the user's text */
    b.map[b.len] = (int)strlen(text);
    out->translated = b.out;
    out->pos_map = b.map;
    return RP_OK;
}
