/*
 * test_batch.c — the pieces of batch that need no GDAL work: output names,
 * the task plan (globs, lists, duplicates, collisions), the journal written
 * and read back (odd names, latest record wins, only whole records), the
 * outcome names, worker sizing, and the process layer (exit codes and
 * signals decoded from real children, what a receive can find).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gdal.h>

#include "batch_internal.h"
#include "check.h"
#include "proc.h"

static void test_output_names(void) {
    char b[64];
    CHECK(rp_batch_output_name("scenes/a.tif", "", "tif", b, sizeof b));
    CHECK_EQ_STR(b, "a.tif");
    CHECK(rp_batch_output_name("/x/y/scene.v2.jp2", "_cog", "tif", b, sizeof b));
    CHECK_EQ_STR(b, "scene.v2_cog.tif");
    CHECK(rp_batch_output_name("/vsicurl/http://h/p/t.tif?sig=a.b/c", "", "tif", b, sizeof b));
    CHECK_EQ_STR(b, "t.tif");
    CHECK(rp_batch_output_name("noext", "", "vrt", b, sizeof b));
    CHECK_EQ_STR(b, "noext.vrt");
    CHECK(rp_batch_output_name(".hidden", "", "tif", b, sizeof b));
    CHECK_EQ_STR(b, ".hidden.tif");
    CHECK(rp_batch_output_name("dir/", "", "tif", b, sizeof b)); /* trailing slash: the folder */
    CHECK_EQ_STR(b, "dir.tif");
    CHECK(!rp_batch_output_name("/", "", "tif", b, sizeof b));
    CHECK(!rp_batch_output_name("", "", "tif", b, sizeof b));
    CHECK(!rp_batch_output_name("a_very_long_name_indeed.tif", "_and_a_suffix", "tif", b, 16));
}

static rp_batch_options *options(const char *const *argv, int argc) {
    rp_error err;
    rp_error_clear(&err);
    rp_batch_options *o = rp_batch_options_new(argc, argv, NULL, &err);
    if (!o)
        fprintf(stderr, "options: %s\n", err.message);
    return o;
}

static void touch(const char *path) {
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
}

static void test_plan(const char *dir) {
    char a[512], b[512], sub[512], pat[512], lst[512], out[512];
    snprintf(a, sizeof a, "%s/a.tif", dir);
    snprintf(b, sizeof b, "%s/b.tif", dir);
    snprintf(sub, sizeof sub, "%s/sub.tif", dir); /* a folder matching the pattern */
    snprintf(pat, sizeof pat, "%s/*.tif", dir);
    snprintf(lst, sizeof lst, "%s/list.txt", dir);
    snprintf(out, sizeof out, "%s/out///", dir);
    touch(a);
    touch(b);
    mkdir(sub, 0777);
    FILE *f = fopen(lst, "w");
    fprintf(f, "# comment\n\n%s\r\n/vsicurl/http://h/c.tif?x=1\n", a);
    fclose(f);
    /* pattern (sorted, folder skipped) + list (a again: dropped) */
    const char *argv[] = {"batch", "translate", pat,  "--inputs", lst,   "--out-dir",
                          out,     "--suffix",  "_s", "--",       "-of", "COG"};
    rp_batch_options *o = options(argv, 12);
    CHECK(o != NULL);
    rp_batch_plan plan;
    rp_error err;
    rp_error_clear(&err);
    if (o && rp_batch_plan_make(o, &plan, &err) == RP_OK) {
        CHECK_EQ_INT(plan.n, 3);
        if (plan.n == 3) {
            CHECK_EQ_STR(plan.inputs[0], a);
            CHECK_EQ_STR(plan.inputs[1], b);
            CHECK_EQ_STR(plan.inputs[2], "/vsicurl/http://h/c.tif?x=1");
            char want[600];
            snprintf(want, sizeof want, "%s/out/a_s.tif", dir); /* COG's extension: tif */
            CHECK_EQ_STR(plan.outputs[0], want);
            snprintf(want, sizeof want, "%s/out/c_s.tif", dir);
            CHECK_EQ_STR(plan.outputs[2], want);
        }
        rp_batch_plan_free(&plan);
    } else {
        CHECK(!"plan failed");
        fprintf(stderr, "plan: %s\n", err.message);
    }
    rp_batch_options_free(o);

    /* two inputs, one output name: a usage error naming both */
    char other[512];
    snprintf(other, sizeof other, "%s/sub.tif/a.tif", dir);
    touch(other);
    const char *argv2[] = {"batch", "warp", a,    other, "--out-dir", out,
                           "--ext", ".vrt", "--", "-of", "VRT"};
    o = options(argv2, 11);
    rp_error_clear(&err);
    CHECK(o && rp_batch_plan_make(o, &plan, &err) == RP_USAGE);
    CHECK(strstr(err.message, "would both write") != NULL);
    rp_batch_options_free(o);

    /* a pattern that matches nothing */
    char none[512];
    snprintf(none, sizeof none, "%s/*.nothing", dir);
    const char *argv3[] = {"batch", "warp", none, "--out-dir", out};
    o = options(argv3, 5);
    rp_error_clear(&err);
    CHECK(o && rp_batch_plan_make(o, &plan, &err) == RP_USAGE);
    CHECK(strstr(err.message, "no file matches") != NULL);
    rp_batch_options_free(o);
}

static void test_options(void) {
    rp_error err;
    const char *bad[][8] = {
        {"batch", "warp", "a.tif", "--out-dir", "o", "--", "-t_srs", NULL}, /* missing value */
        {"batch", "warp", "a.tif", "--out-dir", "o", "--", "-nope", NULL},
        {"batch", "calcx", "a.tif", "--out-dir", "o", NULL},
        {"batch", "warp", "a.tif", NULL},
        {"batch", "warp", "--out-dir", "o", NULL},
        {"batch", "warp", "a.tif", "--out-dir", "o", "--retries", "-1", NULL},
        {"batch", "warp", "a.tif", "--out-dir", "o", "--timeout", "nan", NULL},
        {"batch", "warp", "a.tif", "--out-dir", "o", "--suffix", "a/b", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int argc = 0;
        while (bad[i][argc])
            argc++;
        rp_error_clear(&err);
        rp_batch_options *o = rp_batch_options_new(argc, bad[i], NULL, &err);
        CHECK(o == NULL);
        CHECK_EQ_INT(err.code, RP_USAGE);
        CHECK(err.message[0] != '\0');
        rp_batch_options_free(o);
    }
    const char *help[] = {"batch", "warp", "--help"};
    rp_error_clear(&err);
    CHECK(rp_batch_options_new(3, help, NULL, &err) == NULL && err.code == RP_OK);
    /* "--help" after "--" belongs to gdalwarp, which rejects it */
    const char *tool_help[] = {"batch", "warp", "a", "--out-dir", "o", "--", "--help"};
    rp_error_clear(&err);
    CHECK(rp_batch_options_new(7, tool_help, NULL, &err) == NULL && err.code == RP_USAGE);
}

/* Formats r and appends the line to f; returns the line (caller frees). */
static char *put_record(FILE *f, const rp_journal_record *r) {
    size_t n = 0;
    char *line = rp_journal_format(r, &n);
    CHECK(line != NULL && n == strlen(line) && n > 0 && line[n - 1] == '\n' &&
          strchr(line, '\n') == line + n - 1);
    if (line)
        fputs(line, f);
    return line;
}

static void test_journal(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    FILE *f = fopen(path, "w");
    const char *odd = "out/we\"ird \\ n\xc3\xa9\nme.tif";
    rp_journal_record r = {.input = "in/a.tif",
                           .output = odd,
                           .attempt = 1,
                           .pid = 42,
                           .start_unix = 1795000000.5,
                           .seconds = 0.25,
                           .outcome = RP_ATTEMPT_CRASHED,
                           .error = "worker died",
                           .signal = 11,
                           .exit_code = -1};
    char *line = put_record(f, &r);
    CHECK(line && strstr(line, "\"signal\":11") && strstr(line, "\"exit_code\":null") &&
          strstr(line, "\"start\":\"2026-") && strstr(line, "\"seconds\":0.250"));
    if (line)
        fputs(line, f); /* the same crashed line twice... */
    free(line);
    r.attempt = 2;
    r.outcome = RP_ATTEMPT_DONE;
    r.error = NULL;
    r.signal = 0;
    free(put_record(f, &r)); /* ...then done: the latest wins */
    r.output = "out/b.tif";
    free(put_record(f, &r));
    r.outcome = RP_ATTEMPT_TIMEOUT;
    free(put_record(f, &r)); /* b: done, then timeout: not done */
    r.output = "out/c.tif";
    r.outcome = RP_ATTEMPT_DONE;
    free(put_record(f, &r));
    fputs("not json\n{\"output\":1,\"outcome\":\"done\"}\n\n", f);
    fputs("{\"output\":\"out/e.tif\",\"outcome\":\"finished\"}\n", f); /* no such outcome */
    /* no final newline: an append cut short, never synced whole: not trusted */
    fputs("{\"output\":\"out/d.tif\",\"outcome\":\"done\"}", f);
    fclose(f);

    /* a path of 4000 control characters: escaped to 6 bytes each, still one
     * line that reads back (a fixed buffer once dropped such records) */
    char *ctl = malloc(4001);
    memset(ctl, 0x12, 4000);
    ctl[4000] = '\0';
    rp_journal_record big = {
        .input = ctl, .output = ctl, .outcome = RP_ATTEMPT_DONE, .exit_code = -1};
    size_t n = 0;
    char *big_line = rp_journal_format(&big, &n);
    char *back = NULL;
    bool is_done = false;
    CHECK(big_line && n > 2 * 6 * 4000);
    CHECK(big_line && rp_journal_parse_line(big_line, n, &back, &is_done) && is_done && back &&
          strcmp(back, ctl) == 0);
    free(back);
    free(big_line);
    free(ctl);

    rp_journal_done done;
    size_t bad = 0;
    rp_error err;
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_journal_read_done(path, &done, &bad, &err), RP_OK);
    CHECK_EQ_INT(bad, 4);
    CHECK_EQ_INT(done.n, 2);
    CHECK(rp_journal_done_has(&done, odd));
    CHECK(!rp_journal_done_has(&done, "out/b.tif"));
    CHECK(rp_journal_done_has(&done, "out/c.tif"));
    CHECK(!rp_journal_done_has(&done, "out/d.tif"));
    CHECK(!rp_journal_done_has(&done, "out/e.tif"));
    rp_journal_done_free(&done);

    /* reopened for appending, the cut line is dropped: the next record is
     * whole and counts, the cut one does not come back as a record */
    FILE *j = rp_journal_open(path, &err);
    CHECK(j != NULL);
    r.output = "out/f.tif";
    r.outcome = RP_ATTEMPT_DONE;
    CHECK_EQ_INT(j ? rp_journal_append(j, path, &r, &err) : RP_WRITE, RP_OK);
    if (j)
        fclose(j);
    CHECK_EQ_INT(rp_journal_read_done(path, &done, &bad, &err), RP_OK);
    CHECK_EQ_INT(bad, 3);
    CHECK_EQ_INT(done.n, 3);
    CHECK(rp_journal_done_has(&done, "out/f.tif"));
    CHECK(!rp_journal_done_has(&done, "out/d.tif"));
    rp_journal_done_free(&done);

    char missing[600];
    snprintf(missing, sizeof missing, "%s/none.jsonl", dir);
    CHECK_EQ_INT(rp_journal_read_done(missing, &done, &bad, &err), RP_OK);
    CHECK_EQ_INT(done.n, 0);
    CHECK(!rp_journal_done_has(&done, "x"));
}

/* Issue 15 item 4: a record carries what made the output (kind, options,
 * the input's size and mtime) and reads back; an older record without them
 * reads back with them unknown. */
static void test_journal_provenance(void) {
    char *opts[] = {"-t_srs", "EPSG:3857", "-co", "A=\"q\"", NULL};
    rp_journal_record r = {.input = "in/a.tif",
                           .output = "out/a.tif",
                           .outcome = RP_ATTEMPT_DONE,
                           .exit_code = -1,
                           .kind = "warp",
                           .options = opts,
                           .input_fp = {true, 12345, 1795000000123456789LL},
                           .redo = "made with other options"};
    size_t n = 0;
    char *line = rp_journal_format(&r, &n);
    CHECK(line && strstr(line, "\"input_mtime_ns\":1795000000123456789") &&
          strstr(line, "\"redo\":\"made with other options\""));
    rp_journal_entry e;
    CHECK(line && rp_journal_parse_record(line, n, &e));
    char *text = rp_journal_options_text(opts);
    CHECK(e.done && e.kind && strcmp(e.kind, "warp") == 0 && e.options && text &&
          strcmp(e.options, text) == 0 && e.input && strcmp(e.input, "in/a.tif") == 0);
    CHECK(e.input_fp.known && e.input_fp.size == 12345 &&
          e.input_fp.mtime_ns == 1795000000123456789LL);
    rp_journal_entry_clear(&e);
    char *other[] = {"-t_srs", "EPSG:4326", NULL};
    char *other_text = rp_journal_options_text(other);
    CHECK(other_text && text && strcmp(other_text, text) != 0);
    free(other_text);
    free(text);
    free(line);
    const char *old = "{\"input\":\"a\",\"output\":\"b\",\"outcome\":\"done\"}\n";
    CHECK(rp_journal_parse_record(old, strlen(old), &e));
    CHECK(e.done && !e.kind && !e.options && !e.input_fp.known);
    rp_journal_entry_clear(&e);
    /* options of the wrong shape are unknown, not an error */
    const char *odd = "{\"output\":\"b\",\"outcome\":\"done\",\"kind\":\"warp\","
                      "\"options\":[1]}\n";
    CHECK(rp_journal_parse_record(odd, strlen(odd), &e));
    CHECK(e.kind && !e.options);
    rp_journal_entry_clear(&e);
}

/* The outcome enum and the journal's names come from one table. */
static void test_outcome_names(void) {
    static const struct {
        rp_attempt_outcome outcome;
        const char *name;
    } want[] = {{RP_ATTEMPT_DONE, "done"},
                {RP_ATTEMPT_ERROR, "error"},
                {RP_ATTEMPT_CRASHED, "crashed"},
                {RP_ATTEMPT_TIMEOUT, "timeout"},
                {RP_ATTEMPT_INTERRUPTED, "interrupted"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CHECK_EQ_STR(rp_attempt_outcome_name(want[i].outcome), want[i].name);
        rp_attempt_outcome back = RP_ATTEMPT_DONE;
        CHECK(rp_attempt_outcome_parse(want[i].name, &back) && back == want[i].outcome);
    }
    rp_attempt_outcome none;
    CHECK(!rp_attempt_outcome_parse("Done", &none));
    CHECK_EQ_STR(rp_attempt_outcome_name((rp_attempt_outcome)99), "unknown");
}

static void test_sizing(void) {
    uint64_t gib = (uint64_t)1 << 30;
    CHECK_EQ_INT(rp_batch_default_workers(8, 64 * gib), 8);
    CHECK_EQ_INT(rp_batch_default_workers(8, 2 * gib), 3); /* 1.5 GiB / 512 MiB */
    CHECK_EQ_INT(rp_batch_default_workers(8, gib / 4), 1); /* never 0 */
    CHECK_EQ_INT(rp_batch_default_workers(4, 0), 4);       /* memory unknown */
    CHECK_EQ_INT(rp_batch_default_workers(0, 0), 1);
    rp_batch_worker_setup s = rp_batch_worker_share(4, 16, 16 * gib);
    CHECK_EQ_INT(s.gdal_threads, 4);
    CHECK_EQ_INT(s.cache_bytes, (long long)gib); /* 16 GiB / 4 / 4 */
    s = rp_batch_worker_share(8, 2, 1 * gib);
    CHECK_EQ_INT(s.gdal_threads, 1);
    CHECK_EQ_INT(s.cache_bytes, (long long)(32 << 20)); /* 1 GiB / 4 / 8 */
    s = rp_batch_worker_share(64, 64, gib);
    CHECK_EQ_INT(s.cache_bytes, (long long)(16 << 20)); /* at least 16 MiB */
    s = rp_batch_worker_share(2, 2, 0);
    CHECK_EQ_INT(s.cache_bytes, 0); /* unknown: GDAL's default */
}

static void test_processes(void) {
    rp_error err;
    rp_proc p;
    rp_proc_exit how;
    char text[128];
    char *exit3[] = {"sh", "-c", "exit 3", NULL};
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_proc_spawn(&p, "/bin/sh", exit3, &err), RP_OK);
    char buf[8];
    CHECK_EQ_INT(rp_proc_recv(&p, buf, sizeof buf), 0); /* end-of-file when it exits */
    rp_proc_stop(&p, 5000, &how);
    CHECK_EQ_INT(how.exit_code, 3);
    CHECK_EQ_INT(how.signal, 0);
    rp_proc_exit_text(&how, text, sizeof text);
    CHECK_EQ_STR(text, "exit code 3");

    char *segv[] = {"sh", "-c", "kill -SEGV $$", NULL};
    CHECK_EQ_INT(rp_proc_spawn(&p, "/bin/sh", segv, &err), RP_OK);
    rp_proc_stop(&p, 5000, &how);
    CHECK_EQ_INT(how.signal, SIGSEGV);
    CHECK_EQ_INT(how.exit_code, -1);

    /* the worker's end is on descriptor 3: a child echoes a message back */
    char *echo[] = {"sh", "-c", "head -c 5 <&3 >&3", NULL};
    CHECK_EQ_INT(rp_proc_spawn(&p, "/bin/sh", echo, &err), RP_OK);
    CHECK(rp_proc_send(&p, "hello", 5));
    CHECK_EQ_INT(rp_proc_recv(&p, buf, 5), 1);
    CHECK(memcmp(buf, "hello", 5) == 0);
    rp_proc_stop(&p, 5000, &how);
    CHECK_EQ_INT(how.exit_code, 0);
    CHECK(!rp_proc_send(&p, "x", 1)); /* stopped: nothing to send to, no SIGPIPE */

    /* a child that ignores its socket closing is killed after the grace */
    char *sleeper[] = {"sh", "-c", "exec sleep 60", NULL};
    CHECK_EQ_INT(rp_proc_spawn(&p, "/bin/sh", sleeper, &err), RP_OK);
    rp_proc_stop(&p, 100, &how);
    CHECK_EQ_INT(how.signal, SIGKILL);

    char *none[] = {"nope", NULL};
    rp_error_clear(&err);
    CHECK(rp_proc_spawn(&p, "/nonexistent/program", none, &err) != RP_OK);
    CHECK(err.message[0] != '\0');
}

/* rp_proc_recv on a non-blocking socket: nothing there yet is not a
 * malformed message (the worker is not broken), a message of another size
 * is, and a closed end is end-of-file. */
static void test_recv_outcomes(void) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    rp_proc parent = {0, sv[0]}, worker = {0, sv[1]};
    uint64_t msg = 0, sent = 0x1234;
    CHECK_EQ_INT(rp_proc_recv(&parent, &msg, sizeof msg), RP_PROC_NOTHING);
    CHECK(rp_proc_send(&worker, &sent, sizeof sent));
    CHECK_EQ_INT(rp_proc_recv(&parent, &msg, sizeof msg), RP_PROC_MESSAGE);
    CHECK(msg == sent);
    uint32_t small = 7;
    CHECK(rp_proc_send(&worker, &small, sizeof small));
    CHECK_EQ_INT(rp_proc_recv(&parent, &msg, sizeof msg), RP_PROC_MALFORMED);
    close(sv[1]);
    CHECK_EQ_INT(rp_proc_recv(&parent, &msg, sizeof msg), RP_PROC_CLOSED);
    close(sv[0]);
}

int main(void) {
    GDALAllRegister();
    char dir[] = "/tmp/rp-test-batch-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    test_output_names();
    test_options();
    test_plan(dir);
    test_journal(dir);
    test_journal_provenance();
    test_sizing();
    test_outcome_names();
    test_processes();
    test_recv_outcomes();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    GDALDestroyDriverManager();
    return CHECK_DONE();
}
