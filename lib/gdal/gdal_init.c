/*
 * gdal_init.c — rp_init (GDAL's drivers, registered once), rp_shutdown
 * (GDAL's process-long state released at a program's end) and the GDAL
 * version the library runs with.
 *
 * Threads: rp_init may be called from any thread, any number of times;
 * pthread_once makes the first call register and every other call wait for
 * that to finish.
 */
#include <pthread.h>

#include <gdal.h>

#include "rasterpool.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void register_drivers(void) {
    GDALAllRegister();
}

RP_API void rp_init(void) {
    pthread_once(&init_once, register_drivers);
}

RP_API void rp_shutdown(void) {
    GDALDestroyDriverManager();
}

RP_API const char *rp_gdal_version(void) {
    return GDALVersionInfo("RELEASE_NAME");
}
