# The running broker on top of the core units: Asio listeners (plain + TLS), connections,
# one handler per packet type, $SYS, structured logs, the Broker class. Separate target
# from mqfleet_broker (the I/O-free core) so core unit tests need no sockets.
add_library(mqfleet_broker_server STATIC
  src/broker.cpp
  src/broker_config.cpp
  src/broker_state.cpp
  src/server.cpp
  src/connection.cpp
  src/dispatch.cpp
  src/log.cpp
  src/sys_topics.cpp
  src/handle_connect.cpp
  src/handle_publish.cpp
  src/handle_puback.cpp
  src/handle_subscribe.cpp
  src/handle_unsubscribe.cpp
  src/handle_pingreq.cpp
  src/handle_disconnect.cpp
  src/handle_auth.cpp
  src/persistence.cpp
  src/persistence_store.cpp
  src/broker_state_persistence.cpp
)
target_include_directories(mqfleet_broker_server PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                                 PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_link_libraries(mqfleet_broker_server
  PUBLIC mqfleet_broker mqfleet_mqtt
  PRIVATE mqfleet_store SQLite::SQLite3 Asio::asio OpenSSL::SSL OpenSSL::Crypto nlohmann_json::nlohmann_json mqfleet_settings)
