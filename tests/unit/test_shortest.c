/* test_shortest.c — the shortest round-trip text of floats and doubles
 * (valfmt_shortest.cc: Dragonbox digits) is byte for byte what
 * double-conversion's ToShortest / ToShortestSingle write (the formatter
 * rasterpool used before, so outputs stay the same), and reads back to the
 * same bits with glibc's strtod / strtof (correctly rounded: the
 * independent oracle of "round trip").
 *
 * Cases: hand-picked texts (Python's repr gives the same digits); the edges
 * (zeros, subnormals, the smallest and largest finite values, powers of two
 * whose lower neighbour is closer, powers of ten, the decimal/exponent
 * switch at 1e-7/1e-6 and 1e16/1e17, integers around 2^24 and 2^53,
 * specials and NaN payloads); 4 million random double bit patterns and 4
 * million random float bit patterns; every 1,021st float bit pattern (4.2
 * million, every exponent and both signs); and random values of few digits
 * (ties and short texts are where algorithms differ).
 *
 * `test_shortest floats LO HI` checks every float bit pattern in [LO, HI)
 * (hex or decimal) instead: the exhaustive run (bench/RESULTS.md says when
 * it was run over all 2^32).
 *
 * Each value is checked twice: the capped formatter (rp_shortest_*) and the
 * in-place one of pixel values (rp_shortest_*_room, a buffer of exactly
 * RP_SHORTEST_ROOM bytes).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "numtext.h"

enum { CAP = 64, MAX_SHOWN = 10 };

static long mismatches;

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t next_u64(void) { /* xorshift64* */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}

static double from_bits64(uint64_t b) {
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static float from_bits32(uint32_t b) {
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static void note(const char *kind, uint64_t bits, const char *got, const char *want) {
    if (mismatches++ < MAX_SHOWN)
        printf("%s %#llx: fast '%s', double-conversion '%s'\n", kind, (unsigned long long)bits, got,
               want);
}

static void double_agrees(double v) {
    char got[CAP], want[CAP];
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    size_t n = rp_shortest_double(got, sizeof got, v);
    size_t m = rp_shortest_double_reference(want, sizeof want, v);
    if (n != m || strcmp(got, want) != 0 || strlen(got) != n) {
        note("double", bits, got, want);
        return;
    }
    char room[RP_SHORTEST_ROOM]; /* the in-place variant: exactly its room (ASan sees past it) */
    if (rp_shortest_double_room(room, v) != m || strcmp(room, want) != 0) {
        note("double (in place)", bits, room, want);
        return;
    }
    if (isfinite(v)) {
        double back = strtod(got, NULL);
        if (memcmp(&back, &v, sizeof v) != 0)
            note("double (no round trip)", bits, got, want);
    }
}

static void float_agrees(float v) {
    char got[CAP], want[CAP];
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    size_t n = rp_shortest_float(got, sizeof got, v);
    size_t m = rp_shortest_float_reference(want, sizeof want, v);
    if (n != m || strcmp(got, want) != 0 || strlen(got) != n) {
        note("float", bits, got, want);
        return;
    }
    char room[RP_SHORTEST_ROOM]; /* the in-place variant: exactly its room (ASan sees past it) */
    if (rp_shortest_float_room(room, v) != m || strcmp(room, want) != 0) {
        note("float (in place)", bits, room, want);
        return;
    }
    if (isfinite(v)) {
        float back = strtof(got, NULL);
        if (memcmp(&back, &v, sizeof v) != 0)
            note("float (no round trip)", bits, got, want);
    }
}

static void text_is(double v, const char *want) {
    char got[CAP];
    rp_shortest_double(got, sizeof got, v);
    CHECK_EQ_STR(got, want);
    double_agrees(v);
}

static void ftext_is(float v, const char *want) {
    char got[CAP];
    rp_shortest_float(got, sizeof got, v);
    CHECK_EQ_STR(got, want);
    float_agrees(v);
}

static void hand_cases(void) {
    text_is(0.0, "0");
    text_is(-0.0, "-0");
    text_is(0.1, "0.1");
    text_is(0.1 + 0.2, "0.30000000000000004");
    text_is(1e-6, "0.000001");
    text_is(1e-7, "1e-7");
    text_is(1.5e-7, "1.5e-7");
    text_is(1e16, "10000000000000000");
    text_is(1e17, "1e+17");
    text_is(1.25e17, "1.25e+17");
    text_is(123456.789, "123456.789");
    text_is(-2.5, "-2.5");
    text_is(5e-324, "5e-324");
    text_is(DBL_MAX, "1.7976931348623157e+308");
    text_is(DBL_MIN, "2.2250738585072014e-308");
    text_is(9007199254740993.0, "9007199254740992");
    text_is(INFINITY, "inf");
    text_is(-INFINITY, "-inf");
    text_is(NAN, "nan");
    text_is(-NAN, "nan");
    ftext_is(0.1f, "0.1");
    ftext_is(-0.0f, "-0");
    ftext_is(1234.5f, "1234.5");
    ftext_is(16777217.0f, "16777216");
    ftext_is(1e10f, "10000000000");
    ftext_is(3.4028235e38f, "3.4028235e+38");
    ftext_is(FLT_TRUE_MIN, "1e-45");
    ftext_is(FLT_MIN, "1.1754944e-38");
    ftext_is(7.038531e-26f, "7.038531e-26");
    ftext_is(INFINITY, "inf");
    ftext_is(NAN, "nan");
}

static void edges(void) {
    for (int e = -1074; e <= 1023; e++) { /* powers of two and their neighbours */
        double p = ldexp(1.0, e);
        double_agrees(p);
        double_agrees(-p);
        double_agrees(nextafter(p, 0));
        double_agrees(nextafter(p, INFINITY));
    }
    for (int e = -149; e <= 127; e++) {
        float p = ldexpf(1.0f, e);
        float_agrees(p);
        float_agrees(nextafterf(p, 0));
        float_agrees(nextafterf(p, INFINITY));
    }
    for (int e = -330; e <= 310; e++) { /* powers of ten, exact text and around */
        char s[32];
        snprintf(s, sizeof s, "1e%d", e);
        double d = strtod(s, NULL);
        double_agrees(d);
        double_agrees(nextafter(d, 0));
        double_agrees(nextafter(d, INFINITY));
        float f = strtof(s, NULL);
        float_agrees(f);
        float_agrees(nextafterf(f, 0));
        float_agrees(nextafterf(f, INFINITY));
    }
    for (uint64_t m = 0; m < 4096; m++) { /* subnormals: smallest and largest */
        double_agrees(from_bits64(m));
        double_agrees(from_bits64(0x000FFFFFFFFFFFFFull - m));
        float_agrees(from_bits32((uint32_t)m));
        float_agrees(from_bits32(0x007FFFFFu - (uint32_t)m));
    }
    for (int64_t k = -3000; k <= 3000; k++) { /* integers around 2^24 and 2^53 */
        float_agrees((float)(16777216 + k));
        double_agrees((double)(9007199254740992LL + k));
        double_agrees((double)k);
    }
    double_agrees(from_bits64(0x7FF0000000000001ull)); /* NaN payloads */
    double_agrees(from_bits64(0xFFF8000000000000ull));
    float_agrees(from_bits32(0x7F800001u));
    float_agrees(from_bits32(0xFFC00000u));
}

static void random_values(void) {
    for (long i = 0; i < 4000000; i++) {
        uint64_t b = next_u64();
        double_agrees(from_bits64(b));
        float_agrees(from_bits32((uint32_t)(b >> 32)));
    }
    for (uint64_t b = 0; b < (1ull << 32); b += 1021)
        float_agrees(from_bits32((uint32_t)b));
    char s[40];
    for (long i = 0; i < 1000000; i++) { /* few digits: short texts and ties */
        uint64_t r = next_u64();
        snprintf(s, sizeof s, "%llue%d", (unsigned long long)(r % 100000),
                 (int)((r >> 20) % 80) - 50);
        double_agrees(strtod(s, NULL));
        float_agrees(strtof(s, NULL));
        snprintf(s, sizeof s, "%.*g", (int)((r >> 40) % 9) + 1, from_bits64(r >> 2));
        double_agrees(strtod(s, NULL));
        float_agrees(strtof(s, NULL));
    }
}

/* Every float bit pattern in [lo, hi). */
static int all_floats(uint64_t lo, uint64_t hi) {
    for (uint64_t b = lo; b < hi && b < (1ull << 32); b++)
        float_agrees(from_bits32((uint32_t)b));
    printf("floats [%#llx, %#llx): %ld mismatches\n", (unsigned long long)lo,
           (unsigned long long)hi, mismatches);
    return mismatches != 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "floats") == 0)
        return all_floats(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
    hand_cases();
    edges();
    random_values();
    printf("%ld mismatches against double-conversion\n", mismatches);
    CHECK(mismatches == 0);
    return CHECK_DONE();
}
