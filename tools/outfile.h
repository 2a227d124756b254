/* Atomic output files: written to a temporary file in the target's folder and renamed over
 * the target only when complete and synced.
 *
 * A failed run (outfile_abort) or one stopped by SIGINT / SIGTERM / SIGHUP removes the
 * temporary file and never touches an existing target. Only one output file may be open at a
 * time (the signal handler knows one path). */
#ifndef DWCONV_TOOLS_OUTFILE_H
#define DWCONV_TOOLS_OUTFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct out_file {
  int fd;              /* -1 when none */
  char *final_path;    /* the target */
  char *tmp_path;      /* the temporary file, same folder */
} out_file;

/* Installs the SIGINT / SIGTERM / SIGHUP / SIGBUS handler that removes the open temporary file
 * and then dies of the signal (so the shell sees status 128 + signal number). SIGBUS comes
 * from a mapped input that another process truncated mid-run. Call once, early. */
void outfile_install_signal_handlers(void);

/* Creates the temporary file for path and reserves size bytes (fallocate where the file
 * system supports it, so a full disk is found before any work). Returns 0; -1 when the path
 * cannot be used (bad input: exit 2); -2 when the space cannot be reserved (disk full, file
 * too large: a run-time failure, exit 1). err gets a one-line reason. */
int outfile_begin(out_file *o, const char *path, uint64_t size, char *err, size_t errlen);

/* Writes len bytes at offset off (all of them, retrying short writes). Returns 0 or -1 with
 * the reason in err. */
int outfile_pwrite(out_file *o, const void *buf, size_t len, uint64_t off, char *err, size_t errlen);

/* fsyncs the file, gives it the permissions a normal create would (0666 & ~umask), renames it
 * over the target and fsyncs the folder. Returns 0, or -1 (after removing the temporary file)
 * with the reason in err. */
int outfile_commit(out_file *o, char *err, size_t errlen);

/* Closes and removes the temporary file. Safe to call on a committed or never-begun file. */
void outfile_abort(out_file *o);

#endif /* DWCONV_TOOLS_OUTFILE_H */
