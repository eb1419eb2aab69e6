#include "core/output_path.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <optional>

#include "test_util.hpp"

namespace hps {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
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

TEST(OutputLock, SecondHolderIsRefusedUntilTheFirstLetsGo) {
  testing::TempDir dir;
  const std::string out = dir.file("search.h5");
  std::optional<OutputLock> first(std::in_place, out);
  // flock locks belong to open files: a second open in this process conflicts like another
  // process would.
  const std::string message = error_of([&] { OutputLock second(out); });
  EXPECT_THAT(message, HasSubstr("output '" + out + "' is being written by another search"));
  EXPECT_THAT(message, HasSubstr("(pid " + std::to_string(getpid()) + ")"));
  first.reset();
  EXPECT_EQ(error_of([&] { OutputLock again(out); }), "");
}

}  // namespace
}  // namespace hps
