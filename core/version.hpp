#pragma once

namespace hps {

/// hpsearch's version, stored in every result file.
inline constexpr const char* kVersion = "0.3.1";

}  // namespace hps
