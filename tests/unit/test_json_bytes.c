/* test_json_bytes.c — core/json_bytes.c: bytes outside UTF-8 written as
 * \udcXX and read back; valid UTF-8 (2, 3 and 4 bytes) untouched; overlong
 * forms, encoded surrogates and cut sequences escaped; escapes that are not
 * \udc80..\udcff (\\udc80 as text, \u00e9, \") left alone by the reverse. */
#include <stdlib.h>

#include "check.h"
#include "json_bytes.h"

static void roundtrip(const char *json, const char *want_escaped) {
    size_t n = 0;
    char *esc = rp_json_bytes_escape(json, strlen(json), &n);
    CHECK_EQ_STR(esc, want_escaped);
    CHECK(esc && n == strlen(want_escaped));
    if (esc) {
        size_t back = rp_json_bytes_unescape(esc, n);
        CHECK(back == strlen(json) && memcmp(esc, json, back) == 0);
    }
    free(esc);
}

int main(void) {
    roundtrip("{\"a\":\"plain\"}", "{\"a\":\"plain\"}");
    roundtrip("{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
              "{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}");
    roundtrip("{\"a\":\"caf\xe9\"}", "{\"a\":\"caf\\udce9\"}");
    roundtrip("{\"a\":\"\xff\xfe\"}", "{\"a\":\"\\udcff\\udcfe\"}");
    roundtrip("{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\\udcc0\\udcaf\"}");            /* overlong '/' */
    roundtrip("{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\\udced\\udca0\\udc80\"}"); /* U+D800 */
    roundtrip("{\"a\":\"\xe2\x82\"}", "{\"a\":\"\\udce2\\udc82\"}");            /* cut short */
    /* escapes the reverse must not touch */
    char text[] = "{\"a\":\"\\\\udc80 \\u00e9 \\\" \\udc7f\",\"b\":\"\\udcE9\"}";
    size_t n = rp_json_bytes_unescape(text, strlen(text));
    CHECK_EQ_STR(text, "{\"a\":\"\\\\udc80 \\u00e9 \\\" \\udc7f\",\"b\":\"\xe9\"}");
    CHECK(n == strlen(text));
    return CHECK_DONE();
}
