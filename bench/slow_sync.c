/*
 * A slower disk for the benchmarks: fsync(2) and fdatasync(2) wait SLOW_SYNC_US microseconds
 * before they sync. Loaded with LD_PRELOAD by `bench/run.py --fsync-delay-us N` into every
 * process a run starts (the gateway, the reference, PostgreSQL), so that a run on a machine
 * whose disk syncs in a tenth of a millisecond shows what the same code does on a disk that
 * takes as long as production block storage does. The sync itself still happens.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

typedef int (*sync_call)(int);

static void wait_before_sync(void) {
    static long delay_ns = -1;
    if (delay_ns < 0) {
        const char *text = getenv("SLOW_SYNC_US");
        delay_ns = text ? atol(text) * 1000L : 0;
    }
    if (delay_ns > 0) {
        struct timespec pause = {delay_ns / 1000000000L, delay_ns % 1000000000L};
        nanosleep(&pause, NULL);
    }
}

int fsync(int fd) {
    static sync_call real = NULL;
    if (real == NULL) real = (sync_call)dlsym(RTLD_NEXT, "fsync");
    wait_before_sync();
    return real(fd);
}

int fdatasync(int fd) {
    static sync_call real = NULL;
    if (real == NULL) real = (sync_call)dlsym(RTLD_NEXT, "fdatasync");
    wait_before_sync();
    return real(fd);
}
