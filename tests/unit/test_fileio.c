/* test_fileio.c — core/fileio.c: whole reads at an offset (short of the
 * file's end, past it, beyond 4 GiB in a sparse file: off_t, not long),
 * whole writes through a FILE* and their errors, a regular file's size. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "check.h"
#include "fileio.h"

static int temp_file(char *path) {
    strcpy(path, "/tmp/rp_test_fileio_XXXXXX");
    return mkstemp(path);
}

static void reads(void) {
    char path[64];
    int fd = temp_file(path);
    CHECK(fd >= 0);
    const char text[] = "0123456789abcdef";
    CHECK_EQ_INT(write(fd, text, 16), 16);
    char buf[32] = {0};
    CHECK_EQ_INT(rp_pread_full(fd, buf, 16, 0), 0);
    CHECK(memcmp(buf, text, 16) == 0);
    CHECK_EQ_INT(rp_pread_full(fd, buf, 4, 10), 0);
    CHECK(memcmp(buf, "abcd", 4) == 0);
    CHECK_EQ_INT(rp_pread_full(fd, buf, 0, 16), 0);  /* nothing to read */
    CHECK_EQ_INT(rp_pread_full(fd, buf, 8, 12), 1);  /* the file ends first */
    CHECK_EQ_INT(rp_pread_full(fd, buf, 1, 100), 1); /* past the end */
    off_t size = -1;
    CHECK_EQ_INT(rp_regular_file_size(fd, &size), 0);
    CHECK_EQ_INT(size, 16);
    close(fd);
    errno = 0;
    CHECK_EQ_INT(rp_pread_full(-1, buf, 1, 0), -1);
    CHECK_EQ_INT(errno, EBADF);
    unlink(path);
}

/* Offsets and sizes past 4 GiB (a sparse file: no disk used). */
static void large_offsets(void) {
    char path[64];
    int fd = temp_file(path);
    CHECK(fd >= 0);
    const off_t far = ((off_t)5 << 30) + 7;
    CHECK_EQ_INT(sizeof(off_t), 8);
    if (ftruncate(fd, far) != 0 || pwrite(fd, "tail", 4, far) != 4) {
        fprintf(stderr, "large_offsets: no sparse file here (%s); skipped\n", strerror(errno));
        close(fd);
        unlink(path);
        return;
    }
    char buf[4];
    CHECK_EQ_INT(rp_pread_full(fd, buf, 4, far), 0);
    CHECK(memcmp(buf, "tail", 4) == 0);
    off_t size = 0;
    CHECK_EQ_INT(rp_regular_file_size(fd, &size), 0);
    CHECK(size == far + 4);
    close(fd);
    unlink(path);
}

static int stop_asked;
static int never_called(void *user) {
    (void)user;
    stop_asked++;
    return 0;
}

static void writes(void) {
    FILE *f = tmpfile();
    CHECK(f != NULL);
    char big[100000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    CHECK_EQ_INT(rp_fwrite_full(f, big, sizeof big, never_called, NULL), 0);
    CHECK_EQ_INT(rp_fwrite_full(f, "", 0, NULL, NULL), 0);
    fflush(f);
    off_t size = 0;
    CHECK_EQ_INT(rp_regular_file_size(fileno(f), &size), 0);
    CHECK_EQ_INT(size, sizeof big);
    char back[100000];
    CHECK_EQ_INT(rp_pread_full(fileno(f), back, sizeof back, 0), 0);
    CHECK(memcmp(big, back, sizeof big) == 0);
    fclose(f);
    CHECK_EQ_INT(stop_asked, 0); /* no signal came: keep_going never asked */

    /* a stream open for reading only: the write fails with errno set */
    char path[64];
    int fd = temp_file(path);
    close(fd);
    FILE *ro = fopen(path, "r");
    CHECK(ro != NULL);
    setvbuf(ro, NULL, _IONBF, 0);
    errno = 0;
    CHECK_EQ_INT(rp_fwrite_full(ro, "x", 1, NULL, NULL), -1);
    CHECK(errno != 0);
    fclose(ro);
    unlink(path);
}

static void not_regular(void) {
    int p[2];
    CHECK_EQ_INT(pipe(p), 0);
    off_t size = 123;
    CHECK_EQ_INT(rp_regular_file_size(p[0], &size), -1);
    CHECK_EQ_INT(size, 123);
    close(p[0]);
    close(p[1]);
    CHECK_EQ_INT(rp_regular_file_size(-1, &size), -1);
}

int main(void) {
    reads();
    large_offsets();
    writes();
    not_regular();
    return CHECK_DONE();
}
