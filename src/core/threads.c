/* CPU thread counts that survive fork().
 *
 * GNU libgomp's thread pool does not survive fork(): in a child process forked after the
 * parent ran a multi-threaded OpenMP region (dwconv's, or the application's, or another
 * library's), the next multi-threaded region waits forever for threads that exist only in the
 * parent (GCC bug 60035; measured here: dwconv_convolve with 2 threads in such a child hung
 * until killed). Python's multiprocessing forks its workers by default on Linux, so this is
 * how many users would meet it. libgomp keeps its pool threads alive once made, so a parent
 * that had them was running more than one thread when it forked: an atfork handler counts the
 * forking process's threads (/proc/self/stat), and in a child of a multi-threaded process
 * (or when the count is unavailable) dwconv runs every region on the calling thread: an
 * OpenMP region with a false if clause does not touch the pool. Same bits (results never
 * depend on the thread count), no hang. LLVM's and Intel's OpenMP runtimes restart their
 * threads after fork, so builds with them (clang) keep all threads.
 *
 * Limit: the handler must be registered in the parent, i.e. dwconv loaded before the fork. A
 * child that first loads dwconv itself (dlopen after fork) cannot tell that it is one, and
 * hangs like any libgomp program there would. */
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC under -std=c11 */
#include "internal.h"

#if defined(_OPENMP) && defined(__GNUC__) && !defined(__clang__)
#define DW_FORK_UNSAFE_OMP 1
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static atomic_int forked_child;    /* this process is (a descendant of) such a child */
static atomic_int parent_threaded; /* set just before fork in the forking process */

/* Threads of this process from /proc/self/stat (field 20, counted after the ')' that ends the
 * command name, which may itself hold spaces or ')'), or -1 when it cannot be read. Only
 * open / read / close on a stack buffer: no allocation, so it is safe in a fork prepare
 * handler whatever locks the forking thread holds. */
static int process_threads(void) {
  char buf[1024];
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t len = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (len <= 0) return -1;
  buf[len] = '\0';
  const char *p = NULL;
  for (const char *q = buf; *q; q++)
    if (*q == ')') p = q;
  if (p == NULL) return -1;
  /* After ") ": state is field 3; num_threads is field 20, i.e. 17 fields later. */
  int field = 2;
  for (p++; *p && field < 20; p++)
    if (*p == ' ') field++;
  if (field != 20) return -1;
  int n = 0;
  for (; *p >= '0' && *p <= '9'; p++) n = n * 10 + (*p - '0');
  return n > 0 ? n : -1;
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
