/* test_numtext.c — plain decimals to doubles (numparse.cc): the exact fast
 * path and double-conversion behind it, against glibc's strtod (correctly
 * rounded) as the oracle, bit for bit, on hand cases and on 300,000
 * generated decimals (digit counts 1..21, point anywhere, exponents);
 * and the same texts accepted as double-conversion alone accepts. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "numtext.h"

static int same_bits(double a, double b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

/* s parses (or not) as strtod and double-conversion say. */
static void agrees(const char *s) {
    size_t len = strlen(s);
    double got = 0, ref = 0;
    bool ok = rp_parse_decimal(s, len, &got);
    bool ref_ok = rp_parse_decimal_reference(s, len, &ref);
    if (ok != ref_ok || (ok && !same_bits(got, ref)))
        printf("'%s': fast %d %.17g, double-conversion %d %.17g\n", s, ok, got, ref_ok, ref);
    CHECK(ok == ref_ok);
    if (ok) {
        char *end;
        double want = strtod(s, &end);
        if (!same_bits(got, want))
            printf("'%s': %.17g, strtod %.17g\n", s, got, want);
        CHECK(same_bits(got, want));
    }
}

static void hand_cases(void) {
    const char *cases[] = {"0",
                           "-0",
                           "+0",
                           "512345.125",
                           "-33.8688197",
                           "1e22",
                           "1e23",
                           "1e-22",
                           "1e-23",
                           "9007199254740992",
                           "9007199254740993",
                           "123456789012345678.9",
                           "1234567890123456789",
                           "0.1",
                           "0.3",
                           "5.",
                           ".5",
                           "+5",
                           "-.5",
                           "1E5",
                           "1e+05",
                           "2.5e-3",
                           "1e00005",
                           "7e0",
                           "00000000000000000001.5",
                           "4.35",
                           "0.000001",
                           "1.5 ",
                           " 1.5",
                           "1,5",
                           "nan",
                           "inf",
                           "0x10",
                           "",
                           ".",
                           "-",
                           "e5",
                           "1e",
                           "1e+",
                           "1..5",
                           "1.5.",
                           "--1",
                           "1e5e5"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        agrees(cases[i]);
    double v = 1;
    CHECK(rp_parse_decimal("-0", 2, &v) && v == 0 && signbit(v));
    CHECK(!rp_parse_decimal("1,5", 3, &v));
}

static void generated(void) {
    uint64_t seed = 88172645463325252u;
    char s[64];
    for (int t = 0; t < 300000; t++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        int ndigits = 1 + (int)(seed % 21);
        int point = (int)((seed >> 8) % (uint64_t)(ndigits + 2)) - 1; /* -1: none */
        size_t n = 0;
        if ((seed >> 16) & 1)
            s[n++] = '-';
        uint64_t r = seed;
        for (int k = 0; k < ndigits; k++) {
            if (k == point)
                s[n++] = '.';
            if (k % 16 == 0)
                r = r * 6364136223846793005u + 1442695040888963407u;
            s[n++] = (char)('0' + (r >> (60 - 4 * (k % 16))) % 10);
        }
        if (point == ndigits)
            s[n++] = '.';
        if (((seed >> 20) & 3) == 0)
            n += (size_t)snprintf(s + n, sizeof s - n, "e%d", (int)((seed >> 24) % 61) - 30);
        s[n] = '\0';
        agrees(s);
    }
}

/* Forms at the edges of what fast_float reads to the end (numparse.cc's
 * first step): each accepted or refused as double-conversion alone does. */
static void fast_float_edges(void) {
    const char *texts[] = {"1.",     ".5",      "-.5",      "1.e5",    "1e+5",        "1E5",
                           "01",     "-0",      "0x10",     "1e",      "1e400",       "-1e400",
                           "1e-400", "-1e-400", ".",        "-",       "1..2",        "1.5e-",
                           "inf",    "-inf",    "infinity", "nan",     "00.00e00",    "1e0001",
                           "+1",     " 1",      "1 ",       "1,5",     "4.9e-324",    "2e-324",
                           "-.e1",   ".e1",     "1.5E+308", "1.8e308", "0.000001e-2", "-0.0e-0"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        agrees(texts[i]);
}

int main(void) {
    hand_cases();
    generated();
    fast_float_edges();
    return CHECK_DONE();
}
