/* Export macro for the public dwconv API. The library is built with -fvisibility=hidden, so
 * only functions marked DWCONV_API are visible outside it. */
#ifndef DWCONV_EXPORT_H
#define DWCONV_EXPORT_H

#if defined(_WIN32) && !defined(DWCONV_STATIC_DEFINE)
#  ifdef DWCONV_BUILDING_LIBRARY
#    define DWCONV_API __declspec(dllexport)
#  else
#    define DWCONV_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define DWCONV_API __attribute__((visibility("default")))
#else
#  define DWCONV_API
#endif

#endif /* DWCONV_EXPORT_H */
