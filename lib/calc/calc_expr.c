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

/* One expression being translated: the user's text, the names it may use,
 * and what has been built so far. */
typedef struct translation {
    const char *text;
    int index; /* the expression's number, 0-based (for messages) */
    const rp_calc_input *inputs;
    int ninputs;
    rp_calc_expr *out;
    rp_calc_ref **refs;
    int *nrefs;
    builder b;
    bool oom; /* a ref or var list could not grow */
    rp_error *err;
} translation;

static rp_status fail_at(translation *t, int pos, const char *what) {
    return rp_calc_expr_error(t->err, RP_USAGE, t->text, t->index, pos, what);
}

static bool starts_number(const char *text, int i) {
    return isdigit((unsigned char)text[i]) ||
           (text[i] == '.' && isdigit((unsigned char)text[i + 1]));
}

/* The end of the number at text[i], exponent included, so that 1e5 is not
 * a name. A dangling exponent (1e, 1e+) ends before the e. */
static int scan_number(const char *text, int i) {
    int j = i;
    while (isdigit((unsigned char)text[j]) || text[j] == '.')
        j++;
    if (text[j] == 'e' || text[j] == 'E') {
        int k = j + 1;
        if (text[k] == '+' || text[k] == '-')
            k++;
        if (isdigit((unsigned char)text[k])) {
            while (isdigit((unsigned char)text[k]))
                k++;
            j = k;
        }
    }
    return j;
}

/* Appends the muparser variable `<prefix><ref>` for ref r, recording r in
 * *list (the expression's values or its isnodata() bands). */
static void put_ref_var(translation *t, const char *prefix, int r, int **list, int *n, int origin) {
    t->oom = r < 0 || add_unique(list, n, r) != 0;
    char var[32];
    snprintf(var, sizeof var, "%s%d", prefix, r);
    put(&t->b, var, strlen(var), origin);
}

/* isnodata(REF) at text[*i] (`after` is the offset of its '(') ->
 * _rpn<k>; *i past the ')'. */
static rp_status translate_isnodata(translation *t, int *i, int after, bool call) {
    const char *text = t->text;
    if (!call)
        return fail_at(t, *i, "isnodata needs a band: isnodata(A) or isnodata(A[2])");
    int k = skip_space(text, after + 1);
    if (!name_start(text[k]))
        return fail_at(t, k, "isnodata takes one input band, like isnodata(A[2])");
    int input, band;
    rp_status rc = parse_ref(text, t->index, t->inputs, t->ninputs, &k, &input, &band, t->err);
    if (rc != RP_OK)
        return rc;
    k = skip_space(text, k);
    if (text[k] != ')')
        return fail_at(t, k, "isnodata takes one input band, like isnodata(A[2])");
    int r = ref_index(t->refs, t->nrefs, input, band, t->index, *i);
    put_ref_var(t, "_rpn", r, &t->out->nd_vars, &t->out->n_nd_vars, *i);
    *i = k + 1;
    return RP_OK;
}

/* An input's band, A or A[n], at text[*i] -> _rpv<k>; *i past it. */
static rp_status translate_ref(translation *t, int *i, bool call) {
    int start = *i;
    if (call)
        return fail_at(t, start, "an input is not a function (bands are A[2])");
    int input, band;
    rp_status rc = parse_ref(t->text, t->index, t->inputs, t->ninputs, i, &input, &band, t->err);
    if (rc != RP_OK)
        return rc;
    int r = ref_index(t->refs, t->nrefs, input, band, t->index, start);
    put_ref_var(t, "_rpv", r, &t->out->vars, &t->out->nvars, start);
    return RP_OK;
}

/* A function call or a muparser constant, text[i, end), passed through as
 * it is (muparser says if it does not know the function); _rp names are
 * ours. */
static rp_status pass_function(translation *t, int i, int end) {
    if (end - i >= 3 && strncmp(t->text + i, "_rp", 3) == 0)
        return fail_at(t, i, "names starting with _rp are reserved");
    put_span(&t->b, t->text, i, end);
    return RP_OK;
}

static rp_status unknown_name(translation *t, int i, int len) {
    char names[256], what[400];
    input_list(t->inputs, t->ninputs, names, sizeof names);
    snprintf(what, sizeof what, "unknown name '%.*s' (inputs: %s)", len > 64 ? 64 : len,
             t->text + i, names[0] ? names : "none");
    return fail_at(t, i, what);
}

static bool name_is(const char *text, int i, int len, const char *name) {
    return len == (int)strlen(name) && strncmp(text + i, name, (size_t)len) == 0;
}

/* The name at text[*i]: isnodata(...), the nodata keyword, an input's band,
 * a function or constant, or an error; *i past what was translated. */
static rp_status translate_name(translation *t, int *i) {
    const char *text = t->text;
    int j = *i;
    while (name_char(text[j]))
        j++;
    int len = j - *i;
    int after = skip_space(text, j);
    bool call = text[after] == '(';
    if (name_is(text, *i, len, "isnodata"))
        return translate_isnodata(t, i, after, call);
    if (name_is(text, *i, len, "nodata") && !call) {
        t->out->uses_nodata = true;
        put(&t->b, "_rpnodata", 9, *i);
        *i = j;
        return RP_OK;
    }
    if (find_input(t->inputs, t->ninputs, text + *i, len) >= 0)
        return translate_ref(t, i, call);
    if (call || name_is(text, *i, len, "_pi") || name_is(text, *i, len, "_e")) {
        rp_status rc = pass_function(t, *i, j);
        if (rc == RP_OK)
            *i = j;
        return rc;
    }
    return unknown_name(t, *i, len);
}

/* After the last token: an empty expression or a failed allocation is an
 * error; otherwise the translation and its map move into t->out. */
static rp_status finish_translation(translation *t, rp_status rc) {
    const char *text = t->text;
    if (rc == RP_OK && !t->oom && !t->b.oom && !text[skip_space(text, 0)])
        rc = rp_error_set(t->err, RP_USAGE, "expression %d is empty", t->index + 1);
    put(&t->b, "", 0, 0);
    if (rc == RP_OK && (t->oom || t->b.oom))
        rc = rp_error_set(t->err, RP_NOMEM, "out of memory");
    if (rc == RP_OK) {
        t->out->text = strdup(text);
        if (!t->out->text)
            rc = rp_error_set(t->err, RP_NOMEM, "out of memory");
    }
    if (rc != RP_OK) {
        free(t->b.out);
        free(t->b.map);
        rp_calc_expr_clear(t->out);
        return rc;
    }
    /* the terminating NUL maps to the end of the user's text */
    t->b.map[t->b.len] = (int)strlen(text);
    t->out->translated = t->b.out;
    t->out->pos_map = t->b.map;
    return RP_OK;
}

rp_status rp_calc_expr_translate(const char *text, int index, const rp_calc_input *inputs,
                                 int ninputs, rp_calc_expr *out, rp_calc_ref **refs, int *nrefs,
                                 rp_error *err) {
    memset(out, 0, sizeof *out);
    translation t = {.text = text,
                     .index = index,
                     .inputs = inputs,
                     .ninputs = ninputs,
                     .out = out,
                     .refs = refs,
                     .nrefs = nrefs,
                     .err = err};
    rp_status rc = RP_OK;
    int i = 0;
    put(&t.b, "", 0, 0);
    while (rc == RP_OK && !t.oom && text[i]) {
        char c = text[i];
        if (starts_number(text, i)) {
            int end = scan_number(text, i);
            put_span(&t.b, text, i, end);
            i = end;
        } else if (name_start(c)) {
            rc = translate_name(&t, &i);
        } else if (c == '[' || c == ']') {
            rc = fail_at(&t, i, "brackets select a band and follow an input name, like A[2]");
        } else if (c == '"') {
            rc = fail_at(&t, i, "text values are not supported");
        } else {
            put_span(&t.b, text, i, i + 1);
            i++;
        }
    }
    return finish_translation(&t, rc);
}
