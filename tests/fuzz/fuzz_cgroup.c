/*
 * fuzz_cgroup.c — libFuzzer target for the cgroup readers (lib/core/sysinfo.c).
 *
 * The input is split on the byte 0x01 into up to four parts:
 *   1. ROOT/proc/self/mountinfo
 *   2. ROOT/proc/self/cgroup
 *   3. the CPU limit: written as cpu.max (v2) and cpu.cfs_quota_us (v1)
 *   4. the period / memory limit: cpu.cfs_period_us (v1), memory.max (v2)
 *      and memory.limit_in_bytes (v1)
 * Parts 3 and 4 land at the usual mount points (/sys/fs/cgroup,
 * /sys/fs/cgroup/unified, /sys/fs/cgroup/cpu, /sys/fs/cgroup/memory) and in
 * a child folder "a" of each, so seeds with a cgroup path of "/a" reach them.
 * Then rp_cgroup_cpu_quota, rp_cgroup_memory_limit and rp_cpus_from_limits
 * run on the tree. The tree lives in one temp folder, made on the first call
 * and removed at exit. Single-threaded, as libFuzzer calls it.
 *
 * No main here: it links with libFuzzer or with tests/fuzz/replay_main.c.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#endif

#include "sysinfo.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEP 0x01
#define NPARTS 4

static char g_root[] = "/tmp/rp_fuzz_cgroup_XXXXXX";
static int g_ready;

static const char *const DIRS[] = {
    "/proc/self",
    "/sys/fs/cgroup",
    "/sys/fs/cgroup/a",
    "/sys/fs/cgroup/unified",
    "/sys/fs/cgroup/unified/a",
    "/sys/fs/cgroup/cpu",
    "/sys/fs/cgroup/cpu/a",
    "/sys/fs/cgroup/memory",
    "/sys/fs/cgroup/memory/a",
};

/* Which part goes into which file name, in every folder but /proc/self. */
static const struct {
    const char *name;
    int part;
} VALUES[] = {
    {"cpu.max", 2},    {"cpu.cfs_quota_us", 2},      {"cpu.cfs_period_us", 3},
    {"memory.max", 3}, {"memory.limit_in_bytes", 3},
};

static void rm_rf(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[PATH_MAX];
                int n = snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                if (n > 0 && (size_t)n < sizeof sub)
                    rm_rf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void cleanup(void) {
    if (g_ready)
        rm_rf(g_root);
}

static int setup(void) {
    if (!mkdtemp(g_root))
        return 0;
    for (size_t i = 0; i < sizeof DIRS / sizeof DIRS[0]; i++) {
        char path[PATH_MAX];
        /* mkdir -p, one level at a time */
        snprintf(path, sizeof path, "%s%s", g_root, DIRS[i]);
        for (char *p = path + strlen(g_root) + 1; *p; p++) {
            if (*p == '/') {
                *p = '\0';
                mkdir(path, 0755);
                *p = '/';
            }
        }
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return 0;
    }
    atexit(cleanup);
    return 1;
}

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s/%s", g_root, dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    if (n)
        fwrite(p, 1, n, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_ready) {
        if (!setup())
            abort();
        g_ready = 1;
    }

    /* Split on SEP; the last part takes the rest (separators included). */
    const uint8_t *part[NPARTS];
    size_t len[NPARTS];
    const uint8_t *p = data, *end = data + size;
    for (int i = 0; i < NPARTS; i++) {
        part[i] = p;
        const uint8_t *sep = i < NPARTS - 1 && p < end ? memchr(p, SEP, (size_t)(end - p)) : NULL;
        if (sep) {
            len[i] = (size_t)(sep - p);
            p = sep + 1;
        } else {
            len[i] = (size_t)(end - p);
            p = end;
        }
    }

    write_file("/proc/self", "mountinfo", part[0], len[0]);
    write_file("/proc/self", "cgroup", part[1], len[1]);
    for (size_t d = 1; d < sizeof DIRS / sizeof DIRS[0]; d++)
        for (size_t v = 0; v < sizeof VALUES / sizeof VALUES[0]; v++)
            write_file(DIRS[d], VALUES[v].name, part[VALUES[v].part], len[VALUES[v].part]);

    double quota = rp_cgroup_cpu_quota(g_root);
    uint64_t mem = rp_cgroup_memory_limit(g_root);
    int cpus = rp_cpus_from_limits(8, quota);
    if (cpus < 1 || cpus > 8 || quota < 0 || quota != quota)
        abort(); /* the contract: at least 1, never above affinity */
    if (mem >= ((uint64_t)1 << 60))
        abort(); /* "unlimited" is reported as 0 */
    (void)rp_cpus_from_limits(0, quota);
    return 0;
}
