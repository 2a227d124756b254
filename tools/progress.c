/* Progress bar on stderr (see progress.h). */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <stdio.h>
#include <unistd.h>

#include "cli_util.h"

/* See progress.h. */
void progress_init(progress *p, const char *label, int quiet) {
  p->enabled = !quiet && isatty(STDERR_FILENO);
  p->drawn = 0;
  p->start = p->last = cli_now();
  p->label = label;
}

/* See progress.h. */
void progress_update(progress *p, uint64_t done, uint64_t total, double bytes) {
  if (!p->enabled || total == 0) return;
  double now = cli_now(), el = now - p->start;
  if (el < 1.0 || (now - p->last < 0.125 && done < total)) return;
  p->last = now;
  double frac = (double)done / (double)total;
  enum { W = 30 };
  char bar[W + 1];
  int fill = (int)(frac * W + 0.5);
  for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : '.';
  bar[W] = '\0';
  char rate[32];
  cli_fmt_bytes(el > 0 ? bytes / el : 0, rate, sizeof rate);
  double eta = frac > 0 ? el * (1 - frac) / frac : 0;
  fprintf(stderr, "\r%s [%s] %5.1f%%  %s/s  ETA %4.0fs ", p->label, bar, 100 * frac, rate, eta);
  fflush(stderr);
  p->drawn = 1;
}

/* See progress.h. */
void progress_finish(progress *p) {
  if (p->drawn) {
    fprintf(stderr, "\r%80s\r", "");
    fflush(stderr);
  }
  p->drawn = 0;
}
