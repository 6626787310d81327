/* test_staged_output.c — staged outputs: the temporary lives beside the
 * destination under a name nobody else holds (O_EXCL), gets the mode the
 * umask gives a new file, commit moves every member (sidecars that append to
 * the name and sidecars that replace its extension) and replaces an old file,
 * abort leaves nothing, and the sweeper removes a dead process's leftovers
 * but not a live one's. Links rasterpool_core alone (no GDAL). */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "staged_output.h"

static char root[64];

static void path_in(char *buf, size_t cap, const char *dir, const char *name) {
    snprintf(buf, cap, "%s/%s/%s", root, dir, name);
}

static void make_folder(const char *dir) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", root, dir);
    CHECK(mkdir(p, 0777) == 0);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static bool has_text(const char *path, const char *text) {
    char buf[128] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return n == strlen(text) && memcmp(buf, text, n) == 0;
}

static bool exists(const char *path) {
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* The folder's entries, sorted, joined by spaces. */
static void listing(const char *dir, char *out, size_t cap) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", root, dir);
    char *names[64];
    int n = 0;
    DIR *d = opendir(p);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && n < 64)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            names[n++] = strdup(e->d_name);
    if (d)
        closedir(d);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", names[i]);
        free(names[i]);
    }
}

/* A pid that belonged to a process that has exited and been reaped. */
static pid_t dead_pid(void) {
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    int status;
    waitpid(pid, &status, 0);
    return pid;
}

static void test_names_and_collision(void) {
    make_folder("names");
    char final[256], expect[256];
    path_in(final, sizeof final, "names", "out.tif");
    rp_error err = {0};
    rp_stage *a = NULL, *b = NULL;
    CHECK_EQ_INT(rp_stage_open_as(final, "abc123", 0, &a, &err), RP_OK);
    /* the stage's folder exists; the output is the writer's to create */
    snprintf(expect, sizeof expect, "%s/names/.out_tif.rp-tmp-%ld-abc123", root, (long)getpid());
    CHECK(exists(expect));
    strcat(expect, "/out.tif");
    CHECK_EQ_STR(a ? rp_stage_path(a) : NULL, expect);
    CHECK(a && !exists(rp_stage_path(a)));
    /* the same name again: refused (mkdir, like O_EXCL), never shared */
    rp_error err2 = {0};
    CHECK_EQ_INT(rp_stage_open_as(final, "abc123", 0, &b, &err2), RP_WRITE);
    CHECK(b == NULL);
    CHECK(strstr(err2.message, "exists") != NULL);
    snprintf(expect, sizeof expect, "%s/names/.out_tif.rp-tmp-%ld-abc123", root, (long)getpid());
    CHECK(exists(expect)); /* the first stage is untouched */
    /* a plain file holding the name blocks it too */
    char blocker[256];
    snprintf(blocker, sizeof blocker, "%s/names/.out_tif.rp-tmp-%ld-xyz789", root, (long)getpid());
    write_text(blocker, "someone's");
    rp_error err4 = {0};
    CHECK_EQ_INT(rp_stage_open_as(final, "xyz789", RP_STAGE_CREATE, &b, &err4), RP_WRITE);
    CHECK(has_text(blocker, "someone's"));
    unlink(blocker);
    /* random names differ */
    rp_stage *c = NULL, *d = NULL;
    CHECK_EQ_INT(rp_stage_open(final, 0, &c, &err), RP_OK);
    CHECK_EQ_INT(rp_stage_open(final, 0, &d, &err), RP_OK);
    CHECK(c && d && strcmp(rp_stage_path(c), rp_stage_path(d)) != 0);
    CHECK(c && strstr(rp_stage_path(c), ".rp-tmp-") != NULL);
    /* a name without an extension */
    char bare[256];
    path_in(bare, sizeof bare, "names", "README");
    rp_stage *e = NULL;
    CHECK_EQ_INT(rp_stage_open_as(bare, "zzz999", RP_STAGE_CREATE, &e, &err), RP_OK);
    snprintf(expect, sizeof expect, "%s/names/.README.rp-tmp-%ld-zzz999/README", root,
             (long)getpid());
    CHECK_EQ_STR(e ? rp_stage_path(e) : NULL, expect);
    CHECK(exists(expect));
    CHECK_EQ_INT(rp_stage_commit(e, &err), RP_OK);
    CHECK(exists(bare) && !exists(expect));
    rp_stage_free(a);
    rp_stage_free(c);
    rp_stage_free(d);
    rp_stage_free(e);
    char list[512];
    listing("names", list, sizeof list);
    CHECK_EQ_STR(list, "README");
    /* a NAME of 250 bytes: the stage's folder name would pass 255 whole */
    char longname[251];
    memset(longname, 'n', 250);
    longname[250] = '\0';
    char longpath[400];
    snprintf(longpath, sizeof longpath, "%s/names/%s", root, longname);
    rp_stage *f = NULL;
    CHECK_EQ_INT(rp_stage_open(longpath, RP_STAGE_CREATE, &f, &err), RP_OK);
    CHECK_EQ_INT(f ? rp_stage_commit(f, &err) : RP_WRITE, RP_OK);
    rp_stage_free(f);
    CHECK(exists(longpath));
    unlink(longpath);
    /* a folder that does not exist */
    path_in(final, sizeof final, "no-such-folder", "x.tif");
    rp_error err3 = {0};
    CHECK_EQ_INT(rp_stage_open(final, 0, &a, &err3), RP_WRITE);
    CHECK(strstr(err3.message, "no-such-folder") != NULL);
}

static void check_mode_under(mode_t mask, mode_t want) {
    char final[256];
    path_in(final, sizeof final, "mode", "m.csv");
    mode_t old = umask(mask);
    rp_error err = {0};
    rp_stage *s = NULL;
    CHECK_EQ_INT(rp_stage_open(final, RP_STAGE_CREATE, &s, &err), RP_OK);
    struct stat sb;
    CHECK(s && stat(rp_stage_path(s), &sb) == 0 && (sb.st_mode & 0777) == want);
    CHECK(s && sb.st_size == 0);
    CHECK_EQ_INT(rp_stage_commit(s, &err), RP_OK);
    CHECK(stat(final, &sb) == 0 && (sb.st_mode & 0777) == want);
    rp_stage_free(s);
    unlink(final);
    umask(old);
}

static void test_umask_respected(void) {
    make_folder("mode");
    check_mode_under(027, 0640);
    check_mode_under(077, 0600);
    check_mode_under(002, 0664);
}

static void test_sidecars_moved(void) {
    make_folder("side");
    char final[256], p[300], list[1024];
    path_in(final, sizeof final, "side", "scene.tif");
    /* an old output with a sidecar the new one will not have, and an
     * unrelated file */
    write_text(final, "old");
    path_in(p, sizeof p, "side", "scene.tif.ovr");
    write_text(p, "old overviews");
    path_in(p, sizeof p, "side", "other.tif");
    write_text(p, "other");
    rp_error err = {0};
    rp_stage *s = NULL;
    CHECK_EQ_INT(rp_stage_open(final, RP_STAGE_CREATE, &s, &err), RP_OK);
    if (!s)
        return;
    const char *tmp = rp_stage_path(s);
    write_text(tmp, "new");
    static const char *const appended[] = {".aux.xml", ".msk"};
    static const char *const replaced[] = {".prj", ".hdr", ".tfw", ".wld"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s%s", tmp, appended[i]);
        write_text(p, appended[i]);
    }
    for (int i = 0; i < 4; i++) { /* TEMPSTEM + extension: ".tif" replaced */
        snprintf(p, sizeof p, "%.*s%s", (int)(strlen(tmp) - 4), tmp, replaced[i]);
        write_text(p, replaced[i]);
    }
    /* a writer's own stage left inside ours is not output */
    snprintf(p, sizeof p, "%.*s/.scene.tif.rp-tmp-1-qqqqqq", (int)(strrchr(tmp, '/') - tmp), tmp);
    CHECK(mkdir(p, 0700) == 0);
    CHECK_EQ_INT(rp_stage_count(s), 7);
    CHECK_EQ_INT(rp_stage_commit(s, &err), RP_OK);
    rp_stage_free(s);
    CHECK(has_text(final, "new"));
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s%s", final, appended[i]);
        CHECK(has_text(p, appended[i]));
    }
    for (int i = 0; i < 4; i++) {
        path_in(p, sizeof p, "side", "scene");
        strcat(p, replaced[i]);
        CHECK(has_text(p, replaced[i]));
    }
    listing("side", list, sizeof list);
    CHECK_EQ_STR(list, "other.tif scene.hdr scene.prj scene.tfw scene.tif scene.tif.aux.xml "
                       "scene.tif.msk scene.wld");
}

static void test_commit_replaces(void) {
    make_folder("repl");
    char final[256], list[512];
    path_in(final, sizeof final, "repl", "t.csv");
    write_text(final, "old contents");
    struct stat before, after;
    CHECK(stat(final, &before) == 0);
    rp_error err = {0};
    rp_stage *s = NULL;
    CHECK_EQ_INT(rp_stage_open(final, 0, &s, &err), RP_OK);
    if (!s)
        return;
    write_text(rp_stage_path(s), "new");
    CHECK(has_text(final, "old contents")); /* untouched until commit */
    CHECK_EQ_INT(rp_stage_commit(s, &err), RP_OK);
    rp_stage_free(s);
    CHECK(has_text(final, "new"));
    CHECK(stat(final, &after) == 0 && after.st_ino != before.st_ino); /* renamed, not rewritten */
    listing("repl", list, sizeof list);
    CHECK_EQ_STR(list, "t.csv");
    /* a writer that made nothing: commit fails, the old file stays */
    CHECK_EQ_INT(rp_stage_open(final, 0, &s, &err), RP_OK);
    rp_error err2 = {0};
    CHECK_EQ_INT(rp_stage_commit(s, &err2), RP_WRITE);
    rp_stage_free(s);
    CHECK(has_text(final, "new"));
    listing("repl", list, sizeof list);
    CHECK_EQ_STR(list, "t.csv");
}

static void test_abort_leaves_nothing(void) {
    make_folder("abort");
    char final[256], p[300], list[512];
    path_in(final, sizeof final, "abort", "v.shp");
    write_text(final, "old");
    rp_error err = {0};
    rp_stage *s = NULL;
    CHECK_EQ_INT(rp_stage_open(final, RP_STAGE_CREATE, &s, &err), RP_OK);
    if (!s)
        return;
    const char *tmp = rp_stage_path(s);
    write_text(tmp, "partial");
    snprintf(p, sizeof p, "%.*s.dbf", (int)(strlen(tmp) - 4), tmp);
    write_text(p, "dbf");
    snprintf(p, sizeof p, "%s.d", tmp); /* a folder a driver made */
    CHECK(mkdir(p, 0777) == 0);
    strcat(p, "/inside");
    write_text(p, "x");
    /* a writer that staged its own output at our temporary's name */
    snprintf(p, sizeof p, "%.*s/.v.shp.rp-tmp-1-abcdef", (int)(strrchr(tmp, '/') - tmp), tmp);
    CHECK(mkdir(p, 0700) == 0);
    strcat(p, "/v.shp");
    write_text(p, "nested");
    rp_stage_abort(s);
    rp_stage_free(s);
    listing("abort", list, sizeof list);
    CHECK_EQ_STR(list, "v.shp");
    CHECK(has_text(final, "old"));
    /* freeing an unfinished stage aborts it */
    CHECK_EQ_INT(rp_stage_open(final, RP_STAGE_CREATE, &s, &err), RP_OK);
    rp_stage_free(s);
    listing("abort", list, sizeof list);
    CHECK_EQ_STR(list, "v.shp");
}

static void test_sweep(void) {
    make_folder("sweep");
    pid_t gone = dead_pid();
    long me = (long)getpid();
    char p[300], name[128], list[1024];
    /* a dead process's temporary, its reservation, and a batch-era nested name */
    for (int i = 0; i < 3; i++) {
        if (i == 0)
            snprintf(name, sizeof name, ".a.rp-tmp-%ld-abcdef.tif", (long)gone);
        else if (i == 1)
            snprintf(name, sizeof name, ".a.rp-tmp-%ld-abcdef", (long)gone);
        else
            snprintf(name, sizeof name, "..a.rp-tmp-%ld-3-1.tif.rasterpool-AbC123.tif", (long)gone);
        path_in(p, sizeof p, "sweep", name);
        write_text(p, "stale");
    }
    snprintf(name, sizeof name, ".g.rp-tmp-%ld-qwerty.gdb", (long)gone); /* a folder */
    path_in(p, sizeof p, "sweep", name);
    CHECK(mkdir(p, 0777) == 0);
    strcat(p, "/a0000001.gdbtable");
    write_text(p, "stale");
    /* a stage inside a live process's stage, written by a dead worker */
    snprintf(name, sizeof name, "..b.rp-tmp-%ld-aaaaaa.rp-tmp-%ld-bbbbbb.tif", me, (long)gone);
    path_in(p, sizeof p, "sweep", name);
    write_text(p, "stale");
    /* kept: a live process's temporary, names that only look alike */
    snprintf(name, sizeof name, ".live.rp-tmp-%ld-zzzzzz.tif", me);
    path_in(p, sizeof p, "sweep", name);
    write_text(p, "live");
    snprintf(name, sizeof name, "visible.rp-tmp-%ld-abcdef.tif", (long)gone);
    path_in(p, sizeof p, "sweep", name);
    write_text(p, "not hidden");
    path_in(p, sizeof p, "sweep", ".x.rp-tmp-abc-def.tif");
    write_text(p, "no pid");
    char dir[128];
    snprintf(dir, sizeof dir, "%s/sweep", root);
    CHECK_EQ_INT(rp_stage_sweep(dir), 5);
    listing("sweep", list, sizeof list);
    char want[512];
    snprintf(want, sizeof want,
             ".live.rp-tmp-%ld-zzzzzz.tif .x.rp-tmp-abc-def.tif "
             "visible.rp-tmp-%ld-abcdef.tif",
             me, (long)gone);
    CHECK_EQ_STR(list, want);
    CHECK_EQ_INT(rp_stage_sweep("/no/such/folder"), 0);
}

/* issue 17 item 4: a set of files replaced as a set. The output moves
 * last, so a destination "v.shp" that is a non-empty folder makes its move
 * fail after both sidecars moved: they must go back, the old ones return. */
static void test_replace_set_rolls_back(void) {
    make_folder("set");
    char shp[256], dbf[256], shx[256], cpg[256], blocker[256], list[512];
    path_in(shp, sizeof shp, "set", "v.shp");
    path_in(dbf, sizeof dbf, "set", "v.dbf");
    path_in(shx, sizeof shx, "set", "v.shx");
    path_in(cpg, sizeof cpg, "set", "v.cpg");
    write_text(dbf, "old dbf");
    write_text(shx, "old shx");
    write_text(cpg, "old cpg"); /* the new set has none */
    mkdir(shp, 0700);
    path_in(blocker, sizeof blocker, "set", "v.shp/inside");
    write_text(blocker, "x");
    const char *old[] = {dbf, shx, cpg, NULL, "/elsewhere/v.prj"};
    rp_error err = {0};
    rp_stage *s = NULL;
    CHECK_EQ_INT(rp_stage_open(shp, 0, &s, &err), RP_OK);
    if (!s)
        return;
    char member[300];
    write_text(rp_stage_path(s), "new shp");
    snprintf(member, sizeof member, "%.*s/v.dbf",
             (int)(strrchr(rp_stage_path(s), '/') - rp_stage_path(s)), rp_stage_path(s));
    write_text(member, "new dbf");
    snprintf(member, sizeof member, "%.*s/v.shx",
             (int)(strrchr(rp_stage_path(s), '/') - rp_stage_path(s)), rp_stage_path(s));
    write_text(member, "new shx");
    CHECK_EQ_INT(rp_stage_commit_replacing(s, old, 5, &err), RP_WRITE);
    rp_stage_free(s);
    CHECK(has_text(dbf, "old dbf"));
    CHECK(has_text(shx, "old shx"));
    CHECK(has_text(cpg, "old cpg"));
    listing("set", list, sizeof list);
    CHECK_EQ_STR(list, "v.cpg v.dbf v.shp v.shx");
    /* the folder gone: the new set goes in whole, v.cpg (old only) goes */
    unlink(blocker);
    rmdir(shp);
    write_text(shp, "old shp");
    CHECK_EQ_INT(rp_stage_open(shp, 0, &s, &err), RP_OK);
    if (!s)
        return;
    write_text(rp_stage_path(s), "new shp");
    snprintf(member, sizeof member, "%.*s/v.dbf",
             (int)(strrchr(rp_stage_path(s), '/') - rp_stage_path(s)), rp_stage_path(s));
    write_text(member, "new dbf");
    const char *old2[] = {shp, dbf, shx, cpg};
    CHECK_EQ_INT(rp_stage_commit_replacing(s, old2, 4, &err), RP_OK);
    rp_stage_free(s);
    CHECK(has_text(shp, "new shp"));
    CHECK(has_text(dbf, "new dbf"));
    listing("set", list, sizeof list);
    CHECK_EQ_STR(list, "v.dbf v.shp");
}

int main(void) {
    snprintf(root, sizeof root, "/tmp/rp_stage_XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_names_and_collision();
    test_umask_respected();
    test_sidecars_moved();
    test_commit_replaces();
    test_abort_leaves_nothing();
    test_sweep();
    test_replace_set_rolls_back();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return CHECK_DONE();
}
