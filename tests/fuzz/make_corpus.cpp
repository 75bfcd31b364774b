// Writes the decoder seed corpus: one file per sample packet and version (selector byte +
// encoded packet), plus a few multi-packet streams fed in small chunks. Run once and
// commit the output: make_corpus <directory>.
#include "../unit/codec_samples.hpp"

#include <mqfleet/mqtt/codec.hpp>

#include <cstdio>
#include <fstream>
#include <string>

using namespace mqfleet::mqtt;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  int count = 0;
  const auto write = [&](const std::string& name, char selector, const std::string& bytes) {
    std::ofstream out(dir + "/" + name, std::ios::binary);
    out.put(selector);
    out << bytes;
    ++count;
  };
  const ProtocolVersion versions[] = {ProtocolVersion::v3_1, ProtocolVersion::v3_1_1, ProtocolVersion::v5};
  for (int vi = 0; vi < 3; ++vi) {
    const ProtocolVersion v = versions[vi];
    const char whole = static_cast<char>(vi + 3 * 7); // whole input in one chunk
    const char bytewise = static_cast<char>(vi);       // one byte at a time
    std::string stream;
    int index = 0;
    for (const Packet& packet : mqfleet::test::sample_packets(v)) {
      std::string bytes;
      encode(packet, v, bytes);
      if (bytes.size() > 4096) continue;
      std::string type(packet_type_name(packet_type(packet)));
      for (char& c : type) c = static_cast<char>(c - 'A' + 'a');
      write("v" + std::to_string(static_cast<int>(v)) + "-" + std::to_string(index++) + "-" + type, whole, bytes);
      stream += bytes;
    }
    write("v" + std::to_string(static_cast<int>(v)) + "-stream", bytewise, stream.substr(0, 4096));
  }
  std::printf("wrote %d files to %s\n", count, dir.c_str());
  return 0;
}
