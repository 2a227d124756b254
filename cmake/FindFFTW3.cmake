# FindFFTW3: single- and double-precision FFTW3.
# Defines FFTW3_FOUND and the imported targets FFTW3::fftw3f and FFTW3::fftw3.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_FFTW3 QUIET fftw3)
endif()
find_path(FFTW3_INCLUDE_DIR fftw3.h HINTS ${PC_FFTW3_INCLUDE_DIRS})
find_library(FFTW3_DOUBLE_LIBRARY NAMES fftw3 HINTS ${PC_FFTW3_LIBRARY_DIRS})
find_library(FFTW3_FLOAT_LIBRARY NAMES fftw3f HINTS ${PC_FFTW3_LIBRARY_DIRS})
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(FFTW3
  REQUIRED_VARS FFTW3_INCLUDE_DIR FFTW3_DOUBLE_LIBRARY FFTW3_FLOAT_LIBRARY
  REASON_FAILURE_MESSAGE "install FFTW3 (Debian: apt-get install libfftw3-dev) or configure with -DDWCONV_WITH_FFTW=OFF")
if(FFTW3_FOUND)
  foreach(_v IN ITEMS fftw3f:FLOAT fftw3:DOUBLE)
    string(REPLACE ":" ";" _p ${_v})
    list(GET _p 0 _name)
    list(GET _p 1 _kind)
    if(NOT TARGET FFTW3::${_name})
      add_library(FFTW3::${_name} UNKNOWN IMPORTED)
      set_target_properties(FFTW3::${_name} PROPERTIES
        IMPORTED_LOCATION "${FFTW3_${_kind}_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${FFTW3_INCLUDE_DIR}")
    endif()
  endforeach()
endif()
mark_as_advanced(FFTW3_INCLUDE_DIR FFTW3_DOUBLE_LIBRARY FFTW3_FLOAT_LIBRARY)
