# Install rules and the Debian package, in one place (included last by CMakeLists.txt).
#   cmake --install build/release [--prefix P]   (default prefix /usr/local)
#   cd build/release && cpack -G DEB             -> mqfleet_<version>_amd64.deb
# Rules name targets and build outputs where there are any; the source paths left are
# docs/, scenarios/, README/CHANGELOG and packaging/.
include(GNUInstallDirs)

set(MQFLEET_GENERATED_DIR ${PROJECT_BINARY_DIR}/generated)
file(MAKE_DIRECTORY ${MQFLEET_GENERATED_DIR})

# Man pages and shell completions, written at build time by the freshly built binary from
# its own command tree (`mqfleet completion man DIR`, `mqfleet completion <shell>`), so
# they describe every subcommand that exists. tests/unit/test_man_pages.cpp checks them.
set(MQFLEET_GENERATED_STAMP ${MQFLEET_GENERATED_DIR}/docs.stamp)
set(MQFLEET_RUN_GENERATED ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0 $<TARGET_FILE:mqfleet>)
add_custom_command(OUTPUT ${MQFLEET_GENERATED_STAMP}
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${MQFLEET_GENERATED_DIR}/man1
  COMMAND ${MQFLEET_RUN_GENERATED} completion man ${MQFLEET_GENERATED_DIR}/man1
  COMMAND sh -c "\"$@\" completion bash > mqfleet.bash && \"$@\" completion zsh > _mqfleet && \"$@\" completion fish > mqfleet.fish"
          sh ${MQFLEET_RUN_GENERATED}
  COMMAND ${CMAKE_COMMAND} -E touch ${MQFLEET_GENERATED_STAMP}
  WORKING_DIRECTORY ${MQFLEET_GENERATED_DIR}
  DEPENDS mqfleet
  COMMENT "Generating man pages and shell completions from the mqfleet command tree"
  VERBATIM)
add_custom_target(mqfleet_generated_docs ALL DEPENDS ${MQFLEET_GENERATED_STAMP})

# The binary; the Paho module where the binary looks for it: ../lib/mqfleet/ from bin/
# (lib/client/src/connection.cpp). A fixed private directory, like git's libexec/git-core,
# not CMAKE_INSTALL_LIBDIR, which is multiarch (lib/x86_64-linux-gnu) for some prefixes.
install(TARGETS mqfleet RUNTIME DESTINATION bin)
install(TARGETS mqfleet_paho LIBRARY DESTINATION lib/mqfleet)

install(FILES ${MQFLEET_GENERATED_DIR}/mqfleet.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME mqfleet)
install(FILES ${MQFLEET_GENERATED_DIR}/_mqfleet DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${MQFLEET_GENERATED_DIR}/mqfleet.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
install(DIRECTORY ${MQFLEET_GENERATED_DIR}/man1/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        FILES_MATCHING PATTERN "*.1")

install(FILES README.md CHANGELOG.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(DIRECTORY scenarios/ DESTINATION ${CMAKE_INSTALL_DATADIR}/mqfleet/scenarios
        FILES_MATCHING PATTERN "*.json" PATTERN "*.md" PATTERN "*.credentials.json" EXCLUDE)

# The broker service: the systemd unit (for the /usr/bin/mqfleet of the package) and its
# default configuration. The configuration goes to /etc when the prefix is /usr, and
# to <prefix>/etc otherwise (GNUInstallDirs' rule, applied to the prefix in force at
# install time, so `--prefix`, DESTDIR and cpack's staging directory all work and
# nothing is written outside them).
install(FILES packaging/mqfleet-broker.service DESTINATION lib/systemd/system)
set(MQFLEET_BROKER_CONFIG ${PROJECT_SOURCE_DIR}/packaging/broker.json)
install(CODE "set(MQFLEET_BROKER_CONFIG \"${MQFLEET_BROKER_CONFIG}\")")
install(CODE [[
  if(CMAKE_INSTALL_PREFIX MATCHES "/usr/?$")
    get_filename_component(mqfleet_etc "${CMAKE_INSTALL_PREFIX}/../etc" ABSOLUTE)
  else()
    set(mqfleet_etc "${CMAKE_INSTALL_PREFIX}/etc")
  endif()
  file(INSTALL FILES "${MQFLEET_BROKER_CONFIG}" DESTINATION "${mqfleet_etc}/mqfleet" FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
]])

# The Debian package. Depends: what dpkg-shlibdeps finds for the binary and the Paho
# module (libc, libpaho-mqttpp3, ...), plus adduser for the postinst and procps for the
# unit's ExecReload (/bin/kill).
# Build notes: building the package needs the packages of scripts/install-deps.sh, among
# them libjs-chart.js: Chart.js is embedded into the binary at build time (the broker's
# web console serves it itself), so it is a build dependency, not a Depends; its MIT
# notice travels in the embedded file's header comment.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mqfleet)
set(CPACK_PACKAGE_VENDOR mqfleet)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
    "One binary with git-style subcommands: pub and sub (mosquitto-compatible flags), connection\nprofiles, a device simulator, a load tester and a reference MQTT 3.1/3.1.1/5.0 broker with a\nsystemd service (mqfleet-broker).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "mqfleet maintainers <mqfleet@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, procps")
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
