/*
 * worker_path.c — the default worker program of a batch (worker_path.h).
 *
 * The library finds its worker from its own location, not from the host
 * program's: dladdr() on a function of this file names the shared object
 * the code was loaded from (or the program, when linked statically), and
 * the worker lies at a fixed path relative to it, given at build time
 * (RP_LIBDIR_TO_WORKER, from GNUInstallDirs' LIBDIR and LIBEXECDIR), so a
 * relocated install prefix still works. The build tree's worker
 * (RP_BUILD_WORKER) serves a library used where it was built.
 *
 * Threads: the library-relative path is computed once (pthread_once) into
 * a static buffer; the environment is read at each call.
 */
#define _GNU_SOURCE /* dladdr */
#include "worker_path.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef RP_LIBDIR_TO_WORKER
#define RP_LIBDIR_TO_WORKER "../libexec/rasterpool/rasterpool-worker"
#endif
#ifndef RP_BUILD_DIR
#define RP_BUILD_DIR ""
#endif
#ifndef RP_BUILD_WORKER
#define RP_BUILD_WORKER ""
#endif

/* Whether path (resolved) lies under dir (resolved). */
static int is_under(const char *path, const char *dir) {
    if (!dir[0])
        return 0;
    char real_path[PATH_MAX], real_dir[PATH_MAX];
    if (!realpath(path, real_path) || !realpath(dir, real_dir))
        return 0;
    size_t n = strlen(real_dir);
    return strncmp(real_path, real_dir, n) == 0 && (real_path[n] == '/' || real_path[n] == '\0');
}

int rp_batch_worker_for(const char *object_path, const char *relative, const char *build_dir,
                        const char *build_worker, char *buf, size_t size) {
    const char *slash = strrchr(object_path, '/');
    int dir_len = slash ? (int)(slash - object_path) : 1;
    const char *dir = slash ? object_path : ".";
    int n = snprintf(buf, size, "%.*s/%s", dir_len, dir, relative);
    if (n < 0 || (size_t)n >= size)
        return -1;
    if (access(buf, X_OK) == 0)
        return 0;
    if (build_worker[0] && is_under(object_path, build_dir)) {
        n = snprintf(buf, size, "%s", build_worker);
        if (n < 0 || (size_t)n >= size)
            return -1;
    }
    return 0;
}

static char default_worker[PATH_MAX];
static pthread_once_t default_worker_once = PTHREAD_ONCE_INIT;

/* The file this code was loaded from, made absolute (a library found
 * through a relative LD_LIBRARY_PATH, a program started by a relative
 * name); the program itself when dladdr cannot tell. */
static void find_default_worker(void) {
    char self[PATH_MAX] = "";
    Dl_info info;
    if (dladdr((void *)find_default_worker, &info) && info.dli_fname && info.dli_fname[0] &&
        !realpath(info.dli_fname, self))
        self[0] = '\0';
    if (!self[0] && !realpath("/proc/self/exe", self))
        self[0] = '\0';
    if (!self[0] || rp_batch_worker_for(self, RP_LIBDIR_TO_WORKER, RP_BUILD_DIR, RP_BUILD_WORKER,
                                        default_worker, sizeof default_worker) != 0)
        snprintf(default_worker, sizeof default_worker, "%s", RP_BUILD_WORKER);
}

const char *rp_batch_default_worker(void) {
    const char *env = getenv("RASTERPOOL_WORKER");
    if (env && env[0])
        return env;
    pthread_once(&default_worker_once, find_default_worker);
    return default_worker;
}
