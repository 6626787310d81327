/* test_memhint.c — the huge-page hint (lib/core/memhint.c) is off unless
 * RASTERPOOL_HUGE_PAGES=1: the kernel's own record of the mapping
 * (/proc/self/smaps, VmFlags "hg" = MADV_HUGEPAGE) is the oracle. The
 * switch is read once a process, so the test runs itself again with it
 * set. Where the kernel has no MADV_HUGEPAGE, or refuses it (built
 * without transparent huge pages), the test only checks that nothing is
 * advised. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "memhint.h"

/* Whether the mapping holding p carries the "hg" flag; -1 when smaps
 * cannot be read or has no VmFlags. */
static int advised(const void *p) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[512];
    bool inside = false;
    int found = -1;
    uintptr_t at = (uintptr_t)p;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            inside = at >= lo && at < hi;
            continue;
        }
        if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            found = strstr(line, " hg") != NULL;
            break;
        }
    }
    fclose(f);
    return found;
}

#ifdef MADV_HUGEPAGE
/* Whether this kernel takes MADV_HUGEPAGE at all (one built without
 * transparent huge pages answers EINVAL, and then nothing can be
 * recorded). */
static bool kernel_takes_hint(void) {
    size_t bytes = (size_t)4 << 20;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    bool ok = madvise(p, bytes, MADV_HUGEPAGE) == 0;
    munmap(p, bytes);
    return ok;
}
#endif

/* Hints a fresh 8 MiB mapping and says whether the kernel recorded it;
 * a small array is never advised. */
static int hint_and_look(void) {
    size_t bytes = (size_t)8 << 20;
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    if (p == MAP_FAILED)
        return -1;
    char *small =
        mmap(NULL, (size_t)1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(small != MAP_FAILED);
    rp_hint_huge(p, bytes);
    if (small != MAP_FAILED) {
        rp_hint_huge(small, (size_t)1 << 20);
        CHECK(advised(small) != 1);
        munmap(small, (size_t)1 << 20);
    }
    int got = advised(p + (4 << 20)); /* inside the 2 MiB-aligned part */
    munmap(p, bytes);
    return got;
}

int main(int argc, char **argv) {
    const char *env = getenv("RASTERPOOL_HUGE_PAGES");
    int got = hint_and_look();
    if (argc > 1 && strcmp(argv[1], "--with-switch") == 0) {
#ifdef MADV_HUGEPAGE
        if (got >= 0 && kernel_takes_hint()) /* smaps with VmFlags: the hint was recorded */
            CHECK_EQ_INT(got, 1);
#endif
        return CHECK_DONE();
    }
    CHECK(env == NULL || strcmp(env, "1") != 0); /* run without the switch */
    CHECK(got != 1);                             /* the default: no hint */
    pid_t pid = fork();
    if (pid == 0) {
        setenv("RASTERPOOL_HUGE_PAGES", "1", 1);
        execl("/proc/self/exe", argv[0], "--with-switch", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return CHECK_DONE();
}
