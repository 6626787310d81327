/* fuzz_vrt_xml.c — the VRT XML reader on arbitrary text: it either refuses
 * the text or gives bands whose 1:1 sources have positive windows; indexing
 * and looking up those sources stays in bounds. No file is opened. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vrt_plan.h"
#include "vrt_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *xml = malloc(size + 1);
    if (!xml)
        return 0;
    memcpy(xml, data, size);
    xml[size] = '\0';
    char why[256];
    rp_vrt *vrt = rp_vrt_parse(xml, "/fuzz/dir/m.vrt", why, sizeof why);
    if (!vrt && strlen(why) >= sizeof why)
        abort();
    for (int b = 0; vrt && b < vrt->nbands; b++) {
        rp_vrt_band *band = &vrt->bands[b];
        if (!band->direct)
            continue;
        for (size_t s = 0; s < band->nsources; s++)
            if (band->sources[s].w <= 0 || band->sources[s].h <= 0 || !band->sources[s].path)
                abort();
        rp_source_index ix;
        if (rp_source_index_build(&ix, band, 257, 131, 1u << 16) != 0)
            continue;
        for (int64_t r = -1; r <= 131; r += 13)
            for (int64_t c = -1; c <= 257; c += 17) {
                uint32_t s = rp_source_lookup(&ix, band, c, r, (uint32_t)band->nsources);
                if (s != RP_NO_SOURCE && s >= band->nsources)
                    abort();
            }
        rp_source_index_free(&ix);
    }
    rp_vrt_free(vrt);
    free(xml);
    return 0;
}
