/* fuzz_calc_expr.c — calc's expression translation and muparser check on
 * arbitrary text, over inputs named A and nir. Either it is accepted, or
 * rejected with a message; a translation's position map stays inside the
 * user's text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calc_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    static const rp_calc_input inputs[] = {{.name = "A", .path = "a"},
                                           {.name = "nir", .path = "b"}};
    rp_calc_expr e;
    rp_calc_ref *refs = NULL;
    int nrefs = 0;
    rp_error err;
    rp_error_clear(&err);
    rp_status rc = rp_calc_expr_translate(text, 0, inputs, 2, &e, &refs, &nrefs, &err);
    if (rc != RP_OK && err.message[0] == '\0')
        abort(); /* every rejection says why */
    if (rc == RP_OK) {
        size_t tl = strlen(e.translated), ul = strlen(text);
        for (size_t i = 0; i <= tl; i++)
            if (e.pos_map[i] < 0 || (size_t)e.pos_map[i] > ul)
                abort();
        rp_error_clear(&err);
        if (rp_calc_expr_check(&e, 0, nrefs, &err) != RP_OK && err.message[0] == '\0')
            abort();
        rp_calc_expr_clear(&e);
    }
    free(refs);
    free(text);
    return 0;
}
