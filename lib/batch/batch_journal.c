/*
 * batch_journal.c — the batch journal: one JSON object a line, one line per
 * task attempt, appended by the parent as each attempt ends; and the reader
 * that --resume uses to find the outputs already done.
 *
 * JSON text is made and parsed by json-c (Debian libjson-c-dev, already a
 * dependency of GDAL): escaping of odd file names is its job, not ours,
 * except bytes that are not UTF-8, which json-c writes raw (invalid JSON
 * for strict readers): core/json_bytes writes them as \udcXX and reads
 * them back.
 * A record:
 *   {"input":"a.tif","output":"out/a.tif","attempt":1,"pid":123,
 *    "start":"2026-11-21T06:40:01.123Z","start_unix":1795000000.123,
 *    "seconds":0.52,"outcome":"done","error":null,"signal":null,"exit_code":null,
 *    "kind":"warp","options":["-t_srs","EPSG:3857"],"input_size":1048576,
 *    "input_mtime_ns":1795000000123456789,"redo":null}
 * outcome is one of RP_ATTEMPT_OUTCOME_MAP's names (batch_internal.h).
 * kind, options and the input's fingerprint (size, mtime; null when the
 * input is no local file) say what made the output: --resume redoes a done
 * task when they changed (batch_resume.c), and "redo" says why it did.
 * Records of an older rasterpool lack them.
 *
 * Durability: each record is written whole (one fwrite of the line and its
 * newline), flushed and fsynced before the parent counts the attempt, so a
 * "done" record on disk means the output (synced and renamed before it) is
 * there too. The reader trusts only whole, newline-terminated records: a
 * last line without its newline was cut short by a crash or a power loss.
 *
 * Threads: none. Ownership: the reader's set owns its strings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "batch_internal.h"
#include "error.h"
#include "json_bytes.h"
#include "staged_output.h"

static const char *const outcome_names[] = {
#define RP_ATTEMPT_OUTCOME_NAME(id, name) [RP_ATTEMPT_##id] = name,
    RP_ATTEMPT_OUTCOME_MAP(RP_ATTEMPT_OUTCOME_NAME)
#undef RP_ATTEMPT_OUTCOME_NAME
};
enum { OUTCOME_COUNT = sizeof outcome_names / sizeof outcome_names[0] };

const char *rp_attempt_outcome_name(rp_attempt_outcome outcome) {
    return (unsigned)outcome < OUTCOME_COUNT ? outcome_names[outcome] : "unknown";
}

bool rp_attempt_outcome_parse(const char *name, rp_attempt_outcome *outcome) {
    for (unsigned i = 0; i < OUTCOME_COUNT; i++)
        if (strcmp(name, outcome_names[i]) == 0) {
            *outcome = (rp_attempt_outcome)i;
            return true;
        }
    return false;
}

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

static json_object *options_array(char *const *options) {
    json_object *a = json_object_new_array();
    for (size_t i = 0; a && options && options[i]; i++)
        json_object_array_add(a, json_object_new_string(options[i]));
    return a;
}

static const int json_flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

char *rp_journal_options_text(char *const *options) {
    json_object *a = options_array(options);
    const char *text = a ? json_object_to_json_string_ext(a, json_flags) : NULL;
    char *copy = text ? strdup(text) : NULL;
    json_object_put(a);
    return copy;
}

/* What made the output: kind, options, the input's fingerprint, and why a
 * resumed run redid it. */
static void add_provenance(json_object *o, const rp_journal_record *r) {
    const rp_batch_fingerprint *fp = &r->input_fp;
    json_object_object_add(o, "kind", r->kind ? json_object_new_string(r->kind) : NULL);
    json_object_object_add(o, "options", r->kind ? options_array(r->options) : NULL);
    json_object_object_add(o, "input_size", fp->known ? json_object_new_int64(fp->size) : NULL);
    json_object_object_add(o, "input_mtime_ns",
                           fp->known ? json_object_new_int64(fp->mtime_ns) : NULL);
    json_object_object_add(o, "redo", r->redo ? json_object_new_string(r->redo) : NULL);
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
    json_object_object_add(o, "outcome",
                           json_object_new_string(rp_attempt_outcome_name(r->outcome)));
    json_object_object_add(o, "error", r->error ? json_object_new_string(r->error) : NULL);
    json_object_object_add(o, "signal", r->signal ? json_object_new_int(r->signal) : NULL);
    json_object_object_add(o, "exit_code",
                           r->exit_code >= 0 ? json_object_new_int(r->exit_code) : NULL);
    add_provenance(o, r);
    size_t n = 0;
    const char *text = json_object_to_json_string_length(o, json_flags, &n);
    /* bytes of names that are not UTF-8 as \udcXX: valid JSON for any reader */
    char *line = text ? rp_json_bytes_escape(text, n, &n) : NULL;
    char *grown = line ? realloc(line, n + 2) : NULL;
    if (grown) {
        line = grown;
        line[n] = '\n';
        line[n + 1] = '\0';
        *len = n + 1;
    } else {
        free(line);
        line = NULL;
    }
    json_object_put(o);
    return line;
}

void rp_journal_entry_clear(rp_journal_entry *e) {
    free(e->output);
    free(e->input);
    free(e->kind);
    free(e->options);
    memset(e, 0, sizeof *e);
}

/* A string member without NULs inside, copied; NULL when absent, null or
 * not a string. */
static char *string_member(json_object *o, const char *key) {
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    const char *s = json_object_get_string(v);
    if (!s || (size_t)json_object_get_string_len(v) != strlen(s))
        return NULL;
    return strdup(s);
}

static bool int64_member(json_object *o, const char *key, int64_t *out) {
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return false;
    *out = json_object_get_int64(v);
    return true;
}

/* kind, options, fingerprint: absent in an older rasterpool's records.
 * Options that are not an array of strings are taken as unknown (NULL). */
static void read_provenance(json_object *o, rp_journal_entry *e) {
    e->input = string_member(o, "input");
    e->kind = string_member(o, "kind");
    json_object *a = NULL;
    bool ok =
        json_object_object_get_ex(o, "options", &a) && json_object_is_type(a, json_type_array);
    size_t n = ok ? json_object_array_length(a) : 0;
    for (size_t i = 0; ok && i < n; i++) {
        json_object *v = json_object_array_get_idx(a, i);
        ok = json_object_is_type(v, json_type_string) &&
             (size_t)json_object_get_string_len(v) == strlen(json_object_get_string(v));
    }
    const char *text = ok ? json_object_to_json_string_ext(a, json_flags) : NULL;
    e->options = text ? strdup(text) : NULL;
    rp_batch_fingerprint *fp = &e->input_fp;
    fp->known = int64_member(o, "input_size", &fp->size) &&
                int64_member(o, "input_mtime_ns", &fp->mtime_ns);
}

bool rp_journal_parse_record(const char *line, size_t len, rp_journal_entry *e) {
    memset(e, 0, sizeof *e);
    if (len > (size_t)1 << 20) /* far longer than any record */
        return false;
    char *raw = malloc(len + 1); /* \udcXX back to the name's own bytes */
    json_tokener *tok = raw ? json_tokener_new() : NULL;
    if (!tok) {
        free(raw);
        return false;
    }
    memcpy(raw, line, len);
    raw[len] = '\0';
    len = rp_json_bytes_unescape(raw, len);
    line = raw;
    json_object *o = json_tokener_parse_ex(tok, line, (int)len);
    bool ok = o && json_tokener_get_error(tok) == json_tokener_success;
    size_t end = ok ? json_tokener_get_parse_end(tok) : 0;
    while (ok && end < len &&
           (line[end] == ' ' || line[end] == '\t' || line[end] == '\r' || line[end] == '\n'))
        end++;
    ok = ok && end == len && json_object_is_type(o, json_type_object);
    json_object *outcome = NULL;
    ok = ok && json_object_object_get_ex(o, "outcome", &outcome) &&
         json_object_is_type(outcome, json_type_string);
    rp_attempt_outcome how;
    /* a name with a NUL inside is no file name */
    ok = ok && (e->output = string_member(o, "output")) != NULL &&
         rp_attempt_outcome_parse(json_object_get_string(outcome), &how);
    if (ok) {
        e->done = how == RP_ATTEMPT_DONE;
        read_provenance(o, e);
    } else {
        rp_journal_entry_clear(e);
    }
    json_object_put(o);
    json_tokener_free(tok);
    free(raw);
    return ok;
}

bool rp_journal_parse_line(const char *line, size_t len, char **output, bool *done) {
    rp_journal_entry e;
    bool ok = rp_journal_parse_record(line, len, &e);
    *output = e.output;
    *done = e.done;
    e.output = NULL;
    rp_journal_entry_clear(&e);
    return ok;
}

static int by_output_then_order(const void *a, const void *b) {
    const rp_journal_entry *x = a, *y = b;
    int c = strcmp(x->output, y->output);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int by_output(const void *key, const void *elem) {
    return strcmp(key, ((const rp_journal_entry *)elem)->output);
}

/* Keeps the latest record of each output when it says done. */
static void keep_latest_done(rp_journal_entry *all, size_t n, rp_journal_done *done) {
    if (n)
        qsort(all, n, sizeof *all, by_output_then_order);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        bool latest = i + 1 == n || strcmp(all[i].output, all[i + 1].output) != 0;
        if (latest && all[i].done)
            all[w++] = all[i];
        else
            rp_journal_entry_clear(&all[i]);
    }
    done->entries = all;
    done->n = w;
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
    rp_journal_entry *all = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    rp_status st = RP_OK;
    while (st == RP_OK && (len = getline(&line, &line_cap, f)) >= 0) {
        lineno++;
        rp_journal_entry e;
        if (len == 0 || (len == 1 && line[0] == '\n'))
            continue;
        bool whole = line[len - 1] == '\n'; /* else its append was cut short */
        if (!whole || !rp_journal_parse_record(line, (size_t)len, &e)) {
            (*bad)++;
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            rp_journal_entry *grown = realloc(all, ncap * sizeof *grown);
            if (!grown) {
                rp_journal_entry_clear(&e);
                st = rp_error_set(err, RP_NOMEM, "out of memory");
                break;
            }
            all = grown;
            cap = ncap;
        }
        e.order = lineno;
        all[n++] = e;
    }
    free(line);
    if (st == RP_OK && ferror(f))
        st = rp_error_set(err, RP_READ, "journal %s: read error", path);
    fclose(f);
    keep_latest_done(all, n, done);
    if (st != RP_OK)
        rp_journal_done_free(done);
    return st;
}

const rp_journal_entry *rp_journal_done_find(const rp_journal_done *done, const char *output) {
    return done->n ? bsearch(output, done->entries, done->n, sizeof *done->entries, by_output)
                   : NULL;
}

bool rp_journal_done_has(const rp_journal_done *done, const char *output) {
    return rp_journal_done_find(done, output) != NULL;
}

void rp_journal_done_free(rp_journal_done *done) {
    for (size_t i = 0; i < done->n; i++)
        rp_journal_entry_clear(&done->entries[i]);
    free(done->entries);
    memset(done, 0, sizeof *done);
}

/* The length of the file up to and with its last newline: what is after it
 * is a record whose append was cut short. -1 when it cannot be read. */
static off_t whole_length(FILE *f) {
    if (fseeko(f, 0, SEEK_END) != 0)
        return -1;
    off_t end = ftello(f);
    char buf[4096];
    while (end > 0) {
        off_t from = end > (off_t)sizeof buf ? end - (off_t)sizeof buf : 0;
        size_t n = (size_t)(end - from);
        if (fseeko(f, from, SEEK_SET) != 0 || fread(buf, 1, n, f) != n)
            return -1;
        for (size_t k = n; k > 0; k--)
            if (buf[k - 1] == '\n')
                return from + (off_t)k;
        end = from;
    }
    return 0;
}

FILE *rp_journal_open(const char *path, rp_error *err) {
    struct stat sb;
    bool created = stat(path, &sb) != 0;
    FILE *f = fopen(path, "a+e");
    if (!f) {
        rp_error_set(err, RP_WRITE, "cannot open the journal %s: %s", path, strerror(errno));
        return NULL;
    }
    /* a cut record is dropped (the reader has counted it among the lines
     * that are not records), so that the next one starts a line of its own
     * and a lost newline cannot turn the cut one into a whole record */
    off_t whole = created ? 0 : whole_length(f);
    rp_status st = RP_OK;
    if (whole < 0 || (!created && whole < (off_t)sb.st_size && ftruncate(fileno(f), whole) != 0))
        st = rp_error_set(err, RP_WRITE, "cannot repair the journal %s: %s", path, strerror(errno));
    fseeko(f, 0, SEEK_END); /* a read is followed by a seek before a write */
    if (st == RP_OK && created)
        st = rp_stage_sync_folder_of(path, err);
    if (st != RP_OK) {
        fclose(f);
        return NULL;
    }
    return f;
}

rp_status rp_journal_append(FILE *journal, const char *path, const rp_journal_record *rec,
                            rp_error *err) {
    size_t n = 0;
    char *line = rp_journal_format(rec, &n);
    if (!line)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    bool written =
        fwrite(line, 1, n, journal) == n && fflush(journal) == 0 && fsync(fileno(journal)) == 0;
    free(line);
    if (!written)
        return rp_error_set(err, RP_WRITE, "cannot write the journal %s: %s", path,
                            strerror(errno));
    return RP_OK;
}
