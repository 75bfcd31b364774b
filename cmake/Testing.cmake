# Test helpers: one GoogleTest executable per area (fmt's add_fmt_test), and black-box
# end-to-end tests that get the mqfleet binary's path through the environment (ccache).
find_package(GTest CONFIG REQUIRED)
include(GoogleTest)

# add_mqfleet_test(<name> SOURCES ... [LIBS ...] [LABELS ...] [E2E] [WHOLE])
#   Builds <name> from SOURCES and registers each of its GoogleTest cases with ctest.
#   E2E tests get MQFLEET_BIN and MQFLEET_SOURCE_DIR in their environment. WHOLE
#   registers the binary as one ctest test instead, for tests that share an expensive
#   GoogleTest environment (a broker that takes seconds to start) within one process.
function(add_mqfleet_test name)
  cmake_parse_arguments(ARG "E2E;WHOLE" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main mqfleet_settings)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  set(env "MQFLEET_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  set(env_more "")
  set(labels ${ARG_LABELS})
  if(ARG_E2E)
    # A second variable goes through ENVIRONMENT_MODIFICATION: gtest_discover_tests splits
    # a two-element ENVIRONMENT list and only the first variable would reach the test.
    set(env_more ENVIRONMENT_MODIFICATION "MQFLEET_BIN=set:$<TARGET_FILE:mqfleet>")
    list(APPEND labels e2e)
    add_dependencies(${name} mqfleet)
  else()
    list(APPEND labels unit)
  endif()
  if(ARG_WHOLE)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "${env}" ${env_more} LABELS "${labels}" TIMEOUT 300)
    return()
  endif()
  gtest_discover_tests(${name}
    DISCOVERY_TIMEOUT 30
    PROPERTIES ENVIRONMENT "${env}" ${env_more} LABELS "${labels}" TIMEOUT 300)
endfunction()
