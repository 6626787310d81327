/*
 * sysinfo.c — how many CPUs and how much memory this process may really use.
 *
 * Design: usable CPUs are the affinity mask (sched_getaffinity) capped by the
 * cgroup CPU quota, rounded up; usable memory is physical RAM capped by the
 * cgroup memory limit. The cgroup readers find the process's cgroup path in
 * ROOT/proc/self/cgroup and the hierarchy's mount in ROOT/proc/self/mountinfo,
 * then read the limit file in the cgroup's folder and in every parent up to
 * the mount's root, keeping the smallest limit (a parent's limit binds its
 * children too). Layouts:
 *  - v2: the "0::/path" line and the cgroup2 mount; cpu.max, memory.max.
 *  - v1: the line whose controller list holds "cpu" (or "memory") as a whole
 *    token, and the "cgroup" mount whose super options hold it;
 *    cpu.cfs_quota_us / cpu.cfs_period_us, memory.limit_in_bytes.
 *  - hybrid: v1 controllers plus a controller-less cgroup2 mount. A mounted v1
 *    controller whose files can be read wins; v2 is used otherwise, and it
 *    only counts where its files exist.
 * The mount's root (4th mountinfo field) is taken off the front of the cgroup
 * path: in a container, root "/docker/abc" and path "/docker/abc" mean the
 * mount point itself is the cgroup's folder.
 *
 * ROOT is prefixed to every path by plain concatenation ("" is the real
 * system), including the mount points read from mountinfo, so tests can point
 * the readers at a fake tree.
 *
 * Robustness: every file is read whole into a heap buffer of bounded size (a
 * longer file is truncated, never overflowed); lines of any length are
 * handled; a missing file, a truncated line or a number that does not parse
 * or overflows just means "no limit known here", so the answer is 0.
 *
 * Threads: none. Every function is stateless and re-entrant (no static data),
 * safe to call from any thread at any time.
 * Ownership: all memory is allocated and freed inside each call; the caller
 * owns nothing and passes nothing that is kept.
 *
 * Size: over 600 lines on purpose. It is one concern (the cgroup layouts
 * above) whose v1 and v2 readers share the mount and path walking; split
 * apart they would each need that walk exported, and the layouts are easier
 * to check against each other side by side. The fuzz target fuzz_cgroup
 * drives all of it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, CPU_ALLOC */
#endif

#include "sysinfo.h"
#include "rasterpool.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Size caps for whole-file reads. mountinfo on a busy host can hold tens of
 * thousands of mounts; limit files hold one short line. */
#define RP_PROC_FILE_CAP ((size_t)16 << 20)
#define RP_VALUE_FILE_CAP ((size_t)4096)

/* Memory limits at or above 2^60 bytes mean "unlimited" (v1 writes
 * 9223372036854771712, i.e. LONG_MAX rounded down to a page). */
#define RP_MEM_UNLIMITED ((uint64_t)1 << 60)

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

/* a + b + c in a new heap string; NULL arguments count as "". NULL on OOM. */
static char *concat3(const char *a, const char *b, const char *c) {
    size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0, lc = c ? strlen(c) : 0;
    if (la > SIZE_MAX - 1 - lb || la + lb > SIZE_MAX - 1 - lc)
        return NULL;
    char *s = malloc(la + lb + lc + 1);
    if (!s)
        return NULL;
    if (la)
        memcpy(s, a, la);
    if (lb)
        memcpy(s + la, b, lb);
    if (lc)
        memcpy(s + la + lb, c, lc);
    s[la + lb + lc] = '\0';
    return s;
}

/* Reads at most cap bytes of the file at path into a new NUL-terminated heap
 * buffer (one spare byte after the data), and its length into *len. NULL when
 * the file cannot be opened or read, or on OOM. O_NONBLOCK keeps a stray FIFO
 * from blocking us. */
static char *read_file(const char *path, size_t cap, size_t *len) {
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return NULL;
    size_t size = 0, alloc = 256;
    char *buf = malloc(alloc);
    if (!buf) {
        close(fd);
        return NULL;
    }
    for (;;) {
        if (size == cap)
            break; /* truncated: enough for any sane file */
        if (alloc - 1 - size == 0) {
            size_t grow = alloc * 2;
            if (grow > cap + 1)
                grow = cap + 1;
            char *nb = realloc(buf, grow);
            if (!nb) {
                free(buf);
                close(fd);
                return NULL;
            }
            buf = nb;
            alloc = grow;
        }
        size_t want = alloc - 1 - size;
        if (want > cap - size)
            want = cap - size;
        ssize_t got = read(fd, buf + size, want);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            free(buf);
            close(fd);
            return NULL;
        }
        if (got == 0)
            break;
        size += (size_t)got;
    }
    close(fd);
    buf[size] = '\0';
    *len = size;
    return buf;
}

/* Cuts the next line out of [*cur, end) in place (the '\n', or the spare byte
 * after the buffer, becomes '\0') and returns it, or NULL at the end. A line
 * holding a NUL byte is simply seen shorter. */
static char *next_line(char **cur, char *end) {
    char *p = *cur;
    if (p >= end)
        return NULL;
    char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl) {
        *nl = '\0';
        *cur = nl + 1;
    } else {
        *end = '\0';
        *cur = end;
    }
    return p;
}

/* Whether the comma-separated list holds name as a whole token ("cpu" is in
 * "cpu,cpuacct" and "rw,cpu" but not in "cpuset"). */
static int list_has(const char *list, const char *name) {
    size_t n = strlen(name);
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0)
            return 1;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* Decodes mountinfo's octal escapes (\040 for a space, \134 for a backslash)
 * in place. Anything that is not a valid escape of a non-NUL byte stays. */
static void unescape_octal(char *s) {
    char *w = s;
    for (const char *r = s; *r;) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            int v = (r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0');
            if (v != 0) {
                *w++ = (char)v;
                r += 4;
                continue;
            }
        }
        *w++ = *r++;
    }
    *w = '\0';
}

/* Drops trailing '/' characters (so "/" becomes ""). */
static void strip_trailing_slashes(char *s) {
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        s[--n] = '\0';
}

/* Parses an optionally signed decimal integer that fits in int64_t, with
 * leading blanks allowed. Sets *end after the digits. 0 on failure (no
 * digits, overflow). */
static int parse_i64(const char *s, const char **end, int64_t *out) {
    while (*s == ' ' || *s == '\t')
        s++;
    int neg = 0;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (*s < '0' || *s > '9')
        return 0;
    uint64_t v = 0;
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (lim - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *end = s;
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 1;
}

/* Whether only blanks and newlines are left in s. */
static int only_space_left(const char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return *s == '\0';
}

/* Parses a file that must hold exactly one integer (plus blanks). */
static int parse_one_i64(const char *s, int64_t *out) {
    const char *end;
    return parse_i64(s, &end, out) && only_space_left(end);
}

/* ------------------------------------------------------------------------ */
/* Finding the cgroup's folder                                               */
/* ------------------------------------------------------------------------ */

/* The cgroup path of this process (a new heap string) for a v1 controller,
 * or for the v2 unified hierarchy when controller is NULL. NULL when absent. */
static char *cgroup_path(const char *root, const char *controller) {
    char *file = concat3(root, "/proc/self/cgroup", NULL);
    if (!file)
        return NULL;
    size_t len;
    char *buf = read_file(file, RP_PROC_FILE_CAP, &len);
    free(file);
    if (!buf)
        return NULL;
    char *result = NULL, *cur = buf, *line;
    while (!result && (line = next_line(&cur, buf + len)) != NULL) {
        /* hierarchy-id:controller-list:path (the path may hold colons) */
        char *c1 = strchr(line, ':');
        if (!c1)
            continue;
        char *c2 = strchr(c1 + 1, ':');
        if (!c2)
            continue;
        *c1 = '\0';
        *c2 = '\0';
        const char *id = line, *ctl = c1 + 1, *path = c2 + 1;
        if (path[0] != '/')
            continue;
        int match =
            controller ? list_has(ctl, controller) : (strcmp(id, "0") == 0 && ctl[0] == '\0');
        if (match)
            result = concat3(path, NULL, NULL);
    }
    free(buf);
    return result;
}

/* The cgroup path relative to a mount's root (both without trailing '/'),
 * or NULL when the cgroup does not lie under that root. */
static const char *relative_to(const char *cgpath, const char *mroot) {
    size_t m = strlen(mroot);
    if (m == 0)
        return cgpath;
    if (strncmp(cgpath, mroot, m) == 0 && (cgpath[m] == '\0' || cgpath[m] == '/'))
        return cgpath + m;
    return NULL;
}

/* Where a cgroup's files are: dir is ROOT + mount point + the path under the
 * mount's root; dir[0 .. base_len) is ROOT + mount point, where the walk up
 * the parents stops. */
typedef struct cg_folder {
    char *dir;
    size_t base_len;
} cg_folder;

/* Finds the mount of the hierarchy (fstype "cgroup2", or "cgroup" with
 * controller among its super options) that holds cgpath, and fills *out.
 * Returns 1 when found. */
static int find_folder(const char *root, const char *fstype, const char *controller,
                       const char *cgpath, cg_folder *out) {
    out->dir = NULL;
    out->base_len = 0;
    char *file = concat3(root, "/proc/self/mountinfo", NULL);
    if (!file)
        return 0;
    size_t len;
    char *buf = read_file(file, RP_PROC_FILE_CAP, &len);
    free(file);
    if (!buf)
        return 0;

    char *cg = concat3(cgpath, NULL, NULL);
    if (!cg) {
        free(buf);
        return 0;
    }
    strip_trailing_slashes(cg);

    char *cur = buf, *line;
    while (!out->dir && (line = next_line(&cur, buf + len)) != NULL) {
        /* id parent maj:min root mountpoint options [optional...] - fstype
         * source superoptions */
        char *save = NULL, *fields[6], *t = strtok_r(line, " \t", &save);
        int n = 0;
        while (t && n < 6) {
            fields[n++] = t;
            t = n < 6 ? strtok_r(NULL, " \t", &save) : NULL;
        }
        if (n < 6 || strcmp(fields[5], "-") == 0)
            continue; /* too short, or no mount options: not a mountinfo line */
        /* skip the optional fields up to the "-" separator */
        while ((t = strtok_r(NULL, " \t", &save)) != NULL && strcmp(t, "-") != 0)
            continue;
        if (!t)
            continue; /* no separator: truncated line */
        char *fs = strtok_r(NULL, " \t", &save), *super;
        if (!fs || strcmp(fs, fstype) != 0)
            continue;
        if (controller) {
            if (!strtok_r(NULL, " \t", &save)) /* source */
                continue;
            super = strtok_r(NULL, " \t", &save);
            if (!super || !list_has(super, controller))
                continue;
        }
        char *mroot = fields[3], *mpoint = fields[4];
        unescape_octal(mroot);
        unescape_octal(mpoint);
        strip_trailing_slashes(mroot);
        strip_trailing_slashes(mpoint);
        const char *rel = relative_to(cg, mroot);
        if (!rel)
            continue;
        char *base = concat3(root, mpoint, NULL);
        if (!base)
            break;
        out->base_len = strlen(base);
        out->dir = concat3(base, rel, NULL);
        free(base);
    }
    free(cg);
    free(buf);
    return out->dir != NULL;
}

/* ------------------------------------------------------------------------ */
/* Reading limits along the path                                             */
/* ------------------------------------------------------------------------ */

typedef enum limit_kind { CPU_V2, CPU_V1, MEM_V2, MEM_V1 } limit_kind;

/* What the walk found: seen is set when some limit file could be read (even
 * one that says "unlimited"); cpus / bytes hold the smallest limit, 0 when
 * none. */
typedef struct limit_acc {
    int seen;
    double cpus;
    uint64_t bytes;
} limit_acc;

/* Reads dir/name (a limit file) into a new heap string, or NULL. */
static char *read_value(const char *dir, const char *name) {
    char *path = concat3(dir, "/", name);
    if (!path)
        return NULL;
    size_t len;
    char *s = read_file(path, RP_VALUE_FILE_CAP, &len);
    free(path);
    return s;
}

static void take_cpus(limit_acc *acc, double cpus) {
    if (cpus > 0 && cpus <= DBL_MAX && (acc->cpus == 0 || cpus < acc->cpus))
        acc->cpus = cpus;
}

static void take_bytes(limit_acc *acc, int64_t v) {
    if (v <= 0 || (uint64_t)v >= RP_MEM_UNLIMITED)
        return; /* unlimited, or nonsense */
    if (acc->bytes == 0 || (uint64_t)v < acc->bytes)
        acc->bytes = (uint64_t)v;
}

/* v2 cpu.max: "max PERIOD" (no limit) or "QUOTA PERIOD". */
static void visit_cpu_v2(const char *dir, limit_acc *acc) {
    char *s = read_value(dir, "cpu.max");
    if (!s)
        return;
    acc->seen = 1;
    const char *p = s;
    int64_t quota, period;
    const char *end;
    /* "max ..." fails to parse as a number: no limit at this level */
    if (parse_i64(p, &end, &quota) && (*end == ' ' || *end == '\t') &&
        parse_one_i64(end, &period) && quota > 0 && period > 0)
        take_cpus(acc, (double)quota / (double)period);
    free(s);
}

/* v1 cpu.cfs_quota_us (-1: no limit) over cpu.cfs_period_us. */
static void visit_cpu_v1(const char *dir, limit_acc *acc) {
    char *q = read_value(dir, "cpu.cfs_quota_us");
    if (!q)
        return;
    acc->seen = 1;
    int64_t quota, period;
    if (parse_one_i64(q, &quota) && quota > 0) {
        char *p = read_value(dir, "cpu.cfs_period_us");
        if (p && parse_one_i64(p, &period) && period > 0)
            take_cpus(acc, (double)quota / (double)period);
        free(p);
    }
    free(q);
}

/* v2 memory.max ("max": no limit) and v1 memory.limit_in_bytes. */
static void visit_mem(const char *dir, const char *name, limit_acc *acc) {
    char *s = read_value(dir, name);
    if (!s)
        return;
    acc->seen = 1;
    int64_t v;
    if (parse_one_i64(s, &v))
        take_bytes(acc, v);
    free(s);
}

static void visit(limit_kind kind, const char *dir, limit_acc *acc) {
    switch (kind) {
    case CPU_V2: visit_cpu_v2(dir, acc); break;
    case CPU_V1: visit_cpu_v1(dir, acc); break;
    case MEM_V2: visit_mem(dir, "memory.max", acc); break;
    case MEM_V1: visit_mem(dir, "memory.limit_in_bytes", acc); break;
    }
}

/* Reads the limit of one hierarchy from the cgroup's folder up to the mount's
 * root. Returns 1 when the hierarchy was found (controller listed in
 * /proc/self/cgroup and mounted), with *acc filled. */
static int read_limit(const char *root, limit_kind kind, limit_acc *acc) {
    acc->seen = 0;
    acc->cpus = 0;
    acc->bytes = 0;
    const char *controller = NULL;
    if (kind == CPU_V1)
        controller = "cpu";
    else if (kind == MEM_V1)
        controller = "memory";
    const char *fstype = controller ? "cgroup" : "cgroup2";

    char *cgpath = cgroup_path(root, controller);
    if (!cgpath)
        return 0;
    cg_folder f;
    int found = find_folder(root, fstype, controller, cgpath, &f);
    free(cgpath);
    if (!found)
        return 0;

    /* dir = base + "/a/b": visit base/a/b, base/a, base. Each step cuts at
     * least one character, so the walk ends. */
    char *dir = f.dir;
    size_t n = strlen(dir);
    while (n > f.base_len && dir[n - 1] == '/')
        n--;
    for (;;) {
        dir[n] = '\0';
        visit(kind, dir, acc);
        if (n <= f.base_len)
            break;
        while (n > f.base_len && dir[n - 1] != '/')
            n--;
        while (n > f.base_len && dir[n - 1] == '/')
            n--;
    }
    free(dir);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Internal API (sysinfo_internal.h)                                         */
/* ------------------------------------------------------------------------ */

double rp_cgroup_cpu_quota(const char *root) {
    if (!root)
        root = "";
    limit_acc acc;
    /* Hybrid: a mounted v1 cpu controller whose files exist wins. */
    if (read_limit(root, CPU_V1, &acc) && acc.seen)
        return acc.cpus;
    if (read_limit(root, CPU_V2, &acc))
        return acc.cpus;
    return 0;
}

uint64_t rp_cgroup_memory_limit(const char *root) {
    if (!root)
        root = "";
    limit_acc acc;
    if (read_limit(root, MEM_V1, &acc) && acc.seen)
        return acc.bytes;
    if (read_limit(root, MEM_V2, &acc))
        return acc.bytes;
    return 0;
}

int rp_cpus_from_limits(int affinity_cpus, double quota) {
    double best = affinity_cpus > 0 ? (double)affinity_cpus : 0;
    /* quota > 0 is false for NaN; DBL_MAX bounds out infinity. */
    if (quota > 0 && quota <= DBL_MAX && (best == 0 || quota < best))
        best = quota;
    if (best < 1)
        return 1;
    if (best >= (double)INT_MAX)
        return INT_MAX;
    int n = (int)best; /* ceil without libm */
    if ((double)n < best)
        n++;
    return n;
}

/* ------------------------------------------------------------------------ */
/* Public API (rasterpool.h)                                                 */
/* ------------------------------------------------------------------------ */

/* CPUs in this process's affinity mask, or 0 when unknown. The mask may be
 * larger than the default cpu_set_t (over 1024 CPUs): grow until it fits. */
static int affinity_cpus(void) {
#if defined(__linux__) && defined(CPU_ALLOC)
    for (int ncpu = 1024; ncpu <= (1 << 22); ncpu *= 2) {
        cpu_set_t *set = CPU_ALLOC(ncpu);
        if (!set)
            return 0;
        size_t size = CPU_ALLOC_SIZE(ncpu);
        CPU_ZERO_S(size, set);
        if (sched_getaffinity(0, size, set) == 0) {
            int count = CPU_COUNT_S(size, set);
            CPU_FREE(set);
            return count;
        }
        int e = errno;
        CPU_FREE(set);
        if (e != EINVAL)
            return 0;
    }
#endif
    return 0;
}

RP_API int rp_usable_cpus(void) {
    int cpus = affinity_cpus();
    if (cpus <= 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        cpus = online > 0 && online < INT_MAX ? (int)online : 1;
    }
    return rp_cpus_from_limits(cpus, rp_cgroup_cpu_quota(""));
}

RP_API uint64_t rp_usable_memory(void) {
    uint64_t phys = 0;
    long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page_size > 0 && (uint64_t)pages <= UINT64_MAX / (uint64_t)page_size)
        phys = (uint64_t)pages * (uint64_t)page_size;
    uint64_t limit = rp_cgroup_memory_limit("");
    if (limit > 0 && (phys == 0 || limit < phys))
        return limit;
    return phys;
}
