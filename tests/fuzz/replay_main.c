/*
 * replay_main.c — replays a fuzz target's corpus as a plain test (after
 * zstd's tests/fuzz/regression_driver.c).
 *
 * The design is simple: each fuzz target defines LLVMFuzzerTestOneInput();
 * linked with libFuzzer it is fuzzed, linked with this file it becomes a
 * program that feeds it every saved input once, so the corpus (and every
 * crash once fixed and saved there) runs in CTest under any compiler and
 * under the sanitizers, with no libFuzzer needed.
 *
 *   replay_fuzz_csv CORPUS_DIR [DIR_OR_FILE...]
 *
 * A folder's regular files are replayed in name order (scandir + alphasort in
 * the C locale), so a failure reproduces the same way everywhere; a file
 * argument is replayed by itself. Each input is copied into a buffer of
 * exactly its size, so a read past the end is caught by ASan. The name is
 * printed before the call: after a crash, the last name is the culprit.
 * Exits 1 when nothing at all was replayed: a replay of nothing must not pass.
 * Single-threaded; everything allocated here is freed here.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

extern int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads the whole file at path into a new buffer of exactly its size (an
 * empty input still gets a valid, freeable pointer). Returns 0, or -1 after
 * printing why. */
static int read_file(const char *path, uint8_t **data, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int failed = !buf || ferror(f);
    fclose(f);
    if (failed) {
        fprintf(stderr, "replay: %s: %s\n", path, buf ? "read error" : "out of memory");
        free(buf);
        return -1;
    }
    /* The exact-size copy: ASan then sees any read past the input's end. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        free(buf);
        return -1;
    }
    if (len)
        memcpy(exact, buf, len);
    free(buf);
    *data = exact;
    *size = len;
    return 0;
}

/* Replays one file. Returns 0, or -1 if it could not be read. */
static int replay_file(const char *path) {
    uint8_t *data = NULL;
    size_t size = 0;
    if (read_file(path, &data, &size) != 0)
        return -1;
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
    fflush(stderr);
    (void)LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

/* Replays the regular files of dir in name order, adding to *count. Returns
 * the number of files that could not be read, or -1 if dir cannot be read. */
static int replay_dir(const char *dir, long *count) {
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int errors = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
        char *path = malloc(len);
        struct stat st;
        if (!path) {
            fprintf(stderr, "replay: out of memory\n");
            errors++;
        } else {
            snprintf(path, len, "%s/%s", dir, names[i]->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                if (replay_file(path) == 0)
                    (*count)++;
                else
                    errors++;
            }
        }
        free(path);
        free(names[i]);
    }
    free(names);
    return errors;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR [DIR_OR_FILE...]\n", argc > 0 ? argv[0] : "replay");
        return 2;
    }
    long count = 0;
    int errors = 0;
    for (int a = 1; a < argc; a++) {
        struct stat st;
        if (stat(argv[a], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[a], strerror(errno));
            errors++;
        } else if (S_ISDIR(st.st_mode)) {
            int e = replay_dir(argv[a], &count);
            errors += e < 0 ? 1 : e;
        } else if (replay_file(argv[a]) == 0) {
            count++;
        } else {
            errors++;
        }
    }
    printf("replayed %ld input%s\n", count, count == 1 ? "" : "s");
    if (count == 0) {
        fprintf(stderr, "replay: no input to replay: a replay of nothing must not pass\n");
        return 1;
    }
    return errors ? 1 : 0;
}
