/* A small deterministic random generator (splitmix64) for demo and bench data, so runs are
 * reproducible across machines and libc versions. */
#ifndef DWCONV_TOOLS_RNG_H
#define DWCONV_TOOLS_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct rng {
  uint64_t s;
} rng;

/* Next 64 random bits. */
static inline uint64_t rng_next(rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static inline double rng_uniform(rng *r) { return ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53; }

/* Standard normal (Box-Muller), like np.random.randn. */
static inline double rng_normal(rng *r) {
  double u = rng_uniform(r), v = rng_uniform(r);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

#endif /* DWCONV_TOOLS_RNG_H */
