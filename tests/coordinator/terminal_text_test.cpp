#include "coordinator/terminal_text.hpp"

#include <gtest/gtest.h>

namespace hps {
namespace {

TEST(Printable, EscapesControlCharactersButKeepsLinesTabsAndUtf8) {
  EXPECT_EQ(printable("column '\x1b[31mRED\x1b[0m\a'"), "column '\\x1b[31mRED\\x1b[0m\\x07'");
  EXPECT_EQ(printable(std::string("a\0b\x7f", 4)), "a\\x00b\\x7f");
  EXPECT_EQ(printable("two\nlines\tand caf\xc3\xa9"), "two\nlines\tand caf\xc3\xa9");
  EXPECT_EQ(printable("a\r\n"), "a\\x0d\n");
}

}  // namespace
}  // namespace hps
