# Finds the Check unit-test framework for the dwconv tests through pkg-config (module `check`).
# Sets DWCONV_TEST_CHECK_FOUND (TRUE/FALSE) and, when found, the imported target
# PkgConfig::DWCONV_CHECK. DWCONV_TESTS_FORCE_SHIM=ON skips the search (tests then build
# against tests/check_shim.h).
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
