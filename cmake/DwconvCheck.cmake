# Finds the Check unit-test framework for the dwconv tests through pkg-config (module `check`).
# Sets DWCONV_TEST_CHECK_FOUND (TRUE/FALSE) and, when found, the imported target
# PkgConfig::DWCONV_CHECK. DWCONV_TESTS_FORCE_SHIM=ON skips the search (tests then build
# against tests/check_shim.h). Defines dwconv_test_common() below, shared by tests/ and
# tests/reliability/ (which may be configured on its own).
set(DWCONV_TEST_CHECK_FOUND FALSE)
if(NOT DWCONV_TESTS_FORCE_SHIM)
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(DWCONV_CHECK QUIET IMPORTED_TARGET check)
    if(DWCONV_CHECK_FOUND)
      set(DWCONV_TEST_CHECK_FOUND TRUE)
    endif()
  endif()
endif()

# dwconv_test_common(<target> <tests dir>): what every Check test executable needs: the tests
# folder on the include path (test_common.h, check_shim.h), the build's FFTW / CUDA switches,
# warnings, Check or the shim, threads and libm. The caller adds sources and the library.
function(dwconv_test_common name tests_dir)
  target_include_directories(${name} PRIVATE ${tests_dir})
  target_compile_definitions(${name} PRIVATE
    DWCONV_TEST_HAVE_FFTW=$<BOOL:${DWCONV_WITH_FFTW}>
    DWCONV_TEST_BUILD_HAS_CUDA=$<BOOL:${DWCONV_WITH_CUDA}>)
  target_compile_options(${name} PRIVATE -Wall -Wextra)
  if(DWCONV_TEST_CHECK_FOUND)
    target_link_libraries(${name} PRIVATE PkgConfig::DWCONV_CHECK)
  else()
    target_compile_definitions(${name} PRIVATE DWCONV_TEST_USE_SHIM)
  endif()
  target_link_libraries(${name} PRIVATE Threads::Threads m)
endfunction()
