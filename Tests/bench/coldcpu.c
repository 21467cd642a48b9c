/* coldcpu.c: how much slower a fixed computation runs after the CPU has been idle, on this
 * machine, with no server, thread hand-over or system call involved. loop-bench.sh prints it
 * next to the idle-latency figure: a server cannot answer an idle request faster, relative to
 * a warm one, than the machine runs the same instructions.
 *
 * The work touches WORK_KB of memory in a scattered order and makes 200 small allocations
 * (about the footprint of a page request), timed back to back and after each of PAUSE_MS idle
 * milliseconds. Usage: coldcpu [WORK_KB=1024] [PAUSE_MS=100] [RUNS=200]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static volatile unsigned sink;

static double work(unsigned char *buf, size_t n) {
    double t0 = now_ms();
    unsigned h = 0;
    for (int r = 0; r < 4; r++)
        for (size_t i = 0; i < n; i += 64) {
            size_t j = (i * 2654435761u) % n;
            h = h * 31 + buf[j];
            buf[j] ^= (unsigned char)h;
        }
    for (int k = 0; k < 200; k++) {
        char *p = malloc(100 + k * 7);
        memset(p, k, 100 + k * 7);
        h += (unsigned char)p[k];
        free(p);
    }
    sink = h;
    return now_ms() - t0;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(unsigned char *buf, size_t n, int runs, int pause_ms) {
    double *t = malloc(sizeof(double) * runs);
    for (int i = 0; i < runs; i++) {
        if (pause_ms) usleep(pause_ms * 1000);
        t[i] = work(buf, n);
    }
    qsort(t, runs, sizeof(double), compare);
    double m = t[runs / 2];
    free(t);
    return m;
}

int main(int argc, char **argv) {
    size_t n = (size_t)(argc > 1 ? atoi(argv[1]) : 1024) * 1024;
    int pause_ms = argc > 2 ? atoi(argv[2]) : 100;
    int runs = argc > 3 ? atoi(argv[3]) : 200;
    unsigned char *buf = malloc(n);
    memset(buf, 1, n);
    for (int i = 0; i < 20; i++) work(buf, n);
    double warm = median(buf, n, runs, 0);
    double idle = median(buf, n, runs, pause_ms);
    printf("fixed computation (%zu KiB touched): p50 %.3f ms back to back, %.3f ms after %d ms idle: %.2fx\n",
           n / 1024, warm, idle, pause_ms, idle / warm);
    return 0;
}
