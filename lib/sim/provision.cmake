# Provisioning simulated devices in the reference broker's registry (`mqfleet sim
# --provision`): joins the scenario model (lib/scenario) and the registry (lib/broker/core).
add_library(mqfleet_provision STATIC src/provision.cpp)
target_include_directories(mqfleet_provision PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
target_link_libraries(mqfleet_provision
  PUBLIC mqfleet_scenario
  PRIVATE mqfleet_broker mqfleet_settings)
