/* Small helpers shared by the dwconv subcommands: exit codes, error messages, number and
 * size parsing, the monotonic clock, and dwconv enum names. */
#ifndef DWCONV_TOOLS_CLI_UTIL_H
#define DWCONV_TOOLS_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "dwconv.h"

/* Exit statuses of the program (see tools/README.md). */
enum {
  EXIT_OK = 0,      /* success */
  EXIT_RUNTIME = 1, /* the work failed at run time (I/O error, out of memory, device error) */
  EXIT_USAGE = 2    /* bad usage or bad input: nothing was written */
};

/* Prints "dwconv: <message>\n" on stderr (one line; the caller gives no trailing newline). */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Parses a size such as "4096", "512K", "512M", "1G", "1.5G", "2GiB" (powers of 1024;
 * a trailing "B" or "iB" is allowed). Returns 1 and sets *out, or 0 when malformed, zero or
 * out of range. */
int cli_parse_size(const char *s, size_t *out);

/* Parses a decimal integer in [lo, hi]. Returns 1 and sets *out, or 0. */
int cli_parse_long(const char *s, long lo, long hi, long *out);

/* Parses a comma-separated list of positive sizes ("3,63,4095") into out (at most cap
 * entries). Returns the count, or 0 when malformed or too many. */
size_t cli_parse_list(const char *s, size_t *out, size_t cap);

/* Seconds from an arbitrary fixed point, monotonic. */
double cli_now(void);

/* Mode / backend / algorithm / math names and their parsers (return 1 on a known name). */
const char *cli_mode_name(dwconv_mode m);
const char *cli_backend_name(dwconv_backend b);
const char *cli_algo_name(dwconv_algo a);
const char *cli_math_name(dwconv_math m);
int cli_parse_mode(const char *s, dwconv_mode *m);
int cli_parse_backend(const char *s, dwconv_backend *b);
int cli_parse_algo(const char *s, dwconv_algo *a);
int cli_parse_math(const char *s, dwconv_math *m);

/* The exit status for a failed dwconv call: EXIT_USAGE for requests that can never work
 * (invalid value, size overflow, not supported, no device), EXIT_RUNTIME otherwise. */
int cli_status_exit(dwconv_status st);

/* The detail message of the calling thread's last failed dwconv call, or st's name when the
 * library left none. */
const char *cli_dwconv_error(dwconv_status st);

/* --fft-wisdom FILE, before planning (cmd names the subcommand in messages): imports FILE
 * when it exists; a missing FILE (or NULL) is not an error (it is made later). A FILE that
 * is there but cannot be used prints "<cmd>: --fft-wisdom: <why>" and returns EXIT_USAGE
 * (unreadable, not dwconv wisdom, corrupted, no FFTW in this build) or EXIT_RUNTIME (out of
 * memory); EXIT_OK otherwise. */
int cli_wisdom_import(const char *cmd, const char *path);

/* --fft-wisdom FILE, after the work: saves the FFT wisdom to FILE. Failure only warns
 * ("<cmd>: warning: --fft-wisdom: <why>", unless quiet): results never depend on it.
 * Returns 1 when saved. */
int cli_wisdom_export(const char *cmd, const char *path, int quiet);

/* "1.50 GiB"-style rendering of a byte count into buf (returns buf). */
const char *cli_fmt_bytes(double bytes, char *buf, size_t cap);

#endif /* DWCONV_TOOLS_CLI_UTIL_H */
