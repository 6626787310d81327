/*
 * batch_plan.c — the task list of a batch: inputs from quoted glob patterns,
 * plain paths and an --inputs list, in the order given (each pattern's
 * matches sorted, as glob(3) sorts them), duplicates dropped; one output per
 * input, OUT_DIR/<stem><suffix>.<ext>.
 *
 * A pattern is expanded only when it holds a glob character; a plain path is
 * kept as given even when it does not exist (or is a GDAL path such as
 * /vsicurl/...), so that its task fails with GDAL's reason rather than
 * vanishing from the list. A pattern that matches nothing is a usage error.
 *
 * Threads: none. Ownership: the plan owns every string.
 */
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "batch_internal.h"
#include "error.h"

bool rp_batch_output_name(const char *input, const char *suffix, const char *ext, char *out,
                          size_t cap) {
    size_t len = strcspn(input, "?"); /* a URL's query is no part of the name */
    while (len > 0 && input[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && input[start - 1] != '/')
        start--;
    size_t stem_len = len - start;
    for (size_t k = len; k > start + 1; k--) { /* ".hidden" keeps its dot */
        if (input[k - 1] == '.') {
            stem_len = k - 1 - start;
            break;
        }
    }
    if (stem_len == 0)
        return false;
    int n = snprintf(out, cap, "%.*s%s.%s", (int)stem_len, input + start, suffix, ext);
    return n > 0 && (size_t)n < cap;
}

typedef struct list {
    char **items;
    size_t n, cap;
} list;

static int list_add(list *l, const char *s) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **grown = realloc(l->items, cap * sizeof *grown);
        if (!grown)
            return -1;
        l->items = grown;
        l->cap = cap;
    }
    if (!(l->items[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

static bool has_glob_chars(const char *s) {
    return strpbrk(s, "*?[") != NULL && strncmp(s, "/vsi", 4) != 0;
}

static rp_status add_input(list *l, const char *arg, rp_error *err) {
    if (!has_glob_chars(arg))
        return list_add(l, arg) ? rp_error_set(err, RP_NOMEM, "out of memory") : RP_OK;
    glob_t g;
    memset(&g, 0, sizeof g);
    int rc = glob(arg, GLOB_MARK, NULL, &g);
    rp_status st = RP_OK;
    if (rc == GLOB_NOMATCH)
        st = rp_error_set(err, RP_USAGE, "no file matches '%s'", arg);
    else if (rc != 0)
        st = rp_error_set(err, RP_OPEN, "cannot list the files of '%s'", arg);
    for (size_t i = 0; st == RP_OK && i < g.gl_pathc; i++) {
        const char *p = g.gl_pathv[i];
        size_t n = strlen(p);
        if (n && p[n - 1] == '/') /* a folder (GLOB_MARK): not an input */
            continue;
        if (list_add(l, p))
            st = rp_error_set(err, RP_NOMEM, "out of memory");
    }
    globfree(&g);
    return st;
}

static rp_status read_inputs_file(list *l, const char *path, rp_error *err) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
    if (!f)
        return rp_error_set(err, RP_USAGE, "--inputs %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    rp_status st = RP_OK;
    while (st == RP_OK && (n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        if (list_add(l, line))
            st = rp_error_set(err, RP_NOMEM, "out of memory");
    }
    if (st == RP_OK && ferror(f))
        st = rp_error_set(err, RP_USAGE, "--inputs %s: read error", path);
    free(line);
    if (f != stdin)
        fclose(f);
    return st;
}

static int by_name(const void *a, const void *b) {
    const rp_batch_named *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

rp_batch_named *rp_batch_sort_names(char *const *names, size_t n) {
    rp_batch_named *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return NULL;
    for (size_t i = 0; i < n; i++)
        sorted[i] = (rp_batch_named){names[i], i};
    qsort(sorted, n, sizeof *sorted, by_name);
    return sorted;
}

void rp_batch_plan_drop(rp_batch_plan *plan, const char *drop) {
    size_t w = 0;
    for (size_t i = 0; i < plan->n; i++) {
        if (drop[i]) {
            free(plan->inputs[i]);
            free(plan->outputs[i]);
            continue;
        }
        plan->inputs[w] = plan->inputs[i];
        plan->outputs[w] = plan->outputs[i];
        w++;
    }
    plan->n = w;
}

/* Drops repeated inputs (keeps the first) and finds two inputs that would
 * write one output. */
static rp_status dedupe(rp_batch_plan *plan, rp_error *err) {
    rp_batch_named *byname = rp_batch_sort_names(plan->outputs, plan->n);
    if (!byname)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    char *drop = calloc(plan->n ? plan->n : 1, 1);
    rp_status st = drop ? RP_OK : rp_error_set(err, RP_NOMEM, "out of memory");
    for (size_t k = 1; st == RP_OK && k < plan->n; k++) {
        if (strcmp(byname[k].name, byname[k - 1].name) != 0)
            continue;
        size_t a = byname[k - 1].index, b = byname[k].index;
        if (strcmp(plan->inputs[a], plan->inputs[b]) == 0) {
            byname[k].index = a; /* the same input again: keep the first */
            drop[b] = 1;
        } else {
            st = rp_error_set(err, RP_USAGE,
                              "inputs %s and %s would both write %s (use separate runs or "
                              "--suffix)",
                              plan->inputs[a], plan->inputs[b], plan->outputs[a]);
        }
    }
    if (st == RP_OK)
        rp_batch_plan_drop(plan, drop);
    free(drop);
    free(byname);
    return st;
}

rp_status rp_batch_plan_make(const rp_batch_options *o, rp_batch_plan *plan, rp_error *err) {
    memset(plan, 0, sizeof *plan);
    list in = {0};
    rp_status st = RP_OK;
    for (int i = 0; st == RP_OK && i < o->ninputs; i++)
        st = add_input(&in, o->inputs[i], err);
    if (st == RP_OK && o->inputs_file)
        st = read_inputs_file(&in, o->inputs_file, err);
    if (st == RP_OK && in.n == 0)
        st = rp_error_set(err, RP_USAGE, "no input to process");
    plan->inputs = in.items;
    plan->n = in.n;
    if (st != RP_OK) {
        rp_batch_plan_free(plan);
        return st;
    }
    const char *ext = o->extension;
    char ext_buf[64] = "tif";
    if (!ext) {
        const char *from_driver = rp_batch_kind_extension(o->tool_args);
        if (from_driver)
            snprintf(ext_buf, sizeof ext_buf, "%.*s", (int)strcspn(from_driver, " "), from_driver);
        ext = ext_buf;
    }
    plan->outputs = calloc(plan->n, sizeof *plan->outputs);
    if (!plan->outputs)
        st = rp_error_set(err, RP_NOMEM, "out of memory");
    size_t dir_len = strlen(o->out_dir);
    while (dir_len > 1 && o->out_dir[dir_len - 1] == '/')
        dir_len--;
    for (size_t i = 0; st == RP_OK && i < plan->n; i++) {
        char name[RP_BATCH_PATH_MAX];
        if (!rp_batch_output_name(plan->inputs[i], o->suffix, ext, name, sizeof name)) {
            st = rp_error_set(err, RP_USAGE, "input '%s' names no file to name an output after",
                              plan->inputs[i]);
            break;
        }
        size_t need = dir_len + 1 + strlen(name) + 1;
        /* room for the temporary name's prefix and suffix too */
        if (need + 64 > RP_BATCH_PATH_MAX || strlen(plan->inputs[i]) >= RP_BATCH_PATH_MAX) {
            st = rp_error_set(err, RP_USAGE, "path too long: %s", plan->inputs[i]);
            break;
        }
        if (!(plan->outputs[i] = malloc(need))) {
            st = rp_error_set(err, RP_NOMEM, "out of memory");
            break;
        }
        snprintf(plan->outputs[i], need, "%.*s/%s", (int)dir_len, o->out_dir, name);
    }
    if (st == RP_OK)
        st = dedupe(plan, err);
    if (st != RP_OK)
        rp_batch_plan_free(plan);
    return st;
}

void rp_batch_plan_free(rp_batch_plan *plan) {
    for (size_t i = 0; i < plan->n; i++) {
        free(plan->inputs ? plan->inputs[i] : NULL);
        free(plan->outputs ? plan->outputs[i] : NULL);
    }
    free(plan->inputs);
    free(plan->outputs);
    memset(plan, 0, sizeof *plan);
}
