// libFuzzer entry for the CSV importer of `mqfleet bucket import` (lib/store): records are
// read to the end of any input, a header either passes or is a ConfigError, and every
// record converts to a row with a JSON object payload and a device and topic that JSON
// (exports, the REST API) can hold, or to an error message.
#include "fuzz_common.hpp"

#include <mqfleet/store/csv_reader.hpp>

#include <nlohmann/json.hpp>

#include <sstream>
#include <string>

using namespace mqfleet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const char separators[] = {0, ',', ';'};
  std::istringstream in(std::string(fuzz::as_text(data + 1, size - 1)));
  store::CsvReader reader(in, separators[data[0] % 3]);
  store::CsvRecord header;
  if (!reader.next(header)) return 0;
  fuzz::parse_or_clean_error([&] {
    const store::CsvImporter importer(header, "device-1", "fuzz.csv");
    store::CsvRecord record;
    std::size_t last_line = header.line;
    while (reader.next(record)) {
      fuzz::check(record.line > last_line);
      last_line = record.line;
      if (!record.error.empty()) continue;
      std::string error;
      const auto row = importer.convert(record, error);
      fuzz::check(row.has_value() != !error.empty());
      if (!row) continue;
      fuzz::check(nlohmann::json::parse(row->payload).is_object());
      // dump() throws on text that is not UTF-8: the escape would be a crash.
      (void)nlohmann::json(row->device).dump();
      (void)nlohmann::json(row->topic).dump();
    }
  });
  return 0;
}
