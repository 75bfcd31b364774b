# Every external dependency, found from Debian's packages. No downloads, no vendoring.
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(PahoMqttCpp CONFIG REQUIRED)
find_package(Asio REQUIRED)
find_package(SQLite3 REQUIRED)
