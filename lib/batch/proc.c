/*
 * proc.c — start, message, stop and reap worker processes.
 *
 * Design (after redis childinfo.c and libuv's test runner): a worker is a
 * fresh exec of a program, started with posix_spawn so that no fork of a
 * process holding GDAL's locks and threads ever runs code. Parent and worker
 * share a SOCK_SEQPACKET socketpair: message boundaries are kept by the
 * kernel, so each fixed-size, zero-initialised struct is one send and one
 * receive, and a worker that dies shows as end-of-file on the parent's end.
 * The worker inherits stdin, stdout, stderr and its socket (RP_WORKER_FD),
 * nothing else.
 * Reaping is the parent's job alone (waitpid on the worker's pid only, never
 * on -1, so other children of a C caller are left alone).
 *
 * Threads: none; every call runs on the caller's thread.
 * Ownership: rp_proc is a plain value owned by the caller; rp_proc_stop
 * releases what rp_proc_spawn took.
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addclosefrom_np (glibc 2.34) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "proc.h"

extern char **environ;

/* The worker's end must land on RP_WORKER_FD without close-on-exec. dup2 onto
 * itself would keep the flag, so an end that already sits there is moved. */
static int away_from_worker_fd(int fd) {
    if (fd != RP_WORKER_FD)
        return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, RP_WORKER_FD + 1);
    close(fd);
    return moved;
}

rp_status rp_proc_spawn(rp_proc *p, const char *program, char *const argv[], rp_error *err) {
    p->pid = 0;
    p->fd = -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return rp_error_set(err, RP_INTERNAL, "cannot create a socketpair for a worker: %s",
                            strerror(errno));
    sv[1] = away_from_worker_fd(sv[1]);
    if (sv[1] < 0) {
        close(sv[0]);
        return rp_error_set(err, RP_INTERNAL, "cannot place a worker's socket: %s",
                            strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, sv[1], RP_WORKER_FD);
    /* nothing else above stdio and RP_WORKER_FD: an MPI library leaves its
     * own descriptors open across exec (MPICH's PMI and UCX sockets under
     * hydra, some of Open MPI's), and a worker must not hold them */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
    posix_spawn_file_actions_addclosefrom_np(&fa, RP_WORKER_FD + 1);
#endif
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGCHLD);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, program, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        return rp_error_set(err, RP_INTERNAL, "cannot start worker program %s: %s", program,
                            strerror(rc));
    }
    p->pid = pid;
    p->fd = sv[0];
    return RP_OK;
}

bool rp_proc_send(rp_proc *p, const void *msg, size_t size) {
    if (p->fd < 0)
        return false;
    ssize_t n;
    do
        n = send(p->fd, msg, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)size;
}

int rp_proc_recv(rp_proc *p, void *msg, size_t size) {
    if (p->fd < 0)
        return RP_PROC_CLOSED;
    ssize_t n;
    do
        n = recv(p->fd, msg, size, MSG_TRUNC);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return RP_PROC_NOTHING;
    if (n <= 0)
        return RP_PROC_CLOSED;
    return n == (ssize_t)size ? RP_PROC_MESSAGE : RP_PROC_MALFORMED;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void decode(int status, rp_proc_exit *how) {
    if (WIFSIGNALED(status)) {
        how->exit_code = -1;
        how->signal = WTERMSIG(status);
    } else {
        how->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        how->signal = 0;
    }
}

void rp_proc_stop(rp_proc *p, int grace_ms, rp_proc_exit *how) {
    rp_proc_exit local = {0, 0};
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
    if (p->pid > 0) {
        int status = 0;
        pid_t got = 0;
        for (int waited = 0; waited < grace_ms; waited += 10) {
            do
                got = waitpid(p->pid, &status, WNOHANG);
            while (got < 0 && errno == EINTR);
            if (got != 0)
                break;
            sleep_ms(10);
        }
        if (got == 0) {
            kill(p->pid, SIGKILL);
            do
                got = waitpid(p->pid, &status, 0);
            while (got < 0 && errno == EINTR);
        }
        if (got == p->pid)
            decode(status, &local);
        p->pid = 0;
    }
    if (how)
        *how = local;
}

void rp_proc_exit_text(const rp_proc_exit *how, char *buf, size_t cap) {
    if (how->signal)
        snprintf(buf, cap, "signal %d (%s)", how->signal, strsignal(how->signal));
    else
        snprintf(buf, cap, "exit code %d", how->exit_code);
}
