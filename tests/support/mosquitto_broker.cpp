#include "support/mosquitto_broker.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace mqfleet::test {
namespace {

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto result = run_process(argv, {}, 30s);
  if (result.exit_code != 0) throw std::runtime_error("openssl failed: " + result.err);
}

void make_ca(const TempDir& dir, const std::string& name) {
  openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name,
           "-keyout", dir.file(name + ".key"), "-out", dir.file(name + ".crt")});
}

void make_signed(const TempDir& dir, const std::string& name, const std::string& cn, const std::string& san) {
  openssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn, "-keyout", dir.file(name + ".key"),
           "-out", dir.file(name + ".csr")});
  std::string ext = dir.write(name + ".ext", san.empty() ? "basicConstraints=CA:FALSE\n"
                                                         : "basicConstraints=CA:FALSE\nsubjectAltName=" + san + "\n");
  openssl({"x509", "-req", "-in", dir.file(name + ".csr"), "-CA", dir.file("ca.crt"), "-CAkey", dir.file("ca.key"),
           "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", dir.file(name + ".crt")});
}

} // namespace

TestCertificates make_test_certificates(const TempDir& dir) {
  make_ca(dir, "ca");
  make_ca(dir, "other-ca");
  make_signed(dir, "server", "localhost", "DNS:localhost,IP:127.0.0.1");
  make_signed(dir, "client", "test-client", "");
  return TestCertificates{dir.file("ca.crt"),     dir.file("server.crt"), dir.file("server.key"),
                          dir.file("client.crt"), dir.file("client.key"), dir.file("other-ca.crt")};
}

bool wait_for_tcp_port(int port, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

MosquittoBroker::MosquittoBroker(MosquittoOptions options) {
  if (find_program("mosquitto").empty()) throw std::runtime_error("mosquitto is not installed");
  if (options.tls) m_certs = make_test_certificates(m_dir);
  for (int attempt = 0; attempt < 5; ++attempt)
    if (try_start(options)) return;
  throw std::runtime_error("mosquitto did not start: " + log());
}

bool MosquittoBroker::try_start(const MosquittoOptions& options) {
  m_port = free_tcp_port();
  m_tls_port = options.tls ? free_tcp_port() : 0;
  // Started as root, mosquitto drops to the "mosquitto" user, which cannot read the
  // certificates and password file in our 0700 temporary directory: stay as ourselves.
  const passwd* me = getpwuid(geteuid());
  std::string conf = fmt::format("per_listener_settings false\nlog_dest stderr\nlog_type all\nuser {}\n"
                                 "max_queued_messages 0\nlistener {} 127.0.0.1\n",
                                 me != nullptr ? me->pw_name : "mosquitto", m_port);
  if (options.tls) {
    conf += fmt::format("listener {} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n", m_tls_port,
                        m_certs.ca_file, m_certs.server_cert, m_certs.server_key);
    if (options.require_client_certificate) conf += "require_certificate true\n";
  }
  if (options.users.empty()) {
    conf += "allow_anonymous true\n";
  } else {
    const std::string passwd = m_dir.file("passwd");
    bool first = true;
    for (const auto& [user, password] : options.users) {
      std::vector<std::string> argv{find_program("mosquitto_passwd"), "-b"};
      if (first) argv.insert(argv.begin() + 1, "-c");
      argv.insert(argv.end(), {passwd, user, password});
      auto result = run_process(argv, {}, 30s);
      if (result.exit_code != 0) throw std::runtime_error("mosquitto_passwd failed: " + result.err);
      first = false;
    }
    conf += fmt::format("allow_anonymous false\npassword_file {}\n", passwd);
  }
  conf += options.extra_config + "\n";
  const std::string conf_path = m_dir.write("mosquitto.conf", conf);
  m_process = std::make_unique<Process>(std::vector<std::string>{find_program("mosquitto"), "-c", conf_path});
  if (!wait_for_tcp_port(m_port, 5s) || (m_tls_port != 0 && !wait_for_tcp_port(m_tls_port, 5s)) ||
      !m_process->running()) {
    m_process.reset();
    return false;
  }
  return true;
}

MosquittoBroker::~MosquittoBroker() = default;

std::string MosquittoBroker::log() { return m_process ? m_process->stderr_so_far() : std::string{}; }

} // namespace mqfleet::test
