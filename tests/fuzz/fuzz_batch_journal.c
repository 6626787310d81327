/* fuzz_batch_journal.c — the journal line reader that --resume trusts, on
 * arbitrary bytes. It must accept or reject without crashing or leaking; an
 * accepted line gives an output name without NULs, and a record it writes
 * itself must read back with the same output and outcome. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *output = NULL;
    bool done = false;
    if (rp_journal_parse_line((const char *)data, size, &output, &done)) {
        if (!output)
            abort();
        /* round trip: the accepted name written as a record reads back */
        rp_journal_record r = {.input = output,
                               .output = output,
                               .attempt = 1,
                               .pid = 1,
                               .outcome = done ? RP_ATTEMPT_DONE : RP_ATTEMPT_ERROR,
                               .exit_code = -1};
        size_t n = 0;
        char *line = rp_journal_format(&r, &n);
        char *again = NULL;
        bool done2 = false;
        if (line && (!rp_journal_parse_line(line, n, &again, &done2) ||
                     strcmp(again, output) != 0 || done2 != done))
            abort();
        free(again);
        free(line);
    }
    free(output);
    return 0;
}
