/* CPU thread counts that survive fork().
 *
 * GNU libgomp's thread pool does not survive fork(): in a child process forked after the
 * parent ran a multi-threaded OpenMP region, the next multi-threaded region waits forever for
 * threads that exist only in the parent (GCC bug 60035; measured here: dwconv_convolve with
 * 2 threads in a forked child hung until killed). Python's multiprocessing forks its workers
 * by default on Linux, so this is how many users would meet it. In such a child dwconv runs
 * every region on the calling thread instead (an OpenMP region with a false if clause does
 * not touch the pool): same bits (results never depend on the thread count), no hang.
 * LLVM's and Intel's OpenMP runtimes restart their threads after fork, so builds with them
 * (clang) keep all threads. */
#include "internal.h"

#if defined(_OPENMP) && defined(__GNUC__) && !defined(__clang__)
#define DW_FORK_UNSAFE_OMP 1
#include <pthread.h>
#include <stdatomic.h>

static atomic_int omp_started;  /* this process has run a multi-threaded region */
static atomic_int forked_child; /* a child forked after that (inherited by its children) */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void) {
  if (atomic_load(&omp_started)) atomic_store(&forked_child, 1);
}
static void install_atfork(void) { (void)pthread_atfork(NULL, NULL, on_fork_child); }
#endif

int dwconv__threads_cap(int threads) {
#ifdef DW_FORK_UNSAFE_OMP
  if (threads > 1 && atomic_load(&forked_child)) return 1;
#endif
  return threads;
}

int dwconv__threads_now(int threads) {
#ifdef DW_FORK_UNSAFE_OMP
  if (threads <= 1) return threads;
  if (atomic_load(&forked_child)) return 1;
  pthread_once(&atfork_once, install_atfork);
  atomic_store(&omp_started, 1);
#endif
  return threads;
}
