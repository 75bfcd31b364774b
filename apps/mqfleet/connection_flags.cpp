#include "connection_flags.hpp"

namespace mqfleet::cli {

void add_tls_and_transport_flags(CLI::App& command, ConnectionFlags& flags) {
  const char* tls = "TLS";
  command.add_flag("--tls", flags.tls, "Use TLS (implied by --cafile, --capath and mqtts://)")->group(tls);
  command.add_option("--cafile", flags.cafile, "CA certificate file (PEM) to verify the broker")->group(tls);
  command.add_option("--capath", flags.capath, "Directory of hashed CA certificates")->group(tls);
  command.add_option("--cert", flags.cert, "Client certificate (PEM)")->group(tls);
  command.add_option("--key", flags.key, "Client private key (PEM)")->group(tls);
  command.add_option("--key-password-env", flags.key_password_env,
                     "Environment variable holding the client key's password")
      ->group(tls);
  command.add_flag("--insecure", flags.insecure, "Do not verify the broker's certificate chain and host name")
      ->group(tls);
  command.add_option("--tls-version", flags.tls_version, "TLS version: tlsv1.2 or tlsv1.3")
      ->check(CLI::IsMember({"tlsv1.2", "tlsv1.3"}))
      ->group(tls);
  command.add_option("--alpn", flags.alpn, "ALPN protocol name (repeatable)")->group(tls);
  const std::string transport = "Transport";
  command.add_flag("--ws", flags.websocket,
                   "MQTT over WebSocket (also ws:// and wss:// URLs; with TLS: WebSocket over TLS)")
      ->group(transport);
  command.add_option("--ws-path", flags.ws_path, "HTTP path of the WebSocket endpoint (default /mqtt; implies --ws)")
      ->group(transport);
  command.add_option("--unix", flags.unix_path, "Connect to this Unix-domain socket instead of host:port")
      ->group(transport);
}

void add_connection_flags(CLI::App& command, ConnectionFlags& flags) {
  const char* group = "Connection";
  command.add_option("--profile", flags.profile, "Connection profile to start from (see `mqfleet profile`)")
      ->group(group);
  command.add_option("-L,--url", flags.url, "Broker URL: mqtt[s]://user:pass@host:port/?client_id=ID, or ws[s]://host:port/path")
      ->group(group);
  command.add_option("-h,--host", flags.host, "Broker host (default localhost; also accepts the URL form)")
      ->group(group);
  command.add_option("-p,--port", flags.port, "Broker port (default 1883, or 8883 with TLS)")
      ->check(CLI::Range(1, 65535))
      ->group(group);
  command.add_option("-u,--username", flags.username, "User name (the account)")->group(group);
  command.add_option("-P,--pw", flags.password,
                     "Password, literally (visible in ps: prefer --password-env or --password-file)")
      ->group(group);
  command.add_option("--password-env", flags.password_env, "Read the password from this environment variable")
      ->group(group);
  command.add_option("--password-file", flags.password_file, "Read the password from the first line of this file")
      ->group(group);
  command.add_option("-i,--id", flags.client_id, "Client id (the device id)")->group(group);
  command.add_option("-I,--id-prefix", flags.id_prefix, "Prefix for a generated client id")->group(group);
  command.add_option("-V,--protocol-version", flags.version, "MQTT version: 31, 311 or 5 (also mqttv311...)")
      ->group(group);
  command.add_option("-k,--keepalive", flags.keepalive, "Keepalive interval in seconds")
      ->check(CLI::Range(0, 65535))
      ->group(group);
  command.add_flag("-c,--disable-clean-session", flags.no_clean_session,
                   "Persistent session: no clean session (3.1.1) / clean start (5)")
      ->group(group);
  command.add_option("-x,--session-expiry-interval", flags.session_expiry, "Session expiry in seconds (MQTT 5)")
      ->group(group);
  command.add_option("--connect-timeout", flags.connect_timeout, "Seconds to wait for CONNACK (default 10)")
      ->check(CLI::PositiveNumber)
      ->group(group);
  command.add_option("--will-topic", flags.will_topic, "Topic of the last-will message")->group(group);
  command.add_option("--will-payload", flags.will_payload, "Payload of the last-will message")->group(group);
  command.add_option("--will-qos", flags.will_qos, "QoS of the last-will message")
      ->check(CLI::Range(0, 2))
      ->group(group);
  command.add_flag("--will-retain", flags.will_retain, "Retain the last-will message")->group(group);

  add_tls_and_transport_flags(command, flags);
}

} // namespace mqfleet::cli
