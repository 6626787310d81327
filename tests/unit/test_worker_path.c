/*
 * test_worker_path.c — which worker program a batch starts by default
 * (lib/batch/worker_path.c): the installed worker relative to the library's
 * own file, the build tree's worker only for a library under the build
 * folder, the installed path (for the error message) otherwise, and
 * RASTERPOOL_WORKER above all. The layouts are made in a temporary folder;
 * no process is started (tests/postinstall and install.client_build_tree
 * run real batches from a host that is not the rasterpool program).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "worker_path.h"

static void make_file(const char *path, mode_t mode) {
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
    chmod(path, mode);
}

static void test_layouts(const char *root) {
    const char *rel = "../libexec/rasterpool/rasterpool-worker";
    char dir[256], build[256], lib[512], worker[512], build_lib[512], build_worker[512];
    char got[512], want[600];
    snprintf(dir, sizeof dir, "%s/prefix/lib", root);
    mkdir(dir, 0777);
    snprintf(lib, sizeof lib, "%s/librasterpool.so.0", dir);
    make_file(lib, 0644);
    snprintf(build, sizeof build, "%s/build", root);
    mkdir(build, 0777);
    snprintf(build_lib, sizeof build_lib, "%s/librasterpool.so.0", build);
    make_file(build_lib, 0644);
    snprintf(build_worker, sizeof build_worker, "%s/rasterpool-worker", build);

    /* installed, worker absent: the installed path, never the build tree's */
    snprintf(want, sizeof want, "%s/%s", dir, rel);
    CHECK_EQ_INT(rp_batch_worker_for(lib, rel, build, build_worker, got, sizeof got), 0);
    CHECK_EQ_STR(got, want);
    /* build tree, no installed layout beside it: the build tree's worker */
    CHECK_EQ_INT(rp_batch_worker_for(build_lib, rel, build, build_worker, got, sizeof got), 0);
    CHECK_EQ_STR(got, build_worker);
    /* installed, worker present but not executable: still not the build's */
    snprintf(worker, sizeof worker, "%s/prefix/libexec", root);
    mkdir(worker, 0777);
    snprintf(worker, sizeof worker, "%s/prefix/libexec/rasterpool", root);
    mkdir(worker, 0777);
    snprintf(worker, sizeof worker, "%s/prefix/libexec/rasterpool/rasterpool-worker", root);
    make_file(worker, 0644);
    CHECK_EQ_INT(rp_batch_worker_for(lib, rel, build, build_worker, got, sizeof got), 0);
    CHECK_EQ_STR(got, want);
    /* installed, worker executable: found */
    chmod(worker, 0755);
    CHECK_EQ_INT(rp_batch_worker_for(lib, rel, build, build_worker, got, sizeof got), 0);
    CHECK_EQ_STR(got, want);
    CHECK(access(got, X_OK) == 0);
    /* no build tree known (empty): the installed path */
    CHECK_EQ_INT(rp_batch_worker_for(build_lib, rel, "", "", got, sizeof got), 0);
    snprintf(want, sizeof want, "%s/%s", build, rel);
    CHECK_EQ_STR(got, want);
    /* a name without a folder: relative to "." */
    CHECK_EQ_INT(rp_batch_worker_for("librasterpool.so.0", rel, "", "", got, sizeof got), 0);
    snprintf(want, sizeof want, "./%s", rel);
    CHECK_EQ_STR(got, want);
    /* a buffer too small */
    CHECK_EQ_INT(rp_batch_worker_for(lib, rel, build, build_worker, got, 8), -1);
}

static void test_default(void) {
    /* this program is in the build tree and links the library statically:
     * the default is the build tree's worker, an executable */
    unsetenv("RASTERPOOL_WORKER");
    const char *def = rp_batch_default_worker();
    CHECK(def != NULL && strstr(def, "rasterpool-worker") != NULL);
    CHECK(def && access(def, X_OK) == 0);
    setenv("RASTERPOOL_WORKER", "/opt/elsewhere/worker", 1);
    CHECK_EQ_STR(rp_batch_default_worker(), "/opt/elsewhere/worker");
    setenv("RASTERPOOL_WORKER", "", 1); /* empty: not set */
    CHECK_EQ_STR(rp_batch_default_worker(), def);
    unsetenv("RASTERPOOL_WORKER");
}

int main(void) {
    char root[] = "/tmp/rp-test-worker-path-XXXXXX";
    if (!mkdtemp(root))
        return 2;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s/prefix", root);
    mkdir(prefix, 0777);
    test_layouts(root);
    test_default();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return CHECK_DONE();
}
