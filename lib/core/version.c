/*
 * version.c — the version of the library a program runs with, for callers
 * to compare with the RP_VERSION_* macros they were compiled against (a
 * binding checks that the librasterpool.so it loaded is the one it knows).
 * Both values are constants baked in from the generated rasterpool_version.h;
 * no state, callable from any thread.
 */
#include "rasterpool.h"

RP_API const char *rp_version(void) {
    return RP_VERSION_STRING;
}

RP_API unsigned rp_version_number(void) {
    return RP_VERSION_NUMBER;
}
