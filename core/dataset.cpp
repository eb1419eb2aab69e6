#include "core/dataset.hpp"

#include <stdexcept>
#include <string>

namespace hps {

Dataset Dataset::subset(const std::vector<Index>& indices) const {
  const Index n = size();
  // Members that disagree on the sample count would make the copy below read out of bounds.
  if (!labels.empty() && static_cast<Index>(labels.size()) != n)
    throw std::logic_error("Dataset::subset(): " + source + " has " + std::to_string(n) +
                           " samples of features but " + std::to_string(labels.size()) + " labels");
  if (y.rows() > 0 && y.cols() != n)
    throw std::logic_error("Dataset::subset(): " + source + " has " + std::to_string(n) +
                           " samples of features but " + std::to_string(y.cols()) +
                           " samples of targets");

  const auto count = static_cast<Index>(indices.size());
  Dataset out;
  out.task = task;
  out.num_classes = num_classes;
  out.source = source;
  out.feature_names = feature_names;
  out.x.resize(x.rows(), count);
  if (!labels.empty()) out.labels.resize(indices.size());
  if (y.rows() > 0) out.y.resize(y.rows(), count);

  for (Index i = 0; i < count; ++i) {
    const Index from = indices[static_cast<size_t>(i)];
    if (from < 0 || from >= n)
      throw std::out_of_range("Dataset::subset(): index " + std::to_string(from) +
                              " is outside [0, " + std::to_string(n) + ") of " + source);
    out.x.col(i) = x.col(from);
    if (!labels.empty()) out.labels[static_cast<size_t>(i)] = labels[static_cast<size_t>(from)];
    if (y.rows() > 0) out.y.col(i) = y.col(from);
  }
  return out;
}

}  // namespace hps
