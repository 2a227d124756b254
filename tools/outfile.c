/* Atomic output files (see outfile.h). */
#define _GNU_SOURCE
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* The temporary path the signal handler removes; set only while a temporary file exists.
 * Updated with the handled signals blocked, so the handler never sees a half-written path. */
static char g_tmp_path[PATH_MAX];
static volatile sig_atomic_t g_tmp_live = 0;

/* Removes the temporary file (unlink is async-signal-safe), then re-raises the signal with
 * its default action so the process ends with the usual "killed by signal" status. */
static void on_signal(int sig) {
  if (g_tmp_live) unlink(g_tmp_path);
  if (sig == SIGBUS) {
    static const char msg[] = "dwconv: an input file shrank or could not be read while mapped (SIGBUS)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

/* SIGBUS: a mapped input truncated by someone else, or a read error under the mapping. */
static const int handled_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGBUS};

/* See outfile.h. */
void outfile_install_signal_handlers(void) {
  /* A file-size limit (ulimit -f) would kill the process mid-write and leave the temporary
   * file behind; ignored, the write fails with EFBIG and the normal error path cleans up. */
  signal(SIGXFSZ, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof handled_signals / sizeof handled_signals[0]; i++)
    sigaddset(&sa.sa_mask, handled_signals[i]);
  for (size_t i = 0; i < sizeof handled_signals / sizeof handled_signals[0]; i++) {
    struct sigaction old;
    /* Keep an inherited "ignore" (e.g. nohup): the user asked for the run to survive it. */
    if (sigaction(handled_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    sigaction(handled_signals[i], &sa, NULL);
  }
}

/* Blocks (block = 1) or restores the handled signals around updates of g_tmp_path. */
static void guard(int block, sigset_t *saved) {
  if (block) {
    sigset_t s;
    sigemptyset(&s);
    for (size_t i = 0; i < sizeof handled_signals / sizeof handled_signals[0]; i++)
      sigaddset(&s, handled_signals[i]);
    sigprocmask(SIG_BLOCK, &s, saved);
  } else {
    sigprocmask(SIG_SETMASK, saved, NULL);
  }
}

/* Splits path into its folder ("." when none) and base name; returns malloc'ed strings. */
static int split_path(const char *path, char **dir, char **base) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    *dir = strdup(".");
    *base = strdup(path);
  } else {
    size_t dl = (size_t)(slash - path);
    *dir = dl == 0 ? strdup("/") : strndup(path, dl);
    *base = strdup(slash + 1);
  }
  if (*dir == NULL || *base == NULL) {
    free(*dir);
    free(*base);
    return -1;
  }
  return 0;
}

/* See outfile.h. */
int outfile_begin(out_file *o, const char *path, uint64_t size, char *err, size_t errlen) {
  int rc = -1; /* -1: the path is unusable; -2: the file system refused the space */
  o->fd = -1;
  o->final_path = NULL;
  o->tmp_path = NULL;
  char *dir = NULL, *base = NULL;
  if (split_path(path, &dir, &base) != 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (base[0] == '\0') {
    snprintf(err, errlen, "output path names a folder, not a file");
    goto fail;
  }
  size_t n = strlen(dir) + strlen(base) + 16;
  if (n >= PATH_MAX) {
    snprintf(err, errlen, "output path too long");
    goto fail;
  }
  o->tmp_path = malloc(n);
  o->final_path = strdup(path);
  if (o->tmp_path == NULL || o->final_path == NULL) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  snprintf(o->tmp_path, n, "%s/.%s.XXXXXX", dir, base);

  sigset_t saved;
  guard(1, &saved);
  o->fd = mkstemp(o->tmp_path);
  if (o->fd >= 0) {
    memcpy(g_tmp_path, o->tmp_path, strlen(o->tmp_path) + 1);
    g_tmp_live = 1;
  }
  guard(0, &saved);
  if (o->fd < 0) {
    snprintf(err, errlen, "cannot create a file in '%s': %s", dir, strerror(errno));
    goto fail;
  }
  (void)fcntl(o->fd, F_SETFD, FD_CLOEXEC);
  if (size > 0) {
#ifdef __linux__
    if (fallocate(o->fd, 0, 0, (off_t)size) != 0 && errno != EOPNOTSUPP && errno != ENOSYS) {
      snprintf(err, errlen, "cannot reserve %llu bytes in '%s': %s", (unsigned long long)size, dir,
               strerror(errno));
      rc = -2;
      goto fail;
    }
#endif
    if (ftruncate(o->fd, (off_t)size) != 0) {
      snprintf(err, errlen, "cannot size the output to %llu bytes: %s", (unsigned long long)size,
               strerror(errno));
      rc = -2;
      goto fail;
    }
  }
  free(dir);
  free(base);
  return 0;
fail:
  free(dir);
  free(base);
  outfile_abort(o);
  return rc;
}

/* See outfile.h. */
int outfile_pwrite(out_file *o, const void *buf, size_t len, uint64_t off, char *err, size_t errlen) {
  size_t done = 0;
  while (done < len) {
    ssize_t w = pwrite(o->fd, (const char *)buf + done, len - done, (off_t)(off + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      snprintf(err, errlen, "write error: %s", w < 0 ? strerror(errno) : "no progress");
      return -1;
    }
    done += (size_t)w;
  }
  return 0;
}

/* See outfile.h. */
int outfile_commit(out_file *o, char *err, size_t errlen) {
  mode_t mask = umask(0);
  umask(mask);
  if (fchmod(o->fd, 0666 & ~mask) != 0 || fsync(o->fd) != 0) {
    snprintf(err, errlen, "cannot sync the output: %s", strerror(errno));
    outfile_abort(o);
    return -1;
  }
  if (close(o->fd) != 0) {
    o->fd = -1;
    snprintf(err, errlen, "cannot close the output: %s", strerror(errno));
    outfile_abort(o);
    return -1;
  }
  o->fd = -1;
  sigset_t saved;
  guard(1, &saved);
  int rc = rename(o->tmp_path, o->final_path);
  int e = errno;
  if (rc == 0) g_tmp_live = 0;
  guard(0, &saved);
  if (rc != 0) {
    snprintf(err, errlen, "cannot rename the finished output into place: %s", strerror(e));
    outfile_abort(o);
    return -1;
  }
  /* Make the rename itself durable. */
  char *dir = NULL, *base = NULL;
  if (split_path(o->final_path, &dir, &base) == 0) {
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)fsync(dfd);
      close(dfd);
    }
  }
  free(dir);
  free(base);
  free(o->tmp_path);
  free(o->final_path);
  o->tmp_path = o->final_path = NULL;
  return 0;
}

/* See outfile.h. */
void outfile_abort(out_file *o) {
  sigset_t saved;
  guard(1, &saved);
  if (o->fd >= 0) close(o->fd);
  if (o->fd >= 0 || g_tmp_live) {
    if (o->tmp_path != NULL) unlink(o->tmp_path);
    g_tmp_live = 0;
  }
  o->fd = -1;
  guard(0, &saved);
  free(o->tmp_path);
  free(o->final_path);
  o->tmp_path = o->final_path = NULL;
}
