/*
 * proc.h — worker processes started fresh from a program
 * (posix_spawn, never fork of a process that has used GDAL), each talking to
 * the parent over its own SOCK_SEQPACKET socketpair with small fixed-size
 * messages (one send is one message). The parent owns every worker: it
 * starts, signals, reaps and replaces them; nothing here runs a thread.
 */
#ifndef RP_PROC_H
#define RP_PROC_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "rasterpool.h"

/* The descriptor number a worker finds its end of the socketpair on. */
enum { RP_WORKER_FD = 3 };

typedef struct rp_proc {
    pid_t pid; /* 0: no process */
    int fd;    /* the parent's end; -1 when closed */
} rp_proc;

/* How a reaped process ended. */
typedef struct rp_proc_exit {
    int exit_code; /* -1 when killed by a signal */
    int signal;    /* 0 when it exited */
} rp_proc_exit;

/* Starts `program` with argv (argv[0] first, NULL-terminated) in a process
 * group of its own (a Ctrl-C on the terminal reaches only the parent, which
 * decides), with default signal dispositions and an empty signal mask, and
 * the worker's end of a new socketpair on descriptor RP_WORKER_FD. Every other
 * descriptor of the parent is close-on-exec. */
rp_status rp_proc_spawn(rp_proc *p, const char *program, char *const argv[], rp_error *err);

/* Sends one message. Returns false when the worker is gone (no SIGPIPE). */
bool rp_proc_send(rp_proc *p, const void *msg, size_t size);

/* What rp_proc_recv found. */
enum {
    RP_PROC_MALFORMED = -1, /* a message of another size */
    RP_PROC_CLOSED = 0,     /* the other end closed (the worker exited or died) */
    RP_PROC_MESSAGE = 1,    /* one whole message */
    RP_PROC_NOTHING = 2,    /* no message yet (EAGAIN on a non-blocking wait) */
};

/* Receives one message of exactly `size` bytes without blocking longer than
 * the message takes to arrive. Returns one of RP_PROC_MESSAGE,
 * RP_PROC_CLOSED, RP_PROC_MALFORMED, RP_PROC_NOTHING (nothing there yet: not
 * a broken worker, ask again after the next poll). */
int rp_proc_recv(rp_proc *p, void *msg, size_t size);

/* Closes the parent's end and waits for the process to end: a worker that
 * sees its socket close exits on its own; after grace_ms it is killed
 * (SIGKILL). grace_ms 0 kills at once. Fills *how when not NULL. */
void rp_proc_stop(rp_proc *p, int grace_ms, rp_proc_exit *how);

/* "signal 11 (Segmentation fault)" or "exit code 3" */
void rp_proc_exit_text(const rp_proc_exit *how, char *buf, size_t cap);

#endif
