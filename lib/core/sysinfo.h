/*
 * sysinfo.h — how many CPUs and how much memory this process may
 * really use. The cgroup readers take a root folder so that tests can point
 * them at fake /proc and /sys trees ("" means the real system).
 */
#ifndef RP_SYSINFO_H
#define RP_SYSINFO_H
#include <stdint.h>

/* The CPU quota of the process's cgroup as a number of CPUs (quota/period,
 * the smallest along the cgroup's path up to the root; v1, v2 and hybrid
 * layouts), found through ROOT/proc/self/cgroup and ROOT/proc/self/mountinfo.
 * Returns 0 when there is no quota or it cannot be read. */
double rp_cgroup_cpu_quota(const char *root);

/* The memory limit of the process's cgroup in bytes (smallest along the
 * path; v2 memory.max, v1 memory.limit_in_bytes). 0 when unlimited/unknown. */
uint64_t rp_cgroup_memory_limit(const char *root);

/* Combines an affinity CPU count and a quota: ceil(min(affinity, quota)),
 * ignoring a quota <= 0, and at least 1. */
int rp_cpus_from_limits(int affinity_cpus, double quota);

#endif
