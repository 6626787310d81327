/*
 * json_bytes.h — file names that are not UTF-8 in JSON text
 * (json_bytes.c), the way Python's "surrogateescape" carries them: each
 * byte that is not part of a valid UTF-8 sequence becomes the escape
 * \udcXX (XX: the byte, 80 to ff). Any JSON reader accepts the text
 * (Python's json.loads then os.fsencode gives back the exact bytes); a
 * valid UTF-8 name is never changed, and no valid name holds U+DC80..DCFF,
 * so the mapping is one to one.
 */
#ifndef RP_JSON_BYTES_H
#define RP_JSON_BYTES_H
#include <stddef.h>

/* A copy of JSON text (as json-c writes it: bytes >= 0x80 appear only
 * inside strings, raw) with every byte outside valid UTF-8 written as
 * \udcXX. Returns a malloc'ed, NUL-terminated text and its length in
 * *out_len; NULL when out of memory. */
char *rp_json_bytes_escape(const char *json, size_t len, size_t *out_len);

/* The reverse, in place: inside strings, each \udcXX escape (XX 80..ff,
 * any case) becomes the byte XX again, so that a JSON parser that does not
 * know the convention (json-c turns a lone surrogate into U+FFFD) reads the
 * original bytes. Returns the new length (NUL-terminated when room). */
size_t rp_json_bytes_unescape(char *json, size_t len);

#endif
