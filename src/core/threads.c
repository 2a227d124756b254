/* CPU thread counts that survive fork().
 *
 * GNU libgomp's thread pool does not survive fork(): in a child process forked after the
 * parent ran a multi-threaded OpenMP region (dwconv's, or the application's, or another
 * library's), the next multi-threaded region waits forever for threads that exist only in the
 * parent (GCC bug 60035; measured here: dwconv_convolve with 2 threads in such a child hung
 * until killed). Python's multiprocessing forks its workers by default on Linux, so this is
 * how many users would meet it. libgomp keeps its pool threads alive once made, so a parent
 * that had them was running more than one thread when it forked: an atfork handler counts the
 * forking process's threads (/proc/self/task), and in a child of a multi-threaded process
 * (or when the count is unavailable) dwconv runs every region on the calling thread: an
 * OpenMP region with a false if clause does not touch the pool. Same bits (results never
 * depend on the thread count), no hang. LLVM's and Intel's OpenMP runtimes restart their
 * threads after fork, so builds with them (clang) keep all threads. */
#include "internal.h"

#if defined(_OPENMP) && defined(__GNUC__) && !defined(__clang__)
#define DW_FORK_UNSAFE_OMP 1
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>

static atomic_int forked_child;    /* this process is (a descendant of) such a child */
static atomic_int parent_threaded; /* set just before fork in the forking process */

/* Threads of this process, or -1 when /proc is not there to tell. */
static int process_threads(void) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL) return -1;
  int n = 0;
  const struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static void before_fork(void) { atomic_store(&parent_threaded, process_threads() != 1); }
static void in_child(void) {
  if (atomic_load(&parent_threaded)) atomic_store(&forked_child, 1);
}

/* At load time, so forks before dwconv's first call are seen too. */
__attribute__((constructor)) static void install_atfork(void) {
  (void)pthread_atfork(before_fork, NULL, in_child);
}
#endif

int dwconv__threads_cap(int threads) {
#ifdef DW_FORK_UNSAFE_OMP
  if (threads > 1 && atomic_load(&forked_child)) return 1;
#endif
  return threads;
}
