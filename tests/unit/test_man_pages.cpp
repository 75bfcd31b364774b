// The man pages (mqfleet(1), mqfleet-<command>(1)) are generated from the command tree at
// build time (cmake/Install.cmake runs `mqfleet completion man`). These tests keep them
// from drifting: one page per subcommand that exists and no other, every long option in
// its command's page, the pages the build wrote (the ones installed) identical to what
// the tree generates now, and each page valid roff that man renders without warnings.
#include "cli.hpp"
#include "completion/completion_model.hpp"
#include "completion/man_pages.hpp"

#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <set>

namespace mqfleet::cli {
namespace {

const CommandSpec& current_tree() {
  static const CommandSpec tree = [] {
    static CLI::App app;
    setup_app(app);
    return describe_command(app);
  }();
  return tree;
}

const std::vector<ManPage>& current_pages() {
  static const std::vector<ManPage> pages = man_pages(current_tree(), MQFLEET_VERSION);
  return pages;
}

const ManPage* find_page(const std::string& file_name) {
  for (const auto& page : current_pages())
    if (page.file_name == file_name) return &page;
  return nullptr;
}

// The page rendered by groff as man would (-ww: every warning but -Wbreak, a line it
// could not justify, which is typography, not an error), stderr separately.
test::ProcessResult render(const std::string& path) {
  return test::run_process({"groff", "-man", "-Tutf8", "-ww", "-Wbreak", "-P", "-cbou", path}, {}, std::chrono::seconds(30));
}

TEST(ManPages, OnePagePerSubcommandAndTheRoot) {
  std::set<std::string> expected{"mqfleet.1"};
  for (const auto& command : current_tree().subcommands) expected.insert("mqfleet-" + command.name + ".1");
  std::set<std::string> generated;
  for (const auto& page : current_pages()) generated.insert(page.file_name);
  EXPECT_EQ(generated, expected);
  EXPECT_TRUE(expected.count("mqfleet-pub.1") && expected.count("mqfleet-broker.1"));
}

TEST(ManPages, EveryLongOptionIsInItsCommandsPage) {
  for (const auto& command : current_tree().subcommands) {
    const ManPage* page = find_page("mqfleet-" + command.name + ".1");
    ASSERT_NE(page, nullptr) << command.name;
    std::function<void(const CommandSpec&)> check = [&](const CommandSpec& c) {
      for (const auto& option : c.options)
        for (const auto& name : option.long_names) {
          std::string escaped;
          for (char ch : name) escaped += ch == '-' ? std::string("\\-") : std::string(1, ch);
          EXPECT_NE(page->text.find("\\fB\\-\\-" + escaped + "\\fR"), std::string::npos)
              << page->file_name << " lacks --" << name << " (of " << c.name << ")";
        }
      for (const auto& sub : c.subcommands) {
        EXPECT_NE(page->text.find(".SS \"mqfleet " + command.name), std::string::npos) << sub.name;
        check(sub);
      }
    };
    check(command);
  }
  // The root page lists every command's page.
  const ManPage* root = find_page("mqfleet.1");
  ASSERT_NE(root, nullptr);
  for (const auto& command : current_tree().subcommands)
    EXPECT_NE(root->text.find(".BR mqfleet\\-" + command.name + " (1)"), std::string::npos) << command.name;
}

TEST(ManPages, TheBuildWroteExactlyTheCurrentPages) {
  // MQFLEET_MAN_DIR is where the build's `mqfleet completion man` wrote the pages that
  // `cmake --install` and the .deb ship.
  const std::filesystem::path dir = MQFLEET_MAN_DIR;
  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) on_disk.insert(entry.path().filename().string());
  std::set<std::string> expected;
  for (const auto& page : current_pages()) {
    expected.insert(page.file_name);
    EXPECT_EQ(test::read_file(dir / page.file_name), page.text)
        << (dir / page.file_name) << " is not what the command tree generates: rebuild";
  }
  EXPECT_EQ(on_disk, expected);
}

TEST(ManPages, RenderWithoutWarningsAndDocumentTheFlags) {
  ASSERT_FALSE(test::find_program("groff").empty()) << "groff is needed to check the man pages";
  test::TempDir dir;
  for (const auto& page : current_pages()) {
    const auto result = render(dir.write(page.file_name, page.text));
    EXPECT_EQ(result.exit_code, 0) << page.file_name;
    EXPECT_EQ(result.err, "") << page.file_name;
    if (page.file_name == "mqfleet-pub.1") {
      EXPECT_NE(result.out.find("--qos"), std::string::npos);
      EXPECT_NE(result.out.find("mqfleet-pub - Publish"), std::string::npos);
    }
    if (page.file_name == "mqfleet-profile.1") {
      EXPECT_NE(result.out.find("mqfleet profile add"), std::string::npos);
    }
  }
}

TEST(ManPages, EscapeWhatRoffWouldInterpret) {
  CLI::App app{"root.\n.SH not a section\nback\\slash", "tool"};
  auto* sub = app.add_subcommand("run", "Run 'it'.");
  std::string value;
  sub->add_option("-x,--extra-value", value, ".starts with a dot");
  const auto pages = man_pages(describe_command(app), "9.9");
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(pages[1].file_name, "tool-run.1");
  test::TempDir dir;
  const auto root = render(dir.write(pages[0].file_name, pages[0].text));
  EXPECT_EQ(root.err, "");
  EXPECT_NE(root.out.find(".SH not a section"), std::string::npos) << root.out;
  EXPECT_NE(root.out.find("back\\slash"), std::string::npos) << root.out;
  const auto run = render(dir.write(pages[1].file_name, pages[1].text));
  EXPECT_EQ(run.err, "");
  EXPECT_NE(run.out.find("-x, --extra-value TEXT"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find(".starts with a dot"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("mqfleet 9.9"), std::string::npos) << run.out; // the package and version in the footer
}

} // namespace
} // namespace mqfleet::cli
