/* Device-resident data for bench_dwconv --device-data: A, B and C in cudaMalloc'd memory, a
 * stream for the plan and a pair of CUDA events to time work queued on it. Without CUDA in
 * the build every call fails with a message (bench_dev_available() is 0). */
#ifndef DWCONV_BENCH_DEVICE_H
#define DWCONV_BENCH_DEVICE_H

#include <stddef.h>

typedef struct bench_dev {
  void *A, *B, *C;        /* device copies of A and B; C on the device */
  void *stream;           /* cudaStream_t */
  void *ev_start, *ev_stop; /* cudaEvent_t */
} bench_dev;

/* 1 when this bench_dwconv was built with the CUDA runtime. */
int bench_dev_available(void);

/* Allocates A, B, C on the current device, copies A and B there, makes the stream and events.
 * Returns 0 on success, else -1 with a message in err (everything taken is freed). */
int bench_dev_setup(bench_dev *d, const void *A, size_t a_bytes, const void *B, size_t b_bytes,
                    size_t c_bytes, char *err, size_t errlen);

/* Records the start event on the stream. */
int bench_dev_start(bench_dev *d, char *err, size_t errlen);

/* Records the stop event, waits for it, and returns the GPU time between the two in *ms. */
int bench_dev_stop(bench_dev *d, double *ms, char *err, size_t errlen);

/* Copies C (c_bytes) from the device into host memory. */
int bench_dev_fetch(bench_dev *d, void *C, size_t c_bytes, char *err, size_t errlen);

/* Frees everything (NULL members are fine). */
void bench_dev_free(bench_dev *d);

#endif /* DWCONV_BENCH_DEVICE_H */
