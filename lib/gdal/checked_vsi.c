/*
 * checked_vsi.c — "/vsirpchecked/PATH": GDAL's own file system under PATH,
 * with every write checked.
 *
 * Why: several GDAL vector drivers (GeoJSON, GML, MapInfo MIF, JML, ODS in
 * GDAL 3.6) ignore what VSIFWriteL, VSIFFlushL and VSIFCloseL return, so a
 * full disk gives a truncated file and no error at all. Routed through this
 * file system, each of those calls that fails (a short write, a failed
 * flush, truncate or close) raises a CE_Failure GDAL error on the writing
 * thread naming the file and errno's reason ("No space left on device"),
 * and so does a failed seek (stdio writes out its buffer there),
 * which the caller's thread-local capture (gdal_errors.h) turns into a
 * failed write. Everything else (open, read, seek, stat, listing, rename)
 * passes straight to the plain file system.
 *
 * The handler is installed once per process, on first use (pthread_once),
 * so library callers that never call rp_init get it too.
 *
 * Threads: any; the handler keeps no state but the per-file handle, which
 * GDAL uses from one thread at a time. Ownership: a handle owns its copy of
 * the path.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>

#include "checked_vsi.h"

#define PREFIX "/vsirpchecked/"

typedef struct checked_file {
    VSILFILE *fp;
    char *path;
} checked_file;

/* The first failure on this thread since rp_checked_vsi_reset. */
static _Thread_local char first_failure[512];

static void report(const checked_file *f, const char *what, int saved_errno) {
    const char *why = saved_errno ? strerror(saved_errno) : "the file system refused it";
    if (!first_failure[0])
        snprintf(first_failure, sizeof first_failure, "%s", why);
    CPLError(CE_Failure, CPLE_FileIO, "%s: %s: %s", f->path, what, why);
}

void rp_checked_vsi_reset(void) {
    first_failure[0] = '\0';
}

const char *rp_checked_vsi_failure(void) {
    return first_failure;
}

static int on_stat(void *user, const char *name, VSIStatBufL *sb, int flags) {
    (void)user;
    return VSIStatExL(name, sb, flags);
}

static int on_unlink(void *user, const char *name) {
    (void)user;
    return VSIUnlink(name);
}

static int on_rename(void *user, const char *from, const char *to) {
    (void)user;
    return VSIRename(from, to);
}

static int on_mkdir(void *user, const char *name, long mode) {
    (void)user;
    return VSIMkdir(name, mode);
}

static int on_rmdir(void *user, const char *name) {
    (void)user;
    return VSIRmdir(name);
}

static char **on_read_dir(void *user, const char *name, int max_files) {
    (void)user;
    return VSIReadDirEx(name, max_files);
}

static void *on_open(void *user, const char *name, const char *access) {
    (void)user;
    VSILFILE *fp = VSIFOpenExL(name, access, TRUE);
    checked_file *f = fp ? calloc(1, sizeof *f) : NULL;
    if (f && !(f->path = strdup(name))) {
        free(f);
        f = NULL;
    }
    if (!f) {
        if (fp)
            VSIFCloseL(fp);
        return NULL;
    }
    f->fp = fp;
    return f;
}

static vsi_l_offset on_tell(void *file) {
    return VSIFTellL(((checked_file *)file)->fp);
}

/* A seek flushes what stdio buffered: a failure there is a failed write. */
static int on_seek(void *file, vsi_l_offset offset, int whence) {
    checked_file *f = file;
    errno = 0;
    int rc = VSIFSeekL(f->fp, offset, whence);
    if (rc != 0)
        report(f, "cannot write (seek)", errno);
    return rc;
}

static size_t on_read(void *file, void *buf, size_t size, size_t count) {
    return VSIFReadL(buf, size, count, ((checked_file *)file)->fp);
}

static int on_eof(void *file) {
    return VSIFEofL(((checked_file *)file)->fp);
}

static size_t on_write(void *file, const void *buf, size_t size, size_t count) {
    checked_file *f = file;
    errno = 0;
    size_t n = VSIFWriteL(buf, size, count, f->fp);
    if (n < count && size > 0)
        report(f, "cannot write", errno);
    return n;
}

static int on_flush(void *file) {
    checked_file *f = file;
    errno = 0;
    int rc = VSIFFlushL(f->fp);
    if (rc != 0)
        report(f, "cannot write (flush)", errno);
    return rc;
}

static int on_truncate(void *file, vsi_l_offset size) {
    checked_file *f = file;
    errno = 0;
    int rc = VSIFTruncateL(f->fp, size);
    if (rc != 0)
        report(f, "cannot change the file's size", errno);
    return rc;
}

static int on_close(void *file) {
    checked_file *f = file;
    errno = 0;
    int rc = VSIFCloseL(f->fp);
    if (rc != 0)
        report(f, "cannot write (close)", errno);
    free(f->path);
    free(f);
    return rc;
}

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static bool installed;

static void install(void) {
    VSIFilesystemPluginCallbacksStruct *cb = VSIAllocFilesystemPluginCallbacksStruct();
    if (!cb)
        return;
    cb->stat = on_stat;
    cb->unlink = on_unlink;
    cb->rename = on_rename;
    cb->mkdir = on_mkdir;
    cb->rmdir = on_rmdir;
    cb->read_dir = on_read_dir;
    cb->open = on_open;
    cb->tell = on_tell;
    cb->seek = on_seek;
    cb->read = on_read;
    cb->eof = on_eof;
    cb->write = on_write;
    cb->flush = on_flush;
    cb->truncate = on_truncate;
    cb->close = on_close;
    installed = VSIInstallPluginHandler(PREFIX, cb) == 0;
    VSIFreeFilesystemPluginCallbacksStruct(cb); /* GDAL keeps its own copy */
}

char *rp_checked_vsi_path(const char *path) {
    pthread_once(&install_once, install);
    if (!installed || strncmp(path, "/vsi", 4) == 0)
        return strdup(path);
    size_t n = strlen(PREFIX) + strlen(path) + 1;
    char *checked = malloc(n);
    if (checked) {
        memcpy(checked, PREFIX, strlen(PREFIX));
        memcpy(checked + strlen(PREFIX), path, strlen(path) + 1);
    }
    return checked;
}
