// Unit tests of lib/store's pure parts: time parsing, payload rules, flattening, the
// export writers, the CSV reader and importer, and chart rendering.

#include <mqfleet/error.hpp>
#include <mqfleet/store/chart.hpp>
#include <mqfleet/store/csv_reader.hpp>
#include <mqfleet/store/export_writer.hpp>
#include <mqfleet/store/point.hpp>
#include <mqfleet/store/time_format.hpp>

#include <gtest/gtest.h>

#include <sstream>

namespace mqfleet::store {
namespace {

constexpr EpochMs k_now = 1'764'000'000'000; // 2025-11-24T16:00:00Z

TEST(TimeFormat, RelativeTimes) {
  EXPECT_EQ(parse_time("now", k_now), k_now);
  EXPECT_EQ(parse_time("-1h", k_now), k_now - 3'600'000);
  EXPECT_EQ(parse_time("-30m", k_now), k_now - 1'800'000);
  EXPECT_EQ(parse_time("-90s", k_now), k_now - 90'000);
  EXPECT_EQ(parse_time("-2d", k_now), k_now - 2 * 86'400'000LL);
  EXPECT_EQ(parse_time("-1w", k_now), k_now - 7 * 86'400'000LL);
  EXPECT_EQ(parse_time("+1h", k_now), k_now + 3'600'000);
  EXPECT_FALSE(parse_time("-1y", k_now));
  EXPECT_FALSE(parse_time("-h", k_now));
  EXPECT_FALSE(parse_time("yesterday", k_now));
  EXPECT_FALSE(parse_time("", k_now));
}

TEST(TimeFormat, Iso8601AndEpoch) {
  EXPECT_EQ(parse_time("1764000000123", k_now), 1'764'000'000'123);
  EXPECT_EQ(parse_time("2025-11-24T16:00:00Z", k_now), k_now);
  EXPECT_EQ(parse_time("2025-11-24T16:00:00.5Z", k_now), k_now + 500);
  EXPECT_EQ(parse_time("2025-11-24T17:00:00+01:00", k_now), k_now);
  EXPECT_EQ(parse_time("2025-11-24 16:00", k_now), k_now);
  EXPECT_EQ(parse_time("2025-11-24", k_now), k_now - 16 * 3'600'000LL);
  EXPECT_EQ(parse_time("1970-01-01T00:00:00Z", k_now), 0);
  EXPECT_FALSE(parse_iso8601("2025-13-01"));
  EXPECT_FALSE(parse_iso8601("2025-11-24T25:00"));
  EXPECT_FALSE(parse_iso8601("2025-11-24Tjunk"));
  EXPECT_EQ(format_iso8601(k_now + 7), "2025-11-24T16:00:00.007Z");
  EXPECT_EQ(parse_iso8601(format_iso8601(k_now + 123)), k_now + 123);
}

TEST(PointRules, TimestampFromPayloadOrReceiveTime) {
  EXPECT_EQ(payload_timestamp(R"({"ts": 1700000000000, "t": 1})", k_now), 1'700'000'000'000);
  EXPECT_EQ(payload_timestamp(R"({"t": 1})", k_now), k_now);
  EXPECT_EQ(payload_timestamp(R"({"ts": 1700000000000.9})", k_now), 1'700'000'000'000);
  EXPECT_EQ(payload_timestamp(R"({"ts": "2025-01-01"})", k_now), k_now);
  EXPECT_EQ(payload_timestamp(R"({"ts": -5})", k_now), k_now);
  // Only the top-level ts counts.
  EXPECT_EQ(payload_timestamp(R"({"inner": {"ts": 5}, "list": [{"ts": 6}]})", k_now), k_now);
  EXPECT_EQ(payload_timestamp(R"(  {"ts": 0}  )", k_now), 0);
}

TEST(PointRules, OnlyJsonObjectsAreAccepted) {
  EXPECT_FALSE(payload_timestamp("", k_now));
  EXPECT_FALSE(payload_timestamp("21.5", k_now));
  EXPECT_FALSE(payload_timestamp("[1,2]", k_now));
  EXPECT_FALSE(payload_timestamp("\"text\"", k_now));
  EXPECT_FALSE(payload_timestamp("hello", k_now));
  EXPECT_FALSE(payload_timestamp("{\"a\": 1", k_now));
  EXPECT_FALSE(payload_timestamp("{\"a\": 1} trailing", k_now));
  EXPECT_FALSE(payload_timestamp(std::string("\x00\xff", 2), k_now));
  EXPECT_TRUE(payload_timestamp("{}", k_now));
}

TEST(PointRules, StoredObjectNeverBuildsADeepValue) {
  bool unreadable = false;
  const std::string deep = R"({"a":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(stored_object(deep, &unreadable), Json::object());
  EXPECT_TRUE(unreadable);
  EXPECT_EQ(stored_object("not json", &unreadable), Json::object());
  EXPECT_TRUE(unreadable);
  EXPECT_EQ(stored_object(R"({"v":1})", &unreadable)["v"], 1);
  EXPECT_FALSE(unreadable);
  bool own = true;
  EXPECT_EQ(payload_timestamp(R"({"v":1})", 7, &own), 7);
  EXPECT_FALSE(own);
  EXPECT_EQ(payload_timestamp(R"({"ts":7})", 9, &own), 7);
  EXPECT_TRUE(own);
}

TEST(ExportWriters, InvalidUtf8InADeviceIdDoesNotStopAJsonExport) {
  std::ostringstream out;
  ExportOptions options;
  options.format = ExportFormat::ndjson;
  auto writer = make_export_writer(options, out);
  writer->begin({});
  Point point;
  point.ts = 1;
  point.device = "d\xff";
  point.topic = "t";
  EXPECT_NO_THROW(writer->write(point, Json::object()));
  writer->end();
  EXPECT_NE(out.str().find("\"device\""), std::string::npos);
}

TEST(PointRules, FlattenNestedObjectsWithDots) {
  const auto object = Json::parse(R"({"t": 1, "pos": {"lat": 2, "geo": {"alt": 3}}, "tags": [1, 2], "empty": {}})");
  std::vector<std::pair<std::string, const Json*>> leaves;
  flatten(object, leaves);
  ASSERT_EQ(leaves.size(), 4u);
  EXPECT_EQ(leaves[0].first, "t");
  EXPECT_EQ(leaves[1].first, "pos.lat");
  EXPECT_EQ(leaves[2].first, "pos.geo.alt");
  EXPECT_EQ(leaves[3].first, "tags");
  EXPECT_EQ(*leaves[3].second, Json::parse("[1,2]"));
}

TEST(PointRules, SetDottedRebuildsNesting) {
  Json object = Json::object();
  EXPECT_TRUE(set_dotted(object, "pos.lat", 2));
  EXPECT_TRUE(set_dotted(object, "pos.lon", 3));
  EXPECT_TRUE(set_dotted(object, "t", 1));
  EXPECT_EQ(object.dump(), R"({"pos":{"lat":2,"lon":3},"t":1})");
  EXPECT_FALSE(set_dotted(object, "t.x", 1));
  EXPECT_FALSE(set_dotted(object, "pos", 1));
}

std::string export_text(ExportOptions options, const std::vector<Point>& points) {
  FieldCollector collector;
  for (const auto& p : points) collector.add(Json::parse(p.payload));
  std::ostringstream out;
  auto writer = make_export_writer(options, out);
  writer->begin(collector.fields());
  for (const auto& p : points) writer->write(p, Json::parse(p.payload));
  writer->end();
  return out.str();
}

const std::vector<Point> k_points = {
    {1000, "d1", "t/d1", R"({"ts": 1000, "temp": 21.5, "pos": {"lat": 1}})"},
    {2000, "d2", "t/d2", R"({"temp": 22, "note": "a,b \"q\""})"},
};

TEST(ExportWriters, CsvUnionOfFlattenedFieldsWithQuoting) {
  ExportOptions options;
  EXPECT_EQ(export_text(options, k_points), "ts,device,temp,pos.lat,note\r\n"
                                            "1000,d1,21.5,1,\r\n"
                                            "2000,d2,22,,\"a,b \"\"q\"\"\"\r\n");
  options.separator = ';';
  options.time = TimeStyle::iso;
  EXPECT_EQ(export_text(options, k_points), "ts;device;temp;pos.lat;note\r\n"
                                            "1970-01-01T00:00:01.000Z;d1;21.5;1;\r\n"
                                            "1970-01-01T00:00:02.000Z;d2;22;;\"a,b \"\"q\"\"\"\r\n");
}

TEST(ExportWriters, NdjsonAndJson) {
  ExportOptions options;
  options.format = ExportFormat::ndjson;
  const auto lines = export_text(options, k_points);
  EXPECT_EQ(lines.substr(0, lines.find('\n')),
            R"({"ts":1000,"device":"d1","topic":"t/d1","data":{"ts":1000,"temp":21.5,"pos":{"lat":1}}})");
  options.format = ExportFormat::json;
  const auto array = Json::parse(export_text(options, k_points));
  ASSERT_EQ(array.size(), 2u);
  EXPECT_EQ(array[1]["data"]["note"], "a,b \"q\"");
  options.selected = {"pos.lat"};
  const auto selected = Json::parse(export_text(options, k_points));
  EXPECT_EQ(selected[0]["data"].dump(), R"({"pos.lat":1})");
  EXPECT_EQ(selected[1]["data"].dump(), "{}");
  options.selected.clear();
  EXPECT_EQ(export_text(options, {}), "[]\n");
}

TEST(ExportWriters, ArffTypesAndMissingValues) {
  ExportOptions options;
  options.format = ExportFormat::arff;
  options.relation = "temps";
  EXPECT_EQ(export_text(options, k_points), "@relation 'temps'\n\n"
                                            "@attribute ts numeric\n"
                                            "@attribute device string\n"
                                            "@attribute 'temp' numeric\n"
                                            "@attribute 'pos.lat' numeric\n"
                                            "@attribute 'note' string\n\n"
                                            "@data\n"
                                            "1000,'d1',21.5,1,?\n"
                                            "2000,'d2',22,?,'a,b \"q\"'\n");
}

TEST(CsvReader, QuotingSeparatorsAndLineNumbers) {
  std::istringstream in("ts;device;note\r\n1;d1;\"a;b\"\n\n2;d2;\"two\nlines \"\"q\"\"\"\n3;d3;x\n");
  CsvReader reader(in);
  CsvRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(reader.separator(), ';');
  EXPECT_EQ(record.cells, (std::vector<std::string>{"ts", "device", "note"}));
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.line, 2u);
  EXPECT_EQ(record.cells[2], "a;b");
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.line, 4u);
  EXPECT_EQ(record.cells[2], "two\nlines \"q\"");
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.line, 6u);
  EXPECT_EQ(record.cells[0], "3");
  EXPECT_FALSE(reader.next(record));
}

TEST(CsvReader, CommaDetectedAndMalformedQuotes) {
  std::istringstream in("ts,temp\n1,\"x\"y\n2,\"open\n");
  CsvReader reader(in);
  CsvRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(reader.separator(), ',');
  ASSERT_TRUE(reader.next(record));
  EXPECT_FALSE(record.error.empty());
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.line, 3u);
  EXPECT_EQ(record.error, "unterminated quoted field");
}

TEST(CsvImporter, RowsBecomePointsAndBadRowsAreExplained) {
  CsvRecord header{1, {"ts", "device", "temp", "pos.lat", "ok", "label"}, {}};
  const CsvImporter importer(header, "fallback", "in.csv");
  std::string error;
  auto row = importer.convert({2, {"1000", "d1", "21.5", "3", "true", "x"}, {}}, error);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->ts, 1000);
  EXPECT_EQ(row->device, "d1");
  EXPECT_EQ(row->payload, R"({"temp":21.5,"pos":{"lat":3},"ok":true,"label":"x"})");
  row = importer.convert({3, {"2025-11-24T16:00:00Z", "", "", "", "", ""}, {}}, error);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->ts, k_now);
  EXPECT_EQ(row->device, "fallback");
  EXPECT_EQ(row->payload, "{}");
  EXPECT_FALSE(importer.convert({4, {"soon", "d1", "1", "2", "3", "4"}, {}}, error));
  EXPECT_NE(error.find("soon"), std::string::npos);
  EXPECT_FALSE(importer.convert({5, {"1", "d1"}, {}}, error));
  EXPECT_EQ(error, "expected 6 fields, found 2");
}

TEST(CsvImporter, HeaderNeedsTs) {
  EXPECT_THROW(CsvImporter(CsvRecord{1, {"time", "temp"}, {}}, "d", "in.csv"), ConfigError);
  EXPECT_THROW(CsvImporter(CsvRecord{1, {"ts", "a", "a"}, {}}, "d", "in.csv"), ConfigError);
}

TEST(Chart, BrailleOfAKnownSeries) {
  // Four bins on 2 x 1 cells (4 x 4 dots): values 0, 1, 2, 3 rise from the bottom dot
  // row to the top one; each stroke joins the previous bin's value.
  ChartSeries series(0, 3, 4);
  for (int i = 0; i < 4; ++i) series.add(i, i);
  const auto rows = render_braille(series, 2, 1);
  ASSERT_EQ(rows.size(), 1u);
  // Cell 1: x0 at y3 (0x40), x1 at y2..y3 (0x20|0x80) = U+28E0; cell 2: x0 at y1..y2
  // (0x02|0x04), x1 at y0..y1 (0x08|0x10) = U+281E.
  EXPECT_EQ(rows[0], "\u28E0\u281E");
  const auto chart = render_terminal_chart(series, "temp", 30, 6);
  EXPECT_NE(chart.find("temp  (4 points, min 0, max 3)"), std::string::npos);
  EXPECT_NE(chart.find("1970-01-01 00:00:00"), std::string::npos);
  const auto svg = render_svg_chart(series, "a<b", 400, 200);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find("a&lt;b"), std::string::npos);
}

TEST(Chart, EmptyAndFlatSeries) {
  ChartSeries empty(0, 10, 8);
  EXPECT_EQ(render_braille(empty, 4, 2), (std::vector<std::string>{"    ", "    "}));
  ChartSeries flat(0, 10, 4);
  flat.add(0, 5);
  flat.add(10, 5);
  const auto rows = render_braille(flat, 2, 1);
  EXPECT_NE(rows[0], "  ");
}

} // namespace
} // namespace mqfleet::store
