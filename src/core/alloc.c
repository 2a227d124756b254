/* Host allocation for the whole library, with a test-only fault injection counter. */
#include <stdatomic.h>
#include <stdlib.h>

#include "internal.h"

/* Fault injection is global (tests run it single-threaded); atomics keep it race-free anyway. */
static atomic_size_t alloc_count;
static atomic_size_t fail_at; /* 0: never */

size_t dwconv__fault_inject_alloc(size_t n) {
  size_t made = atomic_exchange(&alloc_count, 0);
  atomic_store(&fail_at, n);
  return made;
}

void *dwconv__malloc(size_t bytes) {
  size_t k = atomic_fetch_add(&alloc_count, 1) + 1;
  size_t f = atomic_load(&fail_at);
  if (f != 0 && k == f) return NULL;
  if (bytes == 0) bytes = 1;
  /* aligned_alloc needs a size that is a multiple of the alignment. */
  size_t rounded = (bytes + 63) & ~(size_t)63;
  if (rounded < bytes) return NULL;
  return aligned_alloc(64, rounded);
}

void dwconv__free(void *p) { free(p); }
