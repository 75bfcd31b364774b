# `mqfleet --version`: the project version, the git commit and the build type, compiled
# into a generated source of its own (mqfleet_build_info) so that a new commit rebuilds
# one small file and relinks, instead of recompiling the CLI with a new definition.
set(MQFLEET_BUILD_INFO_SOURCE ${PROJECT_BINARY_DIR}/generated/build_info.cpp)
add_custom_target(mqfleet_build_info_source
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DOUTPUT=${MQFLEET_BUILD_INFO_SOURCE}
          -DVERSION=${PROJECT_VERSION} -DBUILD_TYPE=${CMAKE_BUILD_TYPE}
          -P ${CMAKE_CURRENT_LIST_DIR}/BuildInfo.cmake
  BYPRODUCTS ${MQFLEET_BUILD_INFO_SOURCE}
  VERBATIM)
add_library(mqfleet_build_info STATIC ${MQFLEET_BUILD_INFO_SOURCE})
add_dependencies(mqfleet_build_info mqfleet_build_info_source)
target_link_libraries(mqfleet_build_info PRIVATE mqfleet_settings)
