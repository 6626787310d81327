/*
 * json_bytes.c — non-UTF-8 bytes of file names in and out of JSON text as
 * \udcXX escapes (json_bytes.h). Pure text work: no JSON parser, no state.
 *
 * Threads: any.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json_bytes.h"

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when the byte at p
 * starts none (stray continuation, overlong form, surrogate, > U+10FFFF,
 * cut short). */
static size_t utf8_len(const unsigned char *p, size_t left) {
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000;
    else
        return 0;
    if (left < n)
        return 0;
    unsigned cp = c & (0xFF >> (n + 1));
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

char *rp_json_bytes_escape(const char *json, size_t len, size_t *out_len) {
    const unsigned char *in = (const unsigned char *)json;
    char *out = malloc(len * 6 + 1); /* each byte at most "\udcXX" */
    if (!out)
        return NULL;
    static const char hex[] = "0123456789abcdef";
    size_t w = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(in + i, len - i);
        if (n) {
            memcpy(out + w, in + i, n);
            w += n;
            i += n;
            continue;
        }
        memcpy(out + w, "\\udc", 4);
        out[w + 4] = hex[in[i] >> 4];
        out[w + 5] = hex[in[i] & 15];
        w += 6;
        i++;
    }
    out[w] = '\0';
    *out_len = w;
    return out;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The byte of an escape "\udcXX" at p (XX 80..ff), or -1. */
static int escaped_byte(const char *p, size_t left) {
    if (left < 6 || p[1] != 'u' || (p[2] != 'd' && p[2] != 'D') || (p[3] != 'c' && p[3] != 'C'))
        return -1;
    int hi = hex_value(p[4]), lo = hex_value(p[5]);
    if (hi < 8 || lo < 0)
        return -1;
    return hi * 16 + lo;
}

size_t rp_json_bytes_unescape(char *json, size_t len) {
    size_t w = 0;
    bool in_string = false;
    for (size_t i = 0; i < len;) {
        char c = json[i];
        if (!in_string || c != '\\') {
            in_string = c == '"' ? !in_string : in_string;
            json[w++] = json[i++];
            continue;
        }
        int byte = escaped_byte(json + i, len - i);
        if (byte >= 0) {
            json[w++] = (char)byte;
            i += 6;
            continue;
        }
        /* any other escape: copied whole, so that \" and \\ never end or
         * start anything */
        size_t n = i + 1 < len ? 2 : 1;
        memmove(json + w, json + i, n);
        w += n;
        i += n;
    }
    if (w < len)
        json[w] = '\0';
    return w;
}
