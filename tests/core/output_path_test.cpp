#include "core/output_path.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>

#include "core/config.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(OutputPath, RefusesMissingOrUnwritableDirectoriesAndExistingFiles) {
  testing::TempDir dir;
  EXPECT_THAT(error_of([&] { check_output_path(dir.file("no/such/out.h5"), false); }),
              HasSubstr("output directory '" + dir.file("no/such") + "' does not exist"));
  testing::write_text(dir.file("out.h5"), "x");
  EXPECT_THAT(error_of([&] { check_output_path(dir.file("out.h5"), false); }),
              HasSubstr("already exists; pass --force"));
  EXPECT_EQ(error_of([&] { check_output_path(dir.file("out.h5"), true); }), "");
  if (geteuid() != 0) {  // root writes anywhere
    ASSERT_EQ(mkdir(dir.file("ro").c_str(), 0555), 0);
    EXPECT_THAT(error_of([&] { check_output_path(dir.file("ro/out.h5"), false); }),
                HasSubstr("is not writable"));
  }
}

// std::filesystem::exists follows links: a dangling one looked like a free name and was
// replaced, and --force replaced a link to anything (a terminal, another file) the same way.
TEST(OutputPath, RefusesSymbolicLinksDanglingOrNotEvenWithForce) {
  testing::TempDir dir;
  testing::write_text(dir.file("target.h5"), "keep me");
  fs::create_symlink("target.h5", dir.file("link.h5"));
  fs::create_symlink("nowhere.h5", dir.file("dangling.h5"));
  for (const bool force : {false, true}) {
    const std::string link = error_of([&] { check_output_path(dir.file("link.h5"), force); });
    EXPECT_THAT(link, HasSubstr("output '" + dir.file("link.h5") +
                                "' is a symbolic link to 'target.h5'; hpsearch replaces neither"));
    const std::string dangling =
        error_of([&] { check_output_path(dir.file("dangling.h5"), force); });
    EXPECT_THAT(dangling, HasSubstr("output '" + dir.file("dangling.h5") +
                                    "' is a symbolic link to 'nowhere.h5' (dangling)"));
  }
  EXPECT_TRUE(fs::is_symlink(dir.file("dangling.h5")));
  EXPECT_EQ(read_all(dir.file("target.h5")), "keep me");
}

// An immutable or append-only file stops root too: --resume once ran until its first publish
// and then failed with "filesystem error: cannot rename", and --force after the training.
TEST(OutputPath, RefusesAFileTheKernelLetsNobodyReplace) {
  testing::TempDir dir;
  const std::string out = dir.file("out.h5");
  testing::write_text(out, "keep me");
  for (const char flag : {'i', 'a'}) {
    const std::string set = std::string("chattr +") + flag + " '" + out + "' 2>/dev/null";
    if (std::system(set.c_str()) != 0)
      GTEST_SKIP() << "chattr +" << flag << " needs root and a file system with such flags";
    struct Clear {  // so that the directory can be removed whatever happens below
      std::string command;
      ~Clear() {
        if (std::system(command.c_str()) != 0) ADD_FAILURE() << command << " failed";
      }
    } clear{std::string("chattr -") + flag + " '" + out + "'"};
    const std::string name = flag == 'i' ? "immutable" : "append-only";
    EXPECT_EQ(error_of([&] { check_output_path(out, true); }),
              "output '" + out + "' is " + name + " (chattr +" + flag +
                  "): nobody may replace it, hpsearch included; clear the flag (chattr -" + flag +
                  " '" + out + "') or choose another --out");
    // Without --force the file is refused for existing, as any other.
    EXPECT_THAT(error_of([&] { check_output_path(out, false); }), HasSubstr("already exists"));
  }
  EXPECT_EQ(error_of([&] { check_output_path(out, true); }), "");
  EXPECT_EQ(read_all(out), "keep me");
}

// --force once turned /dev/null, a device node or a FIFO into a regular HDF5 file.
TEST(OutputPath, RefusesDevicesAndFifosEvenWithForce) {
  testing::TempDir dir;
  ASSERT_EQ(mkfifo(dir.file("pipe").c_str(), 0644), 0);
  for (const bool force : {false, true}) {
    EXPECT_THAT(error_of([&] { check_output_path(dir.file("pipe"), force); }),
                HasSubstr("output '" + dir.file("pipe") +
                          "' is a FIFO (named pipe), not a regular file; hpsearch does not "
                          "replace it, even with --force"));
    // Only checked, never opened: the check writes nothing.
    EXPECT_THAT(error_of([&] { check_output_path("/dev/null", force); }),
                HasSubstr("output '/dev/null' is a character device, not a regular file"));
  }
  EXPECT_TRUE(fs::is_fifo(dir.file("pipe")));
}

// The default output follows the config's name; a piped config (`<(...)`, whose path is
// /dev/fd/63 for every run) has none, and every such run would have written results/63.h5.
TEST(DefaultOutputPath, FollowsTheConfigNameAndAsksForOutWithAPipe) {
  testing::TempDir dir;
  const fs::path before = fs::current_path();
  fs::current_path(dir.path());
  testing::write_text(dir.file("run.yaml"), "seed: 1\n");
  EXPECT_EQ(default_output_path(dir.file("run.yaml"), ".train.h5"), "results/run.train.h5");
  EXPECT_TRUE(fs::is_directory(dir.file("results")));
  ASSERT_EQ(mkfifo(dir.file("pipe").c_str(), 0644), 0);
  const std::string message = error_of([&] { default_output_path(dir.file("pipe"), ".h5"); });
  fs::current_path(before);
  EXPECT_EQ(message, "no --out given, and the config " + dir.file("pipe") +
                         " is a FIFO (named pipe), not a file to name the output after; give "
                         "--out");
}

// --force once replaced the very files a command reads: its config, its data, the result file
// predict reads. Another spelling of the path or a hard link is the same file.
TEST(OutputPath, RefusesAnOutputThatIsAnInputEvenWithForce) {
  testing::TempDir dir;
  testing::write_text(dir.file("data.csv"), "x,y\n1,2\n");
  ASSERT_EQ(link(dir.file("data.csv").c_str(), dir.file("hard.csv").c_str()), 0);
  const std::vector<CommandInput> inputs = {{dir.file("run.yaml"), "the config file"},
                                            {dir.file("data.csv"), "the training data"}};
  for (const std::string& out :
       {dir.file("data.csv"), dir.file("./data.csv"), dir.file("hard.csv")})
    for (const bool force : {false, true})
      EXPECT_THAT(error_of([&] { check_output_path(out, force, inputs); }),
                  HasSubstr("output '" + out +
                            "' is the training data: writing there would destroy an input; "
                            "choose another --out"));
  testing::write_text(dir.file("other.h5"), "x");
  EXPECT_EQ(error_of([&] { check_output_path(dir.file("other.h5"), true, inputs); }), "");
  EXPECT_EQ(read_all(dir.file("data.csv")), "x,y\n1,2\n");
}

// A search's FILE.live or FILE.lock is not guarded by FILE's lock: writing one with --force
// wiped a running search (which then reported success) or let a second search in.
TEST(OutputPath, RefusesTheNamesOfAnotherOutputsWorkingFiles) {
  testing::TempDir dir;
  const std::pair<const char*, const char*> names[] = {{"r.h5.live", ".live"},
                                                       {"r.h5.lock", ".lock"},
                                                       {"r.h5.tmp", ".tmp"},
                                                       {"p.csv.partial", ".partial"},
                                                       {"m.h5.partial-123", ".partial"}};
  for (const auto& [name, suffix] : names) {
    testing::write_text(dir.file(name), "busy");
    EXPECT_THAT(error_of([&] { check_output_path(dir.file(name), true); }),
                HasSubstr(std::string("ends in ") + suffix))
        << name;
    EXPECT_EQ(read_all(dir.file(name)), "busy");
  }
  EXPECT_THAT(error_of([&] { check_output_path(dir.file("x.h5.live"), true); }),
              HasSubstr("ends in .live, the name of a working file hpsearch keeps beside an "
                        "output 'x.h5'; choose another --out"));
  EXPECT_THAT(error_of([&] { check_output_path("", true); }), HasSubstr("output is empty"));
  // Only as an ending: names that merely contain the words are fine.
  for (const std::string name : {"live.h5", "lock.csv", "tmp_results.h5", "a.partial.h5"})
    EXPECT_EQ(error_of([&] { check_output_path(dir.file(name), false); }), "") << name;
}

// A name that leaves train's NAME.partial-<pid> no room is refused before any training, not
// after it.
TEST(OutputPath, RefusesANameTooLongForItsWorkingFiles) {
  testing::TempDir dir;
  const std::string longest = std::string(236, 'r') + ".h5";  // 239 characters
  EXPECT_EQ(error_of([&] { check_output_path(dir.file(longest), false); }), "");
  const std::string over = "r" + longest;
  EXPECT_EQ(error_of([&] { check_output_path(dir.file(over), false); }),
            "output '" + dir.file(over) +
                "': a file name of 240 characters leaves no room for the working files "
                "hpsearch keeps beside it (NAME.partial-<pid>; file names have at most 255 "
                "characters): use at most 239");
}

TEST(OutputPath, ConfigInputsAreTheConfigAndEveryDataFileWithItsKeyAndLine) {
  testing::TempDir dir;
  testing::write_text(dir.file("train.csv"), "x,y\n1,2\n");
  testing::write_text(dir.file("images.idx"), "");
  testing::write_text(dir.file("labels.idx"), "");
  testing::write_text(dir.file("run.yaml"), R"(data:
  task: regression
  train: {format: csv, path: train.csv, label_column: y}
  test:
    format: idx
    images: images.idx
    labels: labels.idx
)");
  const std::string config_path = dir.file("run.yaml");
  const std::vector<CommandInput> inputs =
      config_inputs(config_path, load_train_config(config_path));
  ASSERT_EQ(inputs.size(), 4u);
  EXPECT_EQ(inputs[0].path, config_path);
  EXPECT_EQ(inputs[0].what, "the config file '" + config_path + "'");
  EXPECT_EQ(inputs[1].path, dir.file("train.csv"));
  EXPECT_EQ(inputs[1].what, "the training data '" + dir.file("train.csv") +
                                "' named at data.train.path (line 3 of " + config_path + ")");
  EXPECT_EQ(inputs[2].what, "the test data '" + dir.file("images.idx") +
                                "' named at data.test.images (line 6 of " + config_path + ")");
  EXPECT_EQ(inputs[3].what, "the test data '" + dir.file("labels.idx") +
                                "' named at data.test.labels (line 7 of " + config_path + ")");
}

TEST(OutputLock, SecondHolderIsRefusedUntilTheFirstLetsGo) {
  testing::TempDir dir;
  const std::string out = dir.file("search.h5");
  std::optional<OutputLock> first(std::in_place, out);
  // flock locks belong to open files: a second open in this process conflicts like another
  // process would.
  const std::string message = error_of([&] { OutputLock second(out); });
  EXPECT_THAT(message,
              HasSubstr("output '" + out + "' is being written by another hpsearch command"));
  EXPECT_THAT(message, HasSubstr("(pid " + std::to_string(getpid()) + ")"));
  first.reset();
  EXPECT_EQ(error_of([&] { OutputLock again(out); }), "");
}

// The lock writes its pid into `<out>.lock`: through a planted link that truncated the target.
TEST(OutputLock, RefusesALockFileThatIsALinkOrNotARegularFile) {
  testing::TempDir dir;
  testing::write_text(dir.file("victim"), "keep me");
  fs::create_symlink(dir.file("victim"), dir.file("linked.h5.lock"));
  EXPECT_THAT(error_of([&] { OutputLock lock(dir.file("linked.h5")); }),
              HasSubstr("lock file '" + dir.file("linked.h5.lock") + "' is a symbolic link"));
  EXPECT_EQ(read_all(dir.file("victim")), "keep me");
  ASSERT_EQ(mkfifo(dir.file("piped.h5.lock").c_str(), 0644), 0);
  EXPECT_THAT(error_of([&] { OutputLock lock(dir.file("piped.h5")); }),
              HasSubstr("lock file '" + dir.file("piped.h5.lock") + "' is not a regular file"));
}

// predict writes its CSV to OUT.partial this way: whatever appears there between its removal
// of a leftover and the write (a link, another writer's file) is neither followed nor
// truncated.
TEST(WriteNewFile, WritesAFreshFileAndNeverFollowsOrTruncatesWhatIsThere) {
  testing::TempDir dir;
  write_new_file(dir.file("new.csv"), "row,predicted\n0,3\n");
  EXPECT_EQ(read_all(dir.file("new.csv")), "row,predicted\n0,3\n");

  testing::write_text(dir.file("victim"), "keep me");
  fs::create_symlink(dir.file("victim"), dir.file("planted.csv"));
  EXPECT_THAT(error_of([&] { write_new_file(dir.file("planted.csv"), "x"); }),
              HasSubstr("'" + dir.file("planted.csv") + "' appeared while this command ran"));
  EXPECT_EQ(read_all(dir.file("victim")), "keep me");
  fs::create_symlink(dir.file("missing"), dir.file("dangling.csv"));
  EXPECT_THAT(error_of([&] { write_new_file(dir.file("dangling.csv"), "x"); }),
              HasSubstr("appeared while this command ran"));
  EXPECT_FALSE(fs::exists(dir.file("missing")));
  EXPECT_THAT(error_of([&] { write_new_file(dir.file("new.csv"), "y"); }),
              HasSubstr("appeared while this command ran"));
  EXPECT_EQ(read_all(dir.file("new.csv")), "row,predicted\n0,3\n");
  EXPECT_THAT(error_of([&] { write_new_file(dir.file("no/dir.csv"), "x"); }),
              HasSubstr("cannot create '" + dir.file("no/dir.csv") + "'"));
}

// A working file beside a locked output (<out>.tmp, <out>.live): what a killed run left there,
// or a link planted there, is replaced, and the file it points to is never written.
TEST(CopyToNewFile, ReplacesWhatIsThereAndNeverWritesThroughALink) {
  testing::TempDir dir;
  const std::string source = dir.file("out.h5.live");
  testing::write_text(source, "the search so far");
  fs::permissions(source, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);

  testing::write_text(dir.file("victim"), "keep me");
  fs::create_symlink(dir.file("victim"), dir.file("out.h5.tmp"));
  copy_to_new_file(source, dir.file("out.h5.tmp"));
  EXPECT_EQ(read_all(dir.file("victim")), "keep me");
  EXPECT_FALSE(fs::is_symlink(dir.file("out.h5.tmp")));
  EXPECT_EQ(read_all(dir.file("out.h5.tmp")), "the search so far");
  EXPECT_EQ(fs::status(dir.file("out.h5.tmp")).permissions(), fs::status(source).permissions());

  fs::remove(dir.file("out.h5.tmp"));
  fs::create_hard_link(dir.file("victim"), dir.file("out.h5.tmp"));
  copy_to_new_file(source, dir.file("out.h5.tmp"));
  EXPECT_EQ(read_all(dir.file("victim")), "keep me");
  EXPECT_EQ(read_all(dir.file("out.h5.tmp")), "the search so far");

  fs::remove(dir.file("out.h5.tmp"));
  fs::create_symlink(dir.file("missing"), dir.file("out.h5.tmp"));
  copy_to_new_file(source, dir.file("out.h5.tmp"));
  EXPECT_FALSE(fs::exists(dir.file("missing")));

  // Larger than the copy's buffer, so the loop runs more than once.
  const std::string big(3 * 1024 * 1024 + 17, 'x');
  testing::write_text(source, big);
  copy_to_new_file(source, dir.file("out.h5.tmp"));
  EXPECT_EQ(read_all(dir.file("out.h5.tmp")), big);

  EXPECT_THAT(error_of([&] { copy_to_new_file(dir.file("none"), dir.file("x")); }),
              HasSubstr("cannot read '" + dir.file("none") + "'"));
  EXPECT_THAT(error_of([&] { copy_to_new_file(dir.path(), dir.file("x")); }),
              HasSubstr("not a regular file"));
  EXPECT_FALSE(fs::exists(dir.file("x")));
}

}  // namespace
}  // namespace hps
