#include "coordinator/terminal_text.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/config.hpp"
#include "core/data_loader.hpp"
#include "core/hdf5_file.hpp"
#include "core/output_path.hpp"
#include "core/results_file.hpp"

namespace hps {
namespace {

TEST(Printable, EscapesControlCharactersButKeepsLinesTabsAndUtf8) {
  EXPECT_EQ(printable("column '\x1b[31mRED\x1b[0m\a'"), "column '\\x1b[31mRED\\x1b[0m\\x07'");
  EXPECT_EQ(printable(std::string("a\0b\x7f", 4)), "a\\x00b\\x7f");
  EXPECT_EQ(printable("two\nlines\tand caf\xc3\xa9"), "two\nlines\tand caf\xc3\xa9");
  EXPECT_EQ(printable("a\r\n"), "a\\x0d\n");
}

TEST(Decimal4, FourDecimalsAndScientificForHugeValues) {
  EXPECT_EQ(decimal4(0.31249), "0.3125");
  EXPECT_EQ(decimal4(-2.5), "-2.5000");
  EXPECT_EQ(decimal4(123456789.0), "123456789.0000");
  // A diverging loss: 3.4e38 printed with %.4f took 44 characters.
  EXPECT_EQ(decimal4(3.4028234663852886e38), "3.4028e+38");
  EXPECT_EQ(decimal4(-1e12), "-1.0000e+12");
  EXPECT_EQ(decimal4(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(decimal4(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(decimal4(-std::numeric_limits<double>::quiet_NaN()), "nan");
}

// What report_error printed for `e`, and the exit code it gave.
std::pair<std::string, int> reported(const std::exception& e) {
  std::FILE* stream = std::tmpfile();
  const int code = report_error(e, stream);
  std::rewind(stream);
  std::string text(256, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), stream));
  std::fclose(stream);
  return {text, code};
}

TEST(ReportError, NamesTheKindAndGivesTheExitCode) {
  EXPECT_EQ(reported(ConfigError("config.yaml:3: bad")),
            std::make_pair(std::string("hpsearch: config error: config.yaml:3: bad\n"), 2));
  EXPECT_EQ(reported(DataError("x.csv: line 2")),
            std::make_pair(std::string("hpsearch: data error: x.csv: line 2\n"), 2));
  EXPECT_EQ(reported(OutputError("r.h5 is a link")),
            std::make_pair(std::string("hpsearch: output error: r.h5 is a link\n"), 2));
  EXPECT_EQ(reported(NotAResultFile("r.h5: no such file")),
            std::make_pair(std::string("hpsearch: input error: r.h5: no such file\n"), 2));
  EXPECT_EQ(reported(h5::Error("r.h5: truncated")),
            std::make_pair(std::string("hpsearch: HDF5 error: r.h5: truncated\n"), 1));
  EXPECT_EQ(reported(std::runtime_error("disk \x1b[2Jfull")),
            std::make_pair(std::string("hpsearch: error: disk \\x1b[2Jfull\n"), 1));
}

}  // namespace
}  // namespace hps
