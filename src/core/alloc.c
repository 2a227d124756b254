/* Host allocation for the whole library, and the test-only fault injection counters. */
#include <stdatomic.h>
#include <stdlib.h>

#include "internal.h"

/* Fault injection is global (tests drive it from one thread); atomics keep it race-free when
 * a test also runs threads. */
static atomic_size_t site_calls[DWCONV_FAULT_SITES];
static atomic_size_t site_fail_at[DWCONV_FAULT_SITES]; /* 0: never */

size_t dwconv__fault_inject(dwconv_fault_site site, size_t n) {
  size_t made = atomic_exchange(&site_calls[site], 0);
  atomic_store(&site_fail_at[site], n);
  return made;
}

int dwconv__fault_hit(dwconv_fault_site site) {
  size_t k = atomic_fetch_add(&site_calls[site], 1) + 1;
  size_t f = atomic_load(&site_fail_at[site]);
  return f != 0 && k == f;
}

size_t dwconv__fault_inject_alloc(size_t n) { return dwconv__fault_inject(DWCONV_FAULT_HOST_ALLOC, n); }

void *dwconv__malloc(size_t bytes) {
  if (dwconv__fault_hit(DWCONV_FAULT_HOST_ALLOC)) return NULL;
  if (bytes == 0) bytes = 1;
  /* aligned_alloc needs a size that is a multiple of the alignment. */
  size_t rounded = (bytes + 63) & ~(size_t)63;
  if (rounded < bytes) return NULL;
  return aligned_alloc(64, rounded);
}

void dwconv__free(void *p) { free(p); }
