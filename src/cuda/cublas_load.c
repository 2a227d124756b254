/* cuBLAS reaches libdwconv through a plugin: the build links cuBLAS into libdwconv_cublas.so
 * (cublas_plugin.c; DT_NEEDED libcublas.so.<CUDA major>), never into libdwconv itself, and this
 * file loads the plugin with dlopen when the first GEMM plan is made. libcublas and
 * libcublasLt add about 155 MB to the resident memory of every process that loads them (their
 * start-up touches that much), which programs that never use ALGO_GEMM should not pay.
 *
 * The plugin is looked for, in order:
 *   1. next to the file that holds this code: libdwconv.so, or the program or Python
 *      extension module the static library is linked into (dladdr; /proc/self/exe for a
 *      program);
 *   2. by its plain name, through the dynamic loader's search path (the RUNPATH of that file,
 *      LD_LIBRARY_PATH, ldconfig's cache, the system directories).
 * The environment variable DWCONV_CUBLAS_LIBRARY, when set and not empty, names the plugin
 * instead (a path, or a plain name for the loader to search) and is the only file tried.
 * A plugin is used only if its ABI number (cublas_plugin.h) is this library's: the one built
 * with this dwconv. A failed load reports every file tried and the loader's reason for each,
 * and is retried by the next GEMM plan; a successful one is kept for the life of the
 * process. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr1, RTLD_DL_LINKMAP */
#endif
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cuda_util.h"
#include "gemm.h"

static dwconv_cublas_api api;
static int loaded;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The files tried and why each failed, "; "-separated (truncated if very long). */
typedef struct tried {
  char text[768];
  size_t len;
} tried;

static void note(tried *t, const char *fmt, ...) {
  size_t room = sizeof t->text - t->len; /* t->len < sizeof t->text always */
  if (t->len > 0 && room > 3) {
    memcpy(t->text + t->len, "; ", 3);
    t->len += 2;
    room -= 2;
  }
  if (room <= 1) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(t->text + t->len, room, fmt, ap);
  va_end(ap);
  if (n > 0) t->len += (size_t)n < room ? (size_t)n : room - 1;
}

/* dwconv's version from an ABI number (cublas_plugin.h). */
static void abi_version(unsigned long abi, unsigned long v[3]) {
  unsigned long n = abi / 100ul;
  v[0] = n / 10000ul;
  v[1] = n / 100ul % 100ul;
  v[2] = n % 100ul;
}

/* Loads the plugin `file` and takes cuBLAS's functions from it into api. 1 on success (the
 * handle stays open); 0 after noting why not. */
static int try_plugin(const char *file, tried *t) {
  dlerror();
  void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    const char *why = dlerror();
    if (why == NULL) why = "unknown error";
    /* The loader's message starts with the file it could not open: the plugin, or (when the
     * plugin was found) the library it needs, such as libcublas.so.13. */
    if (strncmp(why, file, strlen(file)) == 0)
      note(t, "%s", why);
    else
      note(t, "%s: %s", file, why);
    return 0;
  }
  dwconv_cublas_plugin_fn fn;
  *(void **)(&fn) = dlsym(h, DWCONV_CUBLAS_PLUGIN_ENTRY);
  if (fn == NULL) {
    note(t, "%s: not a dwconv cuBLAS plugin (it has no %s)", file, DWCONV_CUBLAS_PLUGIN_ENTRY);
    dlclose(h);
    return 0;
  }
  dwconv_cublas_api a;
  memset(&a, 0, sizeof a);
  unsigned long abi = fn(DWCONV_CUBLAS_PLUGIN_ABI, &a, sizeof a);
  if (abi != DWCONV_CUBLAS_PLUGIN_ABI) {
    unsigned long theirs[3], ours[3];
    abi_version(abi, theirs);
    abi_version(DWCONV_CUBLAS_PLUGIN_ABI, ours);
    note(t, "%s: built for dwconv %lu.%lu.%lu (plugin ABI %lu), but this is dwconv %lu.%lu.%lu (ABI %lu)", file,
         theirs[0], theirs[1], theirs[2], abi, ours[0], ours[1], ours[2], (unsigned long)DWCONV_CUBLAS_PLUGIN_ABI);
    dlclose(h);
    return 0;
  }
  if (a.create == NULL || a.destroy == NULL || a.set_workspace == NULL || a.set_stream == NULL || a.gemm == NULL) {
    note(t, "%s: the plugin left cuBLAS functions out", file);
    dlclose(h);
    return 0;
  }
  api = a;
  return 1; /* kept open: plans of this process keep using it */
}

/* The directory (with its trailing '/') of the file that holds this code, in dir; 0 if unknown. */
static int code_dir(char *dir, size_t size) {
  Dl_info info;
  struct link_map *map = NULL;
  if (dladdr1((void *)&dwconv__cublas_load, &info, (void **)&map, RTLD_DL_LINKMAP) == 0) return 0;
  char path[PATH_MAX];
  if (map != NULL && map->l_name != NULL && map->l_name[0] != '\0') {
    if (strlen(map->l_name) >= sizeof path) return 0;
    strcpy(path, map->l_name);
  } else {
    /* The program itself (the static library linked into it): dladdr would say argv[0]. */
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = '\0';
  }
  char *slash = strrchr(path, '/');
  if (slash == NULL || (size_t)(slash - path) + 1 >= size) return 0;
  slash[1] = '\0';
  strcpy(dir, path);
  return 1;
}

static dwconv_status load(void) {
  tried t = {{0}, 0};
  const char *env = getenv("DWCONV_CUBLAS_LIBRARY");
  if (env != NULL && *env != '\0') {
    if (try_plugin(env, &t)) return DWCONV_SUCCESS;
    return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED,
                         "ALGO_GEMM needs cuBLAS, which dwconv reaches through its plugin " DWCONV_CUBLAS_PLUGIN_FILE
                         "; the plugin DWCONV_CUBLAS_LIBRARY names could not be loaded: %s. Set DWCONV_CUBLAS_LIBRARY "
                         "to the " DWCONV_CUBLAS_PLUGIN_FILE " installed with this dwconv, or unset it; if what "
                         "is missing is libcublas, make the CUDA toolkit's cuBLAS visible to the dynamic loader "
                         "(ldconfig or LD_LIBRARY_PATH)",
                         t.text);
  }
  char dir[PATH_MAX];
  int have_dir = code_dir(dir, sizeof dir);
  if (have_dir) {
    char file[PATH_MAX + sizeof DWCONV_CUBLAS_PLUGIN_FILE];
    snprintf(file, sizeof file, "%s%s", dir, DWCONV_CUBLAS_PLUGIN_FILE);
    if (try_plugin(file, &t)) return DWCONV_SUCCESS;
  } else {
    note(&t, "(the directory of dwconv's own file is unknown)");
  }
  if (try_plugin(DWCONV_CUBLAS_PLUGIN_FILE, &t)) return DWCONV_SUCCESS;
  return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED,
                       "ALGO_GEMM needs cuBLAS, which dwconv reaches through its plugin " DWCONV_CUBLAS_PLUGIN_FILE
                       "; it could not be loaded: %s. Install the " DWCONV_CUBLAS_PLUGIN_FILE
                       " built with this dwconv in %s or on the library search path (or set "
                       "DWCONV_CUBLAS_LIBRARY to its path); if what is missing is libcublas, make the CUDA "
                       "toolkit's cuBLAS visible to the dynamic loader (ldconfig or LD_LIBRARY_PATH)",
                       t.text, have_dir ? dir : "dwconv's directory");
}

dwconv_status dwconv__cublas_load(const dwconv_cublas_api **out) {
  pthread_mutex_lock(&lock);
  dwconv_status st = DWCONV_SUCCESS;
  if (!loaded) {
    st = load();
    if (st == DWCONV_SUCCESS) loaded = 1;
  }
  pthread_mutex_unlock(&lock);
  *out = st == DWCONV_SUCCESS ? &api : NULL;
  return st;
}
