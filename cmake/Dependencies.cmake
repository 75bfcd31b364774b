# Every external dependency, found from Debian's packages. No downloads, no vendoring.
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(PahoMqttCpp CONFIG REQUIRED)
# Boost.Asio and Boost.Beast (header-only; Debian: libboost-dev) for the broker's
# listeners: MQTT, MQTT over WebSocket and HTTP on the same io_contexts (docs/broker.md).
find_package(Boost 1.74 REQUIRED)
if(NOT TARGET mqfleet_boost_asio)
  add_library(mqfleet_boost_asio INTERFACE)
  target_link_libraries(mqfleet_boost_asio INTERFACE Boost::headers Threads::Threads)
  target_compile_definitions(mqfleet_boost_asio INTERFACE BOOST_ASIO_NO_DEPRECATED)
endif()
find_package(SQLite3 REQUIRED)

# OpenSSL and SQLite from their static archives (Debian's libssl-dev and libsqlite3-dev
# ship them): a shared libcrypto alone costs every start of mqfleet ~4 ms of symbol
# binding and relocation, even for commands that never use TLS (docs/benchmarks.md,
# "## pub"). The Paho module (lib/client) still loads the shared libssl/libcrypto that
# libpaho-mqtt3as needs; the two copies never exchange objects (the executable exports
# no OpenSSL symbol, so each copy binds to itself).
option(MQFLEET_STATIC_DEPS "Link OpenSSL and SQLite statically (faster start-up)" ON)
if(MQFLEET_STATIC_DEPS)
  find_library(MQFLEET_SSL_ARCHIVE NAMES libssl.a)
  find_library(MQFLEET_CRYPTO_ARCHIVE NAMES libcrypto.a)
  find_library(MQFLEET_SQLITE3_ARCHIVE NAMES libsqlite3.a)
  mark_as_advanced(MQFLEET_SSL_ARCHIVE MQFLEET_CRYPTO_ARCHIVE MQFLEET_SQLITE3_ARCHIVE)
  if(MQFLEET_SSL_ARCHIVE AND MQFLEET_CRYPTO_ARCHIVE AND MQFLEET_SQLITE3_ARCHIVE)
    set_target_properties(OpenSSL::SSL PROPERTIES IMPORTED_LOCATION "${MQFLEET_SSL_ARCHIVE}")
    set_target_properties(OpenSSL::Crypto PROPERTIES IMPORTED_LOCATION "${MQFLEET_CRYPTO_ARCHIVE}")
    set_target_properties(SQLite::SQLite3 PROPERTIES IMPORTED_LOCATION "${MQFLEET_SQLITE3_ARCHIVE}")
    set_property(TARGET OpenSSL::Crypto APPEND PROPERTY INTERFACE_LINK_LIBRARIES ${CMAKE_DL_LIBS} Threads::Threads)
    set_property(TARGET SQLite::SQLite3 APPEND PROPERTY INTERFACE_LINK_LIBRARIES m ${CMAKE_DL_LIBS} Threads::Threads)
  else()
    message(STATUS "mqfleet: static OpenSSL/SQLite archives not found; linking the shared libraries")
  endif()
endif()

# fmt as `mqfleet::fmt`. Debian ships fmt only as a shared library, and libfmt.so brings
# the shared libstdc++ that the mqfleet binary links statically (apps/mqfleet). So with
# MQFLEET_STATIC_DEPS, fmt's compiled part is built here into a static archive from fmt's
# own installed implementation header (cmake/fmt_compiled.cpp), once, instead of
# FMT_HEADER_ONLY, which costs ~4 s of compile time in every file that formats.
add_library(mqfleet_fmt INTERFACE)
if(MQFLEET_STATIC_DEPS)
  add_library(mqfleet_fmt_compiled STATIC ${CMAKE_CURRENT_LIST_DIR}/fmt_compiled.cpp)
  set_target_properties(mqfleet_fmt_compiled PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_include_directories(mqfleet_fmt_compiled SYSTEM PUBLIC
    $<TARGET_PROPERTY:fmt::fmt,INTERFACE_INCLUDE_DIRECTORIES>)
  target_link_libraries(mqfleet_fmt INTERFACE mqfleet_fmt_compiled)
else()
  target_link_libraries(mqfleet_fmt INTERFACE fmt::fmt)
endif()
add_library(mqfleet::fmt ALIAS mqfleet_fmt)
