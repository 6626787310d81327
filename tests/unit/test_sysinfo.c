/*
 * test_sysinfo.c — the cgroup readers against fake /proc and /sys trees
 * built at run time under a mkdtemp folder (v2, v1, containers, hybrid,
 * missing files, garbage), each checked against hand-computed limits; then
 * rp_usable_cpus / rp_usable_memory on the real system. Single-threaded; the
 * temp tree is removed at the end.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp, lstat */
#endif

#include "rasterpool.h"
#include "sysinfo.h"

#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_tmp[] = "/tmp/rp_test_sysinfo_XXXXXX";

/* A v2-only host: the unified hierarchy at /sys/fs/cgroup. */
static const char *const MI_V2 =
    "22 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

/* A v1 host: cpuset listed before cpu,cpuacct to catch substring matches. */
static const char *const MI_V1 =
    "31 23 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:14 - cgroup "
    "cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - "
    "cgroup cgroup rw,cpu,cpuacct\n"
    "36 31 0:33 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup "
    "cgroup rw,memory\n";

static const char *const CG_V1 = "12:memory:/user.slice\n"
                                 "3:cpuset:/user.slice/job\n"
                                 "4:cpu,cpuacct:/user.slice/job\n"
                                 "1:name=systemd:/user.slice/job\n";

/* Writes content to g_tmp/rel, creating the folders on the way. */
static void put(const char *rel, const char *content) {
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", g_tmp, rel);
    if (n < 0 || (size_t)n >= sizeof path) {
        fprintf(stderr, "path too long: %s\n", rel);
        exit(2);
    }
    for (char *p = path + strlen(g_tmp) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST) {
                perror(path);
                exit(2);
            }
            *p = '/';
        }
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(content, f);
    if (fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

/* The root argument for a case folder. */
static const char *root_of(const char *name) {
    static char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s/%s", g_tmp, name);
    return buf;
}

static int rm_rf(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0)
        return -1;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return -1;
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
        return rmdir(path);
    }
    return unlink(path);
}

static int near(double a, double b) {
    double d = a - b;
    return d < 1e-9 && d > -1e-9;
}

/* v2: the tightest quota is at a parent, the leaf says "max". */
static void test_v2_parent_quota(void) {
    put("v2/proc/self/cgroup", "0::/a/b/c\n");
    put("v2/proc/self/mountinfo", MI_V2);
    put("v2/sys/fs/cgroup/a/b/c/cpu.max", "max 100000\n");
    put("v2/sys/fs/cgroup/a/b/cpu.max", "250000 100000\n");
    put("v2/sys/fs/cgroup/a/cpu.max", "400000 100000\n");
    put("v2/sys/fs/cgroup/a/b/c/memory.max", "max\n");
    put("v2/sys/fs/cgroup/a/b/memory.max", "2147483648\n");
    put("v2/sys/fs/cgroup/a/memory.max", "1073741824\n");
    const char *r = root_of("v2");
    CHECK(near(rp_cgroup_cpu_quota(r), 2.5));
    CHECK_EQ_INT(rp_cgroup_memory_limit(r), 1073741824);
    CHECK_EQ_INT(rp_cpus_from_limits(8, rp_cgroup_cpu_quota(r)), 3);
    CHECK_EQ_INT(rp_cpus_from_limits(2, rp_cgroup_cpu_quota(r)), 2);

    /* A trailing slash on the cgroup path changes nothing. */
    put("v2slash/proc/self/cgroup", "0::/a/b/c/\n");
    put("v2slash/proc/self/mountinfo", MI_V2);
    put("v2slash/sys/fs/cgroup/a/b/cpu.max", "50000 100000\n");
    CHECK(near(rp_cgroup_cpu_quota(root_of("v2slash")), 0.5));
    CHECK_EQ_INT(rp_cpus_from_limits(8, rp_cgroup_cpu_quota(root_of("v2slash"))), 1);
}

/* v2 with no limits anywhere. */
static void test_v2_max(void) {
    put("v2max/proc/self/cgroup", "0::/user.slice/session-1.scope\n");
    put("v2max/proc/self/mountinfo", MI_V2);
    put("v2max/sys/fs/cgroup/user.slice/session-1.scope/cpu.max", "max 100000\n");
    put("v2max/sys/fs/cgroup/user.slice/cpu.max", "max 100000\n");
    put("v2max/sys/fs/cgroup/user.slice/session-1.scope/memory.max", "max\n");
    put("v2max/sys/fs/cgroup/user.slice/memory.max", "max\n");
    const char *r = root_of("v2max");
    CHECK(rp_cgroup_cpu_quota(r) == 0);
    CHECK_EQ_INT(rp_cgroup_memory_limit(r), 0);
    CHECK_EQ_INT(rp_cpus_from_limits(6, rp_cgroup_cpu_quota(r)), 6);
}

/* v1 with a quota at the leaf, unlimited parent; cpuset must not be taken
 * for cpu. */
static void test_v1_quota(void) {
    put("v1/proc/self/cgroup", CG_V1);
    put("v1/proc/self/mountinfo", MI_V1);
    put("v1/sys/fs/cgroup/cpu,cpuacct/user.slice/job/cpu.cfs_quota_us", "150000\n");
    put("v1/sys/fs/cgroup/cpu,cpuacct/user.slice/job/cpu.cfs_period_us", "100000\n");
    put("v1/sys/fs/cgroup/cpu,cpuacct/user.slice/cpu.cfs_quota_us", "-1\n");
    put("v1/sys/fs/cgroup/cpu,cpuacct/user.slice/cpu.cfs_period_us", "100000\n");
    put("v1/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
    put("v1/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    /* decoy: a quota file under the cpuset hierarchy */
    put("v1/sys/fs/cgroup/cpuset/user.slice/job/cpu.cfs_quota_us", "10000\n");
    put("v1/sys/fs/cgroup/cpuset/user.slice/job/cpu.cfs_period_us", "100000\n");
    put("v1/sys/fs/cgroup/memory/user.slice/memory.limit_in_bytes", "536870912\n");
    put("v1/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
    const char *r = root_of("v1");
    CHECK(near(rp_cgroup_cpu_quota(r), 1.5));
    CHECK_EQ_INT(rp_cgroup_memory_limit(r), 536870912);
    CHECK_EQ_INT(rp_cpus_from_limits(16, rp_cgroup_cpu_quota(r)), 2);
}

/* v1 with no limits: -1 quotas, the "huge" memory limit. */
static void test_v1_unlimited(void) {
    put("v1u/proc/self/cgroup", CG_V1);
    put("v1u/proc/self/mountinfo", MI_V1);
    put("v1u/sys/fs/cgroup/cpu,cpuacct/user.slice/job/cpu.cfs_quota_us", "-1\n");
    put("v1u/sys/fs/cgroup/cpu,cpuacct/user.slice/job/cpu.cfs_period_us", "100000\n");
    put("v1u/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
    put("v1u/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    put("v1u/sys/fs/cgroup/memory/user.slice/memory.limit_in_bytes", "9223372036854771712\n");
    /* exactly 2^60 is "unlimited" too */
    put("v1u/sys/fs/cgroup/memory/memory.limit_in_bytes", "1152921504606846976\n");
    const char *r = root_of("v1u");
    CHECK(rp_cgroup_cpu_quota(r) == 0);
    CHECK_EQ_INT(rp_cgroup_memory_limit(r), 0);
    CHECK_EQ_INT(rp_cpus_from_limits(4, rp_cgroup_cpu_quota(r)), 4);
}

/* Containers: the mount's root equals the cgroup path, so the mount point is
 * the cgroup's folder. Decoys sit where a naive join would look. */
static void test_container(void) {
    put("ctr/proc/self/cgroup", "11:memory:/docker/abc123\n"
                                "4:cpu,cpuacct:/docker/abc123\n"
                                "0::/docker/abc123\n");
    put("ctr/proc/self/mountinfo",
        "700 690 0:50 /docker/abc123 /sys/fs/cgroup/cpu,cpuacct ro,nosuid,nodev,noexec,"
        "relatime master:15 - cgroup cgroup rw,cpu,cpuacct\n"
        "701 690 0:51 /docker/abc123 /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime "
        "master:16 - cgroup cgroup rw,memory\n");
    put("ctr/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "200000\n");
    put("ctr/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    put("ctr/sys/fs/cgroup/cpu,cpuacct/docker/abc123/cpu.cfs_quota_us", "100000\n");
    put("ctr/sys/fs/cgroup/cpu,cpuacct/docker/abc123/cpu.cfs_period_us", "100000\n");
    put("ctr/sys/fs/cgroup/memory/memory.limit_in_bytes", "268435456\n");
    put("ctr/sys/fs/cgroup/memory/docker/abc123/memory.limit_in_bytes", "1048576\n");
    const char *r = root_of("ctr");
    CHECK(near(rp_cgroup_cpu_quota(r), 2.0));
    CHECK_EQ_INT(rp_cgroup_memory_limit(r), 268435456);
    CHECK_EQ_INT(rp_cpus_from_limits(64, rp_cgroup_cpu_quota(r)), 2);

    /* The same in v2, with the cgroup one level under the mount's root and an
     * escaped space in the mount point. */
    put("ctr2/proc/self/cgroup", "0::/system.slice/docker-x.scope/inner\n");
    put("ctr2/proc/self/mountinfo",
        "800 790 0:60 /system.slice/docker-x.scope /sys/fs/my\\040cg rw,nosuid - cgroup2 "
        "cgroup2 rw\n");
    put("ctr2/sys/fs/my cg/inner/cpu.max", "max 100000\n");
    put("ctr2/sys/fs/my cg/cpu.max", "300000 200000\n");
    put("ctr2/sys/fs/my cg/memory.max", "4194304\n");
    const char *r2 = root_of("ctr2");
    CHECK(near(rp_cgroup_cpu_quota(r2), 1.5));
    CHECK_EQ_INT(rp_cgroup_memory_limit(r2), 4194304);

    /* A mount whose root is not a prefix at a path boundary is not taken:
     * "/docker/ab" is not an ancestor of "/docker/abc". */
    put("ctr3/proc/self/cgroup", "0::/docker/abc\n");
    put("ctr3/proc/self/mountinfo",
        "800 790 0:60 /docker/ab /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
    put("ctr3/sys/fs/cgroup/cpu.max", "100000 100000\n");
    put("ctr3/sys/fs/cgroup/c/cpu.max", "100000 100000\n");
    CHECK(rp_cgroup_cpu_quota(root_of("ctr3")) == 0);
}

/* Hybrid: v1 controllers plus a controller-less cgroup2 at .../unified. */
static void test_hybrid(void) {
    const char *mi =
        "31 23 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro\n"
        "32 31 0:29 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - "
        "cgroup2 cgroup2 rw,nsdelegate\n"
        "33 31 0:30 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup "
        "rw,xattr,name=systemd\n"
        "35 31 0:32 / /sys/fs/cgroup/cpu rw,nosuid shared:15 - cgroup cgroup rw,cpu\n"
        "36 31 0:33 / /sys/fs/cgroup/cpuacct rw,nosuid shared:16 - cgroup cgroup rw,cpuacct\n"
        "37 31 0:34 / /sys/fs/cgroup/memory rw,nosuid shared:17 - cgroup cgroup rw,memory\n";
    put("hy/proc/self/cgroup", "9:name=systemd:/user.slice\n"
                               "4:memory:/user.slice\n"
                               "2:cpuacct:/user.slice\n"
                               "1:cpu:/user.slice\n"
                               "0::/user.slice\n");
    put("hy/proc/self/mountinfo", mi);
    put("hy/sys/fs/cgroup/unified/user.slice/cgroup.procs", "1\n");
    put("hy/sys/fs/cgroup/cpu/user.slice/cpu.cfs_quota_us", "300000\n");
    put("hy/sys/fs/cgroup/cpu/user.slice/cpu.cfs_period_us", "100000\n");
    put("hy/sys/fs/cgroup/memory/user.slice/memory.limit_in_bytes", "8589934592\n");
    const char *r = root_of("hy");
    CHECK(near(rp_cgroup_cpu_quota(r), 3.0));
    CHECK_EQ_INT(rp_cgroup_memory_limit(r), 8589934592LL);

    /* The v1 cpu controller wins over a v2 cpu.max. */
    put("hy/sys/fs/cgroup/unified/user.slice/cpu.max", "100000 100000\n");
    CHECK(near(rp_cgroup_cpu_quota(r), 3.0));

    /* No v1 cpu controller listed: only v2, and only where its files exist. */
    put("hy2/proc/self/cgroup", "9:name=systemd:/user.slice\n0::/user.slice\n");
    put("hy2/proc/self/mountinfo", mi);
    put("hy2/sys/fs/cgroup/unified/user.slice/cgroup.procs", "1\n");
    CHECK(rp_cgroup_cpu_quota(root_of("hy2")) == 0);
    CHECK_EQ_INT(rp_cgroup_memory_limit(root_of("hy2")), 0);
    put("hy2/sys/fs/cgroup/unified/user.slice/cpu.max", "50000 100000\n");
    put("hy2/sys/fs/cgroup/unified/user.slice/memory.max", "65536\n");
    CHECK(near(rp_cgroup_cpu_quota(root_of("hy2")), 0.5));
    CHECK_EQ_INT(rp_cgroup_memory_limit(root_of("hy2")), 65536);

    /* v1 cpu listed and mounted but its files are missing: v2 files count. */
    put("hy3/proc/self/cgroup", "1:cpu:/user.slice\n0::/user.slice\n");
    put("hy3/proc/self/mountinfo", mi);
    put("hy3/sys/fs/cgroup/unified/user.slice/cpu.max", "250000 100000\n");
    CHECK(near(rp_cgroup_cpu_quota(root_of("hy3")), 2.5));
}

/* Missing files at each stage. */
static void test_missing(void) {
    put("empty/.keep", "");
    CHECK(rp_cgroup_cpu_quota(root_of("empty")) == 0);
    CHECK_EQ_INT(rp_cgroup_memory_limit(root_of("empty")), 0);
    CHECK(rp_cgroup_cpu_quota(root_of("does-not-exist")) == 0);
    CHECK_EQ_INT(rp_cgroup_memory_limit(root_of("does-not-exist")), 0);

    put("nomi/proc/self/cgroup", "0::/a\n");
    put("nomi/sys/fs/cgroup/a/cpu.max", "100000 100000\n");
    CHECK(rp_cgroup_cpu_quota(root_of("nomi")) == 0);

    put("nocg/proc/self/mountinfo", MI_V2);
    put("nocg/sys/fs/cgroup/cpu.max", "100000 100000\n");
    CHECK(rp_cgroup_cpu_quota(root_of("nocg")) == 0);

    put("nodir/proc/self/cgroup", "0::/a/b\n");
    put("nodir/proc/self/mountinfo", MI_V2);
    CHECK(rp_cgroup_cpu_quota(root_of("nodir")) == 0);
    CHECK_EQ_INT(rp_cgroup_memory_limit(root_of("nodir")), 0);

    /* v1 quota without its period file. */
    put("noper/proc/self/cgroup", CG_V1);
    put("noper/proc/self/mountinfo", MI_V1);
    put("noper/sys/fs/cgroup/cpu,cpuacct/user.slice/job/cpu.cfs_quota_us", "150000\n");
    CHECK(rp_cgroup_cpu_quota(root_of("noper")) == 0);
}

/* Garbage everywhere: unparsable, truncated, overflowing, very long. */
static void test_garbage(void) {
    /* A 100 000-character line, truncated and junk lines, then a good one. */
    size_t big = 100000;
    char *mi = malloc(big + 512);
    CHECK(mi != NULL);
    if (!mi)
        return;
    memset(mi, 'x', big);
    strcpy(mi + big, "\n1 2\n- cgroup2\n9 9 9 / /x - cgroup2\n"
                     "3 4 0:1 /\\ /sys/fs/cgroup/\\777 rw -\n"
                     "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
    put("junk/proc/self/mountinfo", mi);
    free(mi);
    put("junk/proc/self/cgroup", "garbage\n::\n0:\n0:cpu\n0::relative\n:::\n0::/g\n");
    put("junk/sys/fs/cgroup/g/cpu.max", "  120000   100000  \n");
    put("junk/sys/fs/cgroup/g/memory.max", "12345\n");
    CHECK(near(rp_cgroup_cpu_quota(root_of("junk")), 1.2));
    CHECK_EQ_INT(rp_cgroup_memory_limit(root_of("junk")), 12345);

    static const char *const bad_cpu[] = {
        "abc def\n",
        "99999999999999999999999999 100000\n",
        "150000 99999999999999999999999999\n",
        "-5 100000\n",
        "150000\n",
        "150000 100000 junk\n",
        "150000x 100000\n",
        "",
        "\n",
        "max\n",
        "0 100000\n",
    };
    static const char *const bad_mem[] = {
        "12abc\n", "99999999999999999999999\n", "-1\n", "", "max junk\n", "0\n", "1 2\n",
    };
    put("bad/proc/self/cgroup", "0::/g\n");
    put("bad/proc/self/mountinfo", MI_V2);
    for (size_t i = 0; i < sizeof bad_cpu / sizeof bad_cpu[0]; i++) {
        put("bad/sys/fs/cgroup/g/cpu.max", bad_cpu[i]);
        double q = rp_cgroup_cpu_quota(root_of("bad"));
        CHECK(q == 0);
        if (q != 0)
            fprintf(stderr, "  cpu.max \"%s\" gave %g\n", bad_cpu[i], q);
    }
    for (size_t i = 0; i < sizeof bad_mem / sizeof bad_mem[0]; i++) {
        put("bad/sys/fs/cgroup/g/memory.max", bad_mem[i]);
        CHECK_EQ_INT(rp_cgroup_memory_limit(root_of("bad")), 0);
    }

    /* A huge but valid quota: a very large number of CPUs, capped by
     * affinity. */
    put("bad/sys/fs/cgroup/g/cpu.max", "9223372036854775807 1\n");
    CHECK(rp_cgroup_cpu_quota(root_of("bad")) > 1e18);
    CHECK_EQ_INT(rp_cpus_from_limits(12, rp_cgroup_cpu_quota(root_of("bad"))), 12);

    /* v1 garbage */
    put("badv1/proc/self/cgroup", CG_V1);
    put("badv1/proc/self/mountinfo", MI_V1);
    put("badv1/sys/fs/cgroup/cpu,cpuacct/user.slice/job/cpu.cfs_quota_us", "lots\n");
    put("badv1/sys/fs/cgroup/cpu,cpuacct/user.slice/job/cpu.cfs_period_us", "100000\n");
    put("badv1/sys/fs/cgroup/memory/user.slice/memory.limit_in_bytes", "-9223372036854775808\n");
    CHECK(rp_cgroup_cpu_quota(root_of("badv1")) == 0);
    CHECK_EQ_INT(rp_cgroup_memory_limit(root_of("badv1")), 0);

    /* A deep path of many components. */
    char deep[8192] = "0::";
    for (int i = 0; i < 1500; i++)
        strcat(deep, "/d");
    strcat(deep, "\n");
    put("deep/proc/self/cgroup", deep);
    put("deep/proc/self/mountinfo", MI_V2);
    put("deep/sys/fs/cgroup/d/cpu.max", "700000 100000\n");
    CHECK(near(rp_cgroup_cpu_quota(root_of("deep")), 7.0));
}

/* Zero periods are ignored, never divided by. */
static void test_zero_period(void) {
    put("zp/proc/self/cgroup", "0::/z\n");
    put("zp/proc/self/mountinfo", MI_V2);
    put("zp/sys/fs/cgroup/z/cpu.max", "100000 0\n");
    CHECK(rp_cgroup_cpu_quota(root_of("zp")) == 0);

    put("zp1/proc/self/cgroup", CG_V1);
    put("zp1/proc/self/mountinfo", MI_V1);
    put("zp1/sys/fs/cgroup/cpu,cpuacct/user.slice/job/cpu.cfs_quota_us", "100000\n");
    put("zp1/sys/fs/cgroup/cpu,cpuacct/user.slice/job/cpu.cfs_period_us", "0\n");
    CHECK(rp_cgroup_cpu_quota(root_of("zp1")) == 0);
    /* ... while a good parent level still counts */
    put("zp1/sys/fs/cgroup/cpu,cpuacct/user.slice/cpu.cfs_quota_us", "400000\n");
    put("zp1/sys/fs/cgroup/cpu,cpuacct/user.slice/cpu.cfs_period_us", "100000\n");
    CHECK(near(rp_cgroup_cpu_quota(root_of("zp1")), 4.0));
}

static void test_cpus_from_limits(void) {
    CHECK_EQ_INT(rp_cpus_from_limits(8, 0), 8);
    CHECK_EQ_INT(rp_cpus_from_limits(8, 1.5), 2);
    CHECK_EQ_INT(rp_cpus_from_limits(8, 2.0), 2);
    CHECK_EQ_INT(rp_cpus_from_limits(8, 7.01), 8);
    CHECK_EQ_INT(rp_cpus_from_limits(2, 4.0), 2);
    CHECK_EQ_INT(rp_cpus_from_limits(4, 0.01), 1);
    CHECK_EQ_INT(rp_cpus_from_limits(4, -1), 4);
    CHECK_EQ_INT(rp_cpus_from_limits(4, NAN), 4);
    CHECK_EQ_INT(rp_cpus_from_limits(4, INFINITY), 4);
    CHECK_EQ_INT(rp_cpus_from_limits(4, 1e300), 4);
    CHECK_EQ_INT(rp_cpus_from_limits(0, 0), 1);
    CHECK_EQ_INT(rp_cpus_from_limits(-3, 0), 1);
    CHECK_EQ_INT(rp_cpus_from_limits(0, 3.2), 4);
    CHECK_EQ_INT(rp_cpus_from_limits(1, 0), 1);
}

static void test_real_system(void) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int cpus = rp_usable_cpus();
    fprintf(stderr, "real system: %d usable CPUs of %ld online, %" PRIu64 " bytes usable\n", cpus,
            online, rp_usable_memory());
    CHECK(cpus >= 1);
    CHECK(online < 1 || cpus <= online);
    CHECK(rp_usable_memory() > 0);
    /* NULL root means the real system too. */
    CHECK(rp_cgroup_cpu_quota(NULL) == rp_cgroup_cpu_quota(""));
    CHECK_EQ_INT(rp_cgroup_memory_limit(NULL), rp_cgroup_memory_limit(""));
}

int main(void) {
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 2;
    }
    test_v2_parent_quota();
    test_v2_max();
    test_v1_quota();
    test_v1_unlimited();
    test_container();
    test_hybrid();
    test_missing();
    test_garbage();
    test_zero_period();
    test_cpus_from_limits();
    test_real_system();
    CHECK(rm_rf(g_tmp) == 0);
    return CHECK_DONE();
}
