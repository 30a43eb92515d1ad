# demerit_library(NAME SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Declares services/<NAME> as library demerit_<NAME> with its public headers
# under include/demerit/<NAME>/. Third-party libraries go in PRIVATE_DEPS so
# that they stay inside the adapter that wraps them.
function(demerit_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(demerit_${name} STATIC ${ARG_SOURCES})
  target_include_directories(demerit_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                             PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(demerit_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# demerit_test(NAME SOURCES ... DEPS ...): a GoogleTest binary registered with
# ctest, one ctest entry per test case.
function(demerit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  include(GoogleTest)
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()

# Links a program with jemalloc when DEMERIT_JEMALLOC is on.
function(demerit_use_jemalloc target)
  if(JEMALLOC_LIBRARY)
    target_link_libraries(${target} PRIVATE ${JEMALLOC_LIBRARY})
  endif()
endfunction()
