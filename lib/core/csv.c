/*
 * csv.c — streaming CSV records with their raw text and field spans.
 *
 * The reader keeps one growable buffer. A record is scanned with a small
 * state machine (field start / unquoted / quoted / after a closing quote):
 * a quote opens a quoted field only at the start of a field, "" inside one is
 * a literal quote, and a line end inside quotes belongs to the field. When
 * the buffer ends mid-record, the unread tail moves to the front, more is
 * read, and the record is scanned again from its start (records are short;
 * rescanning is cheaper than keeping resumable state). Blank lines are
 * skipped. Bytes are never interpreted beyond delimiter, quote, CR and LF,
 * so any encoding passes through unchanged.
 *
 * A reader can also run over a slice of memory it does not own
 * (rp_csv_reader_new_mem): then there is nothing to refill, and the whole
 * slice is the input.
 *
 * Plain lines (rp_csv_lines: text read as if it held no quote) are scanned
 * once each, eight bytes a step (delimiter, line end and quote found in a
 * word at once, the first fields' spans noted, the rest of the delimiters
 * only counted); rp_csv_lines_next_unquoted stops before the first line that
 * holds a quote, so a caller reads plain lines up to there and the quoted
 * reader from there.
 *
 * Threads: a reader belongs to one thread. Ownership: the record's pointers
 * stay valid until the next rp_csv_read.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"

#include "byte_scan.h"

enum { WAIT_MS = 100 }; /* how often a reader waiting on a pipe returns -3 */

struct rp_csv_reader {
    FILE *in;    /* NULL for a memory slice */
    int wait_fd; /* a pipe or terminal: read with poll + read(2); else -1 */
    char delimiter;
    char *buf;            /* borrowed for a memory slice */
    size_t cap, len, pos; /* buf[pos..len) is unread */
    uint64_t base;        /* input offset of buf[0] */
    bool eof;
    bool started;
    uint64_t line;   /* line number of buf[pos] */
    size_t last_pos; /* where the last record returned starts */
    uint64_t last_line;
    rp_csv_field *fields;
    size_t fields_cap;
};

/* A pipe, terminal or socket (not a regular file, not memory): reading it
 * can block indefinitely, so the reader waits with poll() and a timeout and
 * reads with read(2), which returns what has arrived. A signal that lands
 * just before a blocking read would otherwise go unnoticed until more input
 * came (Ctrl-C on `rasterpool extract` reading an idle pipe). */
static int waitable_fd(FILE *in) {
    struct stat st;
    int fd = fileno(in);
    if (fd < 0 || fstat(fd, &st) != 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
        return -1;
    return fd;
}

/* Reads what is available into buf[0..cap) from a waitable descriptor:
 * bytes read, 0 at end of input, -3 when nothing came within the wait (or
 * a signal interrupted it: the caller polls its stop flag and calls again),
 * -1 on an error. */
static long read_waiting(int fd, char *buf, size_t cap) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ready = poll(&p, 1, WAIT_MS);
    if (ready == 0 || (ready < 0 && errno == EINTR))
        return -3;
    if (ready < 0)
        return -1;
    ssize_t got = read(fd, buf, cap);
    if (got < 0)
        return errno == EINTR || errno == EAGAIN ? -3 : -1;
    return (long)got;
}

rp_csv_reader *rp_csv_reader_new(FILE *in, char delimiter) {
    rp_csv_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->in = in;
    r->wait_fd = waitable_fd(in);
    r->delimiter = delimiter;
    r->line = 1;
    r->cap = 1 << 16;
    r->buf = malloc(r->cap);
    r->fields_cap = 16;
    r->fields = malloc(r->fields_cap * sizeof *r->fields);
    if (!r->buf || !r->fields) {
        rp_csv_reader_free(r);
        return NULL;
    }
    return r;
}

rp_csv_reader *rp_csv_reader_new_mem(const char *data, size_t len, char delimiter,
                                     uint64_t first_line, uint64_t first_offset) {
    rp_csv_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->delimiter = delimiter;
    r->line = first_line;
    r->base = first_offset;
    r->buf = (char *)data; /* only read: a memory reader never refills */
    r->cap = r->len = len;
    r->eof = r->started = true;
    r->fields_cap = 16;
    r->fields = malloc(r->fields_cap * sizeof *r->fields);
    if (!r->fields) {
        rp_csv_reader_free(r);
        return NULL;
    }
    return r;
}

void rp_csv_reader_free(rp_csv_reader *r) {
    if (!r)
        return;
    if (r->in)
        free(r->buf);
    free(r->fields);
    free(r);
}

void rp_csv_reader_set_delimiter(rp_csv_reader *r, char delimiter) {
    r->delimiter = delimiter;
}

uint64_t rp_csv_reader_offset(const rp_csv_reader *r) {
    return r->base + r->pos;
}

uint64_t rp_csv_reader_line(const rp_csv_reader *r) {
    return r->line;
}

/* The last record is still in the buffer (nothing moves it before the next
 * read), so stepping back is only resetting the position. */
void rp_csv_unread(rp_csv_reader *r) {
    r->pos = r->last_pos;
    r->line = r->last_line;
}

/* Moves the unread tail to the front and reads more; grows the buffer when
 * the tail fills it. Returns bytes added (0 at end of input), -1 on error. */
static long refill(rp_csv_reader *r) {
    /* -2: a record would exceed RP_CSV_MAX_RECORD; -3: a signal interrupted
     * the read, or a pipe had nothing yet (what was read is kept) */
    if (r->eof)
        return 0;
    if (r->pos > 0) {
        r->base += r->pos;
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len == r->cap) {
        if (r->cap >= RP_CSV_MAX_RECORD)
            return -2;
        size_t cap = r->cap * 2;
        char *grown = realloc(r->buf, cap);
        if (!grown)
            return -1;
        r->buf = grown;
        r->cap = cap;
    }
    size_t got;
    if (r->wait_fd >= 0) {
        long n = read_waiting(r->wait_fd, r->buf + r->len, r->cap - r->len);
        if (n < 0)
            return n;
        got = (size_t)n;
        r->len += got;
    } else {
        errno = 0;
        got = fread(r->buf + r->len, 1, r->cap - r->len, r->in);
        r->len += got;
    }
    if (r->wait_fd < 0 && ferror(r->in)) {
        if (errno != EINTR)
            return -1;
        clearerr(r->in); /* a signal: let the caller decide, then read on */
        return -3;
    }
    if (got == 0)
        r->eof = true;
    /* a byte order mark counts only at the very start of the input (a pipe
     * may deliver fewer than 3 bytes at first) */
    if (!r->started && (r->base > 0 || r->pos > 0 || r->len >= 3 || r->eof)) {
        r->started = true;
        if (r->base == 0 && r->pos == 0 && r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
            r->pos = 3;
    }
    return (long)got;
}

static int push_field(rp_csv_reader *r, size_t n, size_t offset, size_t length, bool quoted) {
    if (n == r->fields_cap) {
        size_t cap = r->fields_cap * 2;
        rp_csv_field *grown = realloc(r->fields, cap * sizeof *grown);
        if (!grown)
            return -1;
        r->fields = grown;
        r->fields_cap = cap;
    }
    r->fields[n].offset = offset;
    r->fields[n].length = length;
    r->fields[n].quoted = quoted;
    return 0;
}

/* Hands out the record that ends at s[i] (a '\n', or the end of input when
 * i == n) and moves the reader past it. */
static void take_record(rp_csv_reader *r, rp_csv_record *rec, size_t i, size_t n, size_t nfields,
                        uint64_t newlines) {
    const char *s = r->buf + r->pos;
    size_t raw_len = i; /* excluding the '\n' */
    size_t consumed = i < n ? i + 1 : i;
    if (raw_len > 0 && s[raw_len - 1] == '\r')
        raw_len--;
    rec->raw = s;
    rec->raw_len = raw_len;
    rec->line = r->line;
    rec->offset = r->base + r->pos;
    rec->nfields = nfields;
    rec->fields = r->fields;
    r->last_pos = r->pos;
    r->last_line = r->line;
    r->line += newlines + (i < n ? 1 : 0);
    r->pos += consumed;
}

enum scan_state { FIELD_START, UNQUOTED, QUOTED, AFTER_QUOTE };

/* The first delimiter or '\n' in s[i..n), or n: the inside of an unquoted
 * field, where nothing else matters. Eight bytes a step (a byte of w equal
 * to c is a zero byte of w ^ c; the classic has-zero-byte test), then byte
 * by byte. The hot loop of reading points: most bytes are in such fields. */
static size_t scan_unquoted(const char *s, size_t i, size_t n, char delim) {
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    const uint64_t d = ones * (unsigned char)delim, nl = ones * (unsigned char)'\n';
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t a = w ^ d, b = w ^ nl;
        if (((a - ones) & ~a & highs) | ((b - ones) & ~b & highs))
            break;
        i += 8;
    }
    while (i < n && s[i] != delim && s[i] != '\n')
        i++;
    return i;
}

/* Scans one record at buf[pos]. Returns 1 with the record, 0 when the
 * buffer ended before the record did (and more input may follow). */
static int scan_record(rp_csv_reader *r, rp_csv_record *rec, int *failed) {
    const char *s = r->buf + r->pos;
    size_t n = r->len - r->pos;
    char delim = r->delimiter;
    enum scan_state state = FIELD_START;
    size_t nfields = 0, field_start = 0, content_start = 0, content_end = 0;
    uint64_t newlines = 0;
    size_t i = 0;
    for (; i < n; i++) {
        char c = s[i];
        switch (state) {
        case FIELD_START:
            if (c == '"') {
                state = QUOTED;
                content_start = i + 1;
                continue;
            }
            state = UNQUOTED;
            /* fall through */
        case UNQUOTED:
        case AFTER_QUOTE:
            if (state == UNQUOTED) {
                i = scan_unquoted(s, i, n, delim);
                if (i == n)
                    goto input_end;
                c = s[i];
            }
            if (c == delim || c == '\n') {
                bool quoted = state == AFTER_QUOTE;
                size_t off = quoted ? content_start : field_start;
                size_t end = quoted ? content_end : i;
                if (!quoted && c == '\n' && end > off && s[end - 1] == '\r')
                    end--;
                if (push_field(r, nfields++, off, end - off, quoted) != 0) {
                    *failed = 1;
                    return 0;
                }
                if (c == '\n')
                    goto record_end;
                field_start = i + 1;
                state = FIELD_START;
            }
            break;
        case QUOTED:
            if (c == '"') {
                if (i + 1 < n && s[i + 1] == '"') {
                    i++;
                } else if (i + 1 == n && !r->eof) {
                    return 0; /* cannot tell "" from " yet */
                } else {
                    state = AFTER_QUOTE;
                    content_end = i;
                }
            } else if (c == '\n') {
                newlines++;
            }
            break;
        }
    }
input_end:
    if (!r->eof)
        return 0;
    /* The input ended: the rest is the last record. */
    bool quoted = state == AFTER_QUOTE || state == QUOTED;
    size_t off = quoted ? content_start : field_start;
    size_t end = state == AFTER_QUOTE ? content_end : i;
    if (state == UNQUOTED && end > off && s[end - 1] == '\r')
        end--;
    if (push_field(r, nfields++, off, end - off, quoted) != 0) {
        *failed = 1;
        return 0;
    }
    rec->open_quote = state == QUOTED;
record_end:
    take_record(r, rec, i, n, nfields, newlines);
    return 1;
}

int rp_csv_read(rp_csv_reader *r, rp_csv_record *rec) {
    for (;;) {
        if (r->pos == r->len || !r->started) {
            long got = refill(r);
            if (got < 0)
                return (int)got;
            if (r->pos == r->len && r->eof)
                return 0;
        }
        memset(rec, 0, sizeof *rec);
        int failed = 0;
        if (scan_record(r, rec, &failed)) {
            bool blank = rec->raw_len == 0 && rec->nfields == 1 && !rec->fields[0].quoted;
            if (!blank)
                return 1;
            continue;
        }
        if (failed)
            return -1;
        long got = refill(r);
        if (got < 0)
            return (int)got;
    }
}

void rp_csv_lines_init(rp_csv_lines *l, const char *text, size_t len, char delimiter,
                       uint64_t first_line, uint64_t first_offset) {
    l->text = text;
    l->len = len;
    l->pos = 0;
    l->line = first_line;
    l->base = first_offset;
    l->delimiter = delimiter;
    l->fields = NULL;
    l->fields_cap = 0;
}

void rp_csv_lines_set_fields(rp_csv_lines *l, rp_csv_field *fields, size_t cap) {
    l->fields = fields;
    l->fields_cap = fields ? cap : 0;
}

/* Words are read with memcpy; their first byte is the lowest (ctz finds
 * it) on little-endian machines; others take the byte loop alone. */
#define LITTLE_ENDIAN_WORDS (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

/* A field ends at k: its span (while the caller keeps spans). */
static inline void end_field(rp_csv_lines *l, size_t *nfields, size_t *start, size_t k) {
    if (*nfields < l->fields_cap) {
        l->fields[*nfields].offset = *start;
        l->fields[*nfields].length = k - *start;
        l->fields[*nfields].quoted = false;
    }
    (*nfields)++;
    *start = k + 1;
}

/* Where the line at s[0..n) ends (n when it runs to the end of the text),
 * in one pass over its bytes, eight at a time while they hold no delimiter,
 * line end or quote; the delimiters on the way end fields. SIZE_MAX at a
 * '"' when stop_at_quote. */
static size_t scan_fields(rp_csv_lines *l, const char *s, size_t n, bool stop_at_quote,
                          size_t *nfields, size_t *start) {
    const uint64_t ones = RP_SCAN_ONES;
    const uint64_t delim = ones * (unsigned char)l->delimiter, nl = ones * '\n', quote = ones * '"';
    size_t k = 0;
    for (; LITTLE_ENDIAN_WORDS && k + 8 <= n; k += 8) {
        uint64_t w;
        memcpy(&w, s + k, 8);
        uint64_t delims = rp_scan_equal_bytes(w, delim), ends = rp_scan_equal_bytes(w, nl);
        uint64_t quotes = stop_at_quote ? rp_scan_equal_bytes(w, quote) : 0;
        if (ends) { /* only the bytes before the line end count */
            uint64_t before = (ends & (0 - ends)) - 1;
            delims &= before;
            quotes &= before;
        }
        if (quotes)
            return SIZE_MAX;
        for (; delims && *nfields < l->fields_cap; delims &= delims - 1)
            end_field(l, nfields, start, k + (size_t)(__builtin_ctzll(delims) >> 3));
        *nfields += (size_t)__builtin_popcountll(delims); /* past the spans kept */
        if (ends)
            return k + (size_t)(__builtin_ctzll(ends) >> 3);
    }
    for (; k < n; k++) {
        if (s[k] == l->delimiter)
            end_field(l, nfields, start, k);
        else if (s[k] == '\n')
            return k;
        else if (s[k] == '"' && stop_at_quote)
            return SIZE_MAX;
    }
    return n;
}

/* The line at l->pos: the spans of its first l->fields_cap fields, its
 * field count and its end. Returns 1 with the record (raw_len 0: a blank
 * line), or RP_CSV_LINES_QUOTE at a '"' when stop_at_quote (nothing
 * consumed). */
static int scan_line(rp_csv_lines *l, rp_csv_record *rec, bool stop_at_quote) {
    const char *s = l->text + l->pos;
    const size_t n = l->len - l->pos;
    size_t nfields = 0, start = 0;
    size_t k = scan_fields(l, s, n, stop_at_quote, &nfields, &start);
    if (k == SIZE_MAX)
        return RP_CSV_LINES_QUOTE;
    size_t raw_len = k > 0 && s[k - 1] == '\r' ? k - 1 : k; /* a delimiter is never '\r' */
    end_field(l, &nfields, &start, raw_len);
    rec->raw = s;
    rec->raw_len = raw_len;
    rec->line = l->line++;
    rec->offset = l->base + l->pos;
    rec->nfields = nfields;
    rec->fields = l->fields;
    rec->open_quote = false;
    l->pos += k < n ? k + 1 : k;
    return 1;
}

static int lines_next(rp_csv_lines *l, rp_csv_record *rec, bool stop_at_quote) {
    while (l->pos < l->len) {
        int got = scan_line(l, rec, stop_at_quote);
        if (got != 1 || rec->raw_len > 0) /* blank lines are skipped, as rp_csv_read does */
            return got;
    }
    return 0;
}

int rp_csv_lines_next(rp_csv_lines *l, rp_csv_record *rec) {
    return lines_next(l, rec, false);
}

int rp_csv_lines_next_unquoted(rp_csv_lines *l, rp_csv_record *rec) {
    return lines_next(l, rec, true);
}

char rp_csv_detect_delimiter(const char *line, size_t len) {
    const char candidates[] = {',', ';', '\t'};
    size_t counts[3] = {0, 0, 0};
    bool quoted = false;
    for (size_t i = 0; i < len; i++) {
        if (line[i] == '"')
            quoted = !quoted;
        else if (!quoted)
            for (int k = 0; k < 3; k++)
                if (line[i] == candidates[k])
                    counts[k]++;
    }
    int best = 0;
    for (int k = 1; k < 3; k++)
        if (counts[k] > counts[best])
            best = k;
    return candidates[best];
}

size_t rp_csv_field_text(const rp_csv_record *rec, size_t i, char *buf, size_t cap) {
    const rp_csv_field *f = &rec->fields[i];
    const char *s = rec->raw + f->offset;
    size_t out = 0;
    for (size_t k = 0; k < f->length; k++) {
        if (f->quoted && s[k] == '"' && k + 1 < f->length && s[k + 1] == '"')
            k++;
        if (out + 1 < cap)
            buf[out] = s[k];
        out++;
    }
    if (cap > 0)
        buf[out < cap ? out : cap - 1] = '\0';
    return out;
}
