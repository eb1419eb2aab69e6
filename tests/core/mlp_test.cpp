#include "core/mlp.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace hps {
namespace {

TEST(LayoutText, NamesEveryLayerOfASmallNetwork) {
  EXPECT_EQ(layout_text(MlpShape{784, {512, 256}, 10}), "784-512-256-10");
  EXPECT_EQ(layout_text(MlpShape{4, {}, 3}), "4-3");
  EXPECT_EQ(layout_text(MlpShape{4, {1, 2, 3, 4, 5, 6, 7, 8}, 3}), "4-1-2-3-4-5-6-7-8-3");
}

// A config may ask for 100,000 layers; a message that names the network stays one line.
TEST(LayoutText, CutsADeepNetworkToItsFirstAndLastLayers) {
  MlpShape deep{784, std::vector<Index>(100000, 64), 10};
  deep.hidden.front() = 1;
  deep.hidden.back() = 2;
  EXPECT_EQ(layout_text(deep), "784-1-64-64-64-...(99992 more)...-64-64-64-2-10");
  EXPECT_EQ(layout_text(MlpShape{4, {1, 2, 3, 4, 5, 6, 7, 8, 9}, 3}),
            "4-1-2-3-4-...(1 more)...-6-7-8-9-3");
}

// Widths are bounded only below in configs: a parameter count that wrapped used to allocate a
// small vector and crash in initialize().
TEST(Mlp, RefusesANetworkWhoseParameterCountOverflows) {
  try {
    Mlp model(MlpShape{3, {3037000500, 3037000500}, 2});
    FAIL() << "built a network of more than 2^63 parameters";
  } catch (const std::length_error& e) {
    EXPECT_STREQ(e.what(),
                 "network 3-3037000500-3037000500-2 has more parameters than can be counted "
                 "(over 2^63)");
  }
  EXPECT_THROW(Mlp(MlpShape{Index{1} << 62, {4}, 2}), std::length_error);
}

}  // namespace
}  // namespace hps
