/* test_direct_out.c — the CSV writer's output stream (io/direct_out.c):
 * pieces of every size, across the 4 MiB chunks and with an unaligned
 * tail, come out byte for byte on a regular file (with O_DIRECT where the
 * file system takes it); a stream that cannot be direct (its position not
 * aligned, O_APPEND, a pipe, RASTERPOOL_DIRECT_WRITE=0) writes the same
 * (=1 asks for direct writes on any file system; only local disks' by default)
 * bytes through its FILE*; without write_rest only whole chunks are
 * written. The expected bytes are the test's own buffer, read back with
 * plain stdio. A chunk whose write fails (the file size limit: EFBIG)
 * fails the stream, from the chunk writer's thread as from the caller's,
 * and the bytes before it are in the file. A buffer of the ring that
 * cannot be had (posix_memalign, interposed here, fails the first, second
 * or fourth buffer) leaves the chunks to the caller's thread, with the same
 * bytes; the buffers had before the failure are freed (ASan's leak check). */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "direct_out.h"

static char path[256];
static bool may_direct = true;

/* posix_memalign for the whole test binary (direct_out.c's calls bind to
 * it): the call numbered fail_at after arming fails, 0 never. */
static int memalign_calls, memalign_fail_at;

int posix_memalign(void **out, size_t align, size_t size) {
    if (memalign_fail_at > 0 && ++memalign_calls == memalign_fail_at)
        return ENOMEM;
    void *p = memalign(align, size);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

/* Deterministic bytes: a CSV-like mix, so a shifted copy would show. */
static char *make_bytes(size_t n) {
    char *b = malloc(n);
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        b[i] = (char)(i % 29 == 28 ? '\n' : '0' + (s >> 16) % 10);
    }
    return b;
}

/* The whole file at path; its length in *n. */
static char *read_back(size_t *n) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

/* Writes data[0..n) in pieces of varied sizes (1 byte to 3 MB). */
static int write_pieces(rp_direct_out *d, const char *data, size_t n) {
    static const size_t sizes[] = {1, 4095, 4097, 3u << 20, 17, 1u << 20, 65536, 5u << 20};
    size_t at = 0;
    for (int k = 0; at < n; k++) {
        size_t take = sizes[k % 8];
        if (take > n - at)
            take = n - at;
        int rc = rp_direct_out_write(d, data + at, take);
        if (rc != 0)
            return rc;
        at += take;
    }
    return 0;
}

/* Writes prefix (through stdio, before the stream) and data to path in
 * mode; checks the file holds both and whether the stream was direct. */
static void round_trip(const char *mode, const char *prefix, size_t n, int want_direct) {
    char *data = make_bytes(n);
    unlink(path); /* "ab" starts empty too */
    FILE *f = fopen(path, mode);
    CHECK(f != NULL);
    if (!f) {
        free(data);
        return;
    }
    fputs(prefix, f);
    rp_direct_out d;
    rp_direct_out_begin(&d, f, may_direct, NULL, NULL);
    if (want_direct >= 0)
        CHECK_EQ_INT(d.fd >= 0, want_direct);
    CHECK_EQ_INT(write_pieces(&d, data, n), 0);
    CHECK_EQ_INT(rp_direct_out_end(&d, true), 0);
    CHECK(d.buf == NULL);
    fputs("end", f); /* the FILE* goes on after the stream */
    CHECK_EQ_INT(fclose(f), 0);
    size_t got_n = 0;
    char *got = read_back(&got_n);
    size_t plen = strlen(prefix);
    CHECK_EQ_INT(got_n, plen + n + 3);
    if (got && got_n == plen + n + 3) {
        CHECK(memcmp(got, prefix, plen) == 0);
        CHECK(memcmp(got + plen, data, n) == 0);
        CHECK(memcmp(got + plen + n, "end", 3) == 0);
    }
    free(got);
    free(data);
}

/* Buffer fail_at of the stream cannot be had: 1, the first (begin: the
 * FILE* path), 2 or RP_DIRECT_BUFFERS (the writer's spares, the first or
 * the last: chunks written on the caller's thread, the spares had before
 * freed at once). The same bytes reach the file either way. */
static void buffer_fails(int fail_at) {
    size_t n = (2 * RP_DIRECT_BUFFERS + 1) * RP_DIRECT_CHUNK + 4096 + 17;
    char *data = make_bytes(n);
    unlink(path);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) {
        free(data);
        return;
    }
    setenv("RASTERPOOL_DIRECT_WRITE", "1", 1);
    memalign_calls = 0;
    memalign_fail_at = fail_at;
    rp_direct_out d;
    rp_direct_out_begin(&d, f, true, NULL, NULL);
    int direct = d.fd >= 0;
    if (fail_at == 1)
        CHECK_EQ_INT(direct, 0);
    CHECK_EQ_INT(write_pieces(&d, data, n), 0);
    if (direct) {
        CHECK(!d.has_writer && d.no_writer);
        for (size_t k = 1; k < RP_DIRECT_BUFFERS; k++)
            CHECK(d.ring[k] == NULL); /* the spares had were freed */
    }
    memalign_fail_at = 0;
    CHECK_EQ_INT(rp_direct_out_end(&d, true), 0);
    unsetenv("RASTERPOOL_DIRECT_WRITE");
    CHECK_EQ_INT(fclose(f), 0);
    size_t got_n = 0;
    char *got = read_back(&got_n);
    CHECK_EQ_INT(got_n, n);
    if (got && got_n == n)
        CHECK(memcmp(got, data, n) == 0);
    free(got);
    free(data);
}

/* Without write_rest only the whole chunks reach the file. */
static void no_rest(void) {
    size_t n = RP_DIRECT_CHUNK + 1000;
    char *data = make_bytes(n);
    FILE *f = fopen(path, "wb");
    rp_direct_out d;
    rp_direct_out_begin(&d, f, true, NULL, NULL);
    int direct = d.fd >= 0;
    CHECK_EQ_INT(rp_direct_out_write(&d, data, n), 0);
    CHECK_EQ_INT(rp_direct_out_end(&d, false), 0);
    fclose(f);
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    if (direct)
        CHECK_EQ_INT(st.st_size, RP_DIRECT_CHUNK);
    free(data);
}

/* A pipe is never direct; its bytes come through the FILE*. */
static void through_pipe(void) {
    int fds[2];
    CHECK_EQ_INT(pipe(fds), 0);
    FILE *w = fdopen(fds[1], "w");
    rp_direct_out d;
    rp_direct_out_begin(&d, w, true, NULL, NULL);
    CHECK_EQ_INT(d.fd, -1);
    CHECK_EQ_INT(rp_direct_out_write(&d, "a,b\n", 4), 0);
    CHECK_EQ_INT(rp_direct_out_end(&d, true), 0);
    fclose(w);
    char buf[8] = {0};
    CHECK_EQ_INT(read(fds[0], buf, sizeof buf), 4);
    CHECK_EQ_STR(buf, "a,b\n");
    close(fds[0]);
}

/* A write past RLIMIT_FSIZE fails with EFBIG (SIGXFSZ ignored): the
 * second chunk's. Its error comes back from a later write or from the end,
 * with errno; the first chunk is in the file. */
static void chunk_write_fails(const char *direct_env) {
    setenv("RASTERPOOL_DIRECT_WRITE", direct_env, 1);
    /* no tail: only chunk writes can fail; more chunks than the ring holds,
     * so the error can come back from a hand-over as well as the end */
    size_t n = (2 * RP_DIRECT_BUFFERS + 1) * RP_DIRECT_CHUNK;
    char *data = make_bytes(n);
    unlink(path);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = RP_DIRECT_CHUNK + 4096;
    CHECK_EQ_INT(setrlimit(RLIMIT_FSIZE, &lim), 0);
    rp_direct_out d;
    rp_direct_out_begin(&d, f, true, NULL, NULL);
    int direct = d.fd >= 0;
    int rc = 0;
    for (size_t at = 0; at < n && rc == 0; at += RP_DIRECT_CHUNK / 2) {
        size_t take = n - at < RP_DIRECT_CHUNK / 2 ? n - at : RP_DIRECT_CHUNK / 2;
        rc = rp_direct_out_write(&d, data + at, take);
        if (direct && rc == 0 && at >= RP_DIRECT_CHUNK)
            CHECK(d.has_writer); /* the chunks went to the writer's thread */
    }
    if (rc == 0)
        rc = rp_direct_out_end(&d, true);
    else
        rp_direct_out_end(&d, false);
    int saved = errno;
    if (f)
        fclose(f);
    setrlimit(RLIMIT_FSIZE, &old);
    CHECK_EQ_INT(rc, -1);
    CHECK_EQ_INT(saved, EFBIG);
    size_t got_n = 0;
    char *got = read_back(&got_n);
    CHECK(got_n >= RP_DIRECT_CHUNK && got_n <= RP_DIRECT_CHUNK + 4096);
    if (got && got_n >= RP_DIRECT_CHUNK)
        CHECK(memcmp(got, data, RP_DIRECT_CHUNK) == 0);
    free(got);
    free(data);
    unsetenv("RASTERPOOL_DIRECT_WRITE");
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/rp_direct_out_%d.txt", tmp ? tmp : "/tmp", (int)getpid());
    /* from offset 0: direct where the file system takes O_DIRECT (-1: not
     * asserted, it depends on the file system) */
    round_trip("wb", "", 3 * RP_DIRECT_CHUNK + 4096 * 3 + 123, -1);
    round_trip("wb", "", 100, -1);
    /* round the ring of buffers twice and more */
    round_trip("wb", "", (2 * RP_DIRECT_BUFFERS + 1) * RP_DIRECT_CHUNK + 4096 + 17, -1);
    round_trip("wb", "", RP_DIRECT_CHUNK + 1, -1); /* a tail of one byte */
    round_trip("wb", "", 2 * RP_DIRECT_CHUNK, -1);
    /* an unaligned position, or O_APPEND: the FILE* path */
    round_trip("wb", "id,x,y\n", RP_DIRECT_CHUNK + 77, 0);
    round_trip("ab", "", RP_DIRECT_CHUNK + 77, 0);
    setenv("RASTERPOOL_DIRECT_WRITE", "0", 1);
    round_trip("wb", "", RP_DIRECT_CHUNK + 5, 0);
    /* =1: direct on any file system that takes it (a refusal: buffered) */
    setenv("RASTERPOOL_DIRECT_WRITE", "1", 1);
    round_trip("wb", "", 2 * RP_DIRECT_CHUNK + 4096 + 9, -1);
    unsetenv("RASTERPOOL_DIRECT_WRITE");
    may_direct = false; /* the caller's word: standard output */
    round_trip("wb", "", RP_DIRECT_CHUNK + 5, 0);
    may_direct = true;
    no_rest();
    through_pipe();
    buffer_fails(1);
    buffer_fails(2);
    buffer_fails(RP_DIRECT_BUFFERS);
    signal(SIGXFSZ, SIG_IGN);
    chunk_write_fails("1"); /* the writer's thread (where O_DIRECT or its fallback runs) */
    chunk_write_fails("0"); /* the FILE* */
    unlink(path);
    return CHECK_DONE();
}
