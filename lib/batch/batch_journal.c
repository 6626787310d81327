/*
 * batch_journal.c — the batch journal: one JSON object a line, one line per
 * task attempt, appended by the parent as each attempt ends; and the reader
 * that --resume uses to find the outputs already done.
 *
 * JSON text is made and parsed by json-c (Debian libjson-c-dev, already a
 * dependency of GDAL): escaping of odd file names is its job, not ours.
 * A record:
 *   {"input":"a.tif","output":"out/a.tif","attempt":1,"pid":123,
 *    "start":"2026-11-21T06:40:01.123Z","start_unix":1795000000.123,
 *    "seconds":0.52,"outcome":"done","error":null,"signal":null,"exit_code":null}
 * outcome is done, error (GDAL failed: the error text says why), crashed (the
 * worker died: signal or exit_code says how), timeout (killed after
 * --timeout) or interrupted (killed by a second Ctrl-C).
 *
 * Threads: none. Ownership: the reader's set owns its strings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "batch_internal.h"
#include "error.h"

static void iso_time(double unix_seconds, char *buf, size_t cap) {
    time_t secs = (time_t)unix_seconds;
    struct tm tm;
    gmtime_r(&secs, &tm);
    int ms = (int)((unix_seconds - (double)secs) * 1000.0);
    if (ms < 0 || ms > 999)
        ms = 0;
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%03dZ", base, ms);
}

/* A number with three decimals (milliseconds), not 17 digits. */
static json_object *number_text(double v) {
    char text[64];
    snprintf(text, sizeof text, "%.3f", v);
    return json_object_new_double_s(v, text);
}

char *rp_journal_format(const rp_journal_record *r, size_t *len) {
    *len = 0;
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    char when[48];
    iso_time(r->start_unix, when, sizeof when);
    json_object_object_add(o, "input", json_object_new_string(r->input));
    json_object_object_add(o, "output", json_object_new_string(r->output));
    json_object_object_add(o, "attempt", json_object_new_int(r->attempt));
    json_object_object_add(o, "pid", json_object_new_int64(r->pid));
    json_object_object_add(o, "start", json_object_new_string(when));
    json_object_object_add(o, "start_unix", number_text(r->start_unix));
    json_object_object_add(o, "seconds", number_text(r->seconds));
    json_object_object_add(o, "outcome", json_object_new_string(r->outcome));
    json_object_object_add(o, "error", r->error ? json_object_new_string(r->error) : NULL);
    json_object_object_add(o, "signal", r->signal ? json_object_new_int(r->signal) : NULL);
    json_object_object_add(o, "exit_code",
                           r->exit_code >= 0 ? json_object_new_int(r->exit_code) : NULL);
    size_t n = 0;
    const char *text = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    char *line = text ? malloc(n + 2) : NULL;
    if (line) {
        memcpy(line, text, n);
        line[n] = '\n';
        line[n + 1] = '\0';
        *len = n + 1;
    }
    json_object_put(o);
    return line;
}

bool rp_journal_parse_line(const char *line, size_t len, char **output, bool *done) {
    *output = NULL;
    *done = false;
    if (len > (size_t)1 << 20) /* far longer than any record */
        return false;
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return false;
    json_object *o = json_tokener_parse_ex(tok, line, (int)len);
    bool ok = o && json_tokener_get_error(tok) == json_tokener_success;
    size_t end = ok ? json_tokener_get_parse_end(tok) : 0;
    while (ok && end < len &&
           (line[end] == ' ' || line[end] == '\t' || line[end] == '\r' || line[end] == '\n'))
        end++;
    ok = ok && end == len && json_object_is_type(o, json_type_object);
    json_object *out = NULL, *outcome = NULL;
    ok = ok && json_object_object_get_ex(o, "output", &out) &&
         json_object_is_type(out, json_type_string) &&
         json_object_object_get_ex(o, "outcome", &outcome) &&
         json_object_is_type(outcome, json_type_string);
    if (ok) {
        const char *s = json_object_get_string(out);
        /* a name with a NUL inside is no file name */
        ok = s && (size_t)json_object_get_string_len(out) == strlen(s) &&
             (*output = strdup(s)) != NULL;
        *done = ok && strcmp(json_object_get_string(outcome), "done") == 0;
    }
    json_object_put(o);
    json_tokener_free(tok);
    return ok;
}

typedef struct entry {
    char *output;
    size_t order; /* line number: the latest record wins */
    bool done;
} entry;

static int by_output_then_order(const void *a, const void *b) {
    const entry *x = a, *y = b;
    int c = strcmp(x->output, y->output);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

rp_status rp_journal_read_done(const char *path, rp_journal_done *done, size_t *bad,
                               rp_error *err) {
    memset(done, 0, sizeof *done);
    *bad = 0;
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT)
            return RP_OK;
        return rp_error_set(err, RP_OPEN, "journal %s: %s", path, strerror(errno));
    }
    entry *all = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    rp_status st = RP_OK;
    while (st == RP_OK && (len = getline(&line, &line_cap, f)) >= 0) {
        lineno++;
        char *output;
        bool is_done;
        if (len == 0 || (len == 1 && line[0] == '\n'))
            continue;
        if (!rp_journal_parse_line(line, (size_t)len, &output, &is_done)) {
            (*bad)++;
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            entry *grown = realloc(all, ncap * sizeof *grown);
            if (!grown) {
                free(output);
                st = rp_error_set(err, RP_NOMEM, "out of memory");
                break;
            }
            all = grown;
            cap = ncap;
        }
        all[n++] = (entry){output, lineno, is_done};
    }
    free(line);
    if (st == RP_OK && ferror(f))
        st = rp_error_set(err, RP_READ, "journal %s: read error", path);
    fclose(f);
    if (n)
        qsort(all, n, sizeof *all, by_output_then_order);
    if (st == RP_OK && n && !(done->outputs = malloc(n * sizeof *done->outputs)))
        st = rp_error_set(err, RP_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        bool latest = i + 1 == n || strcmp(all[i].output, all[i + 1].output) != 0;
        if (st == RP_OK && latest && all[i].done)
            done->outputs[done->n++] = all[i].output;
        else
            free(all[i].output);
    }
    free(all);
    if (st != RP_OK)
        rp_journal_done_free(done);
    return st;
}

bool rp_journal_done_has(const rp_journal_done *done, const char *output) {
    return done->n && bsearch(&output, done->outputs, done->n, sizeof *done->outputs, cmp_str);
}

void rp_journal_done_free(rp_journal_done *done) {
    for (size_t i = 0; i < done->n; i++)
        free(done->outputs[i]);
    free(done->outputs);
    memset(done, 0, sizeof *done);
}
