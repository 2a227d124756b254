/* A one-line progress bar on stderr.
 *
 * Shown only when stderr is a terminal, the caller did not ask for quiet, and the work has
 * already run for about a second (short runs print nothing). Redrawn at most ~8 times a
 * second, erased by progress_finish. */
#ifndef DWCONV_TOOLS_PROGRESS_H
#define DWCONV_TOOLS_PROGRESS_H

#include <stdint.h>

typedef struct progress {
  int enabled;       /* stderr is a tty and not quiet */
  int drawn;         /* something is on the line */
  double start, last;
  const char *label;
} progress;

/* Starts timing; label is a short word shown before the bar ("conv"). */
void progress_init(progress *p, const char *label, int quiet);

/* Reports done of total units and the bytes processed so far (for the rate). */
void progress_update(progress *p, uint64_t done, uint64_t total, double bytes);

/* Erases the bar (if drawn). */
void progress_finish(progress *p);

#endif /* DWCONV_TOOLS_PROGRESS_H */
