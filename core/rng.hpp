#pragma once
// Explicitly seeded random numbers. Everything random in hpsearch takes an Rng derived from
// (seed, stream) so results never depend on a global generator, a thread or a rank.
// The distributions are written here rather than taken from <random> because the standard
// leaves their algorithms to the library; ours give the same numbers with any toolchain whose
// math library rounds log, sin and cos alike (the C library does not promise the last bit).
#include <cmath>
#include <cstdint>

namespace hps {

/// SplitMix64 finalizer: mixes a 64-bit value into a well-distributed one.
inline uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Derives an independent seed for a named purpose (stream) from a parent seed.
inline uint64_t derive_seed(uint64_t seed, uint64_t stream) {
  return mix64(mix64(seed) ^ mix64(stream + 0x632be59bd9b4e019ULL));
}

/// xoshiro256** generator: fast, small state, good statistical quality.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t s = seed;
    for (auto& word : state_) {
      s = mix64(s);
      word = s;
    }
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  uint32_t next_u32() { return static_cast<uint32_t>(next_u64() >> 32); }

  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  /// Uniform integer in [0, n) without modulo bias (Lemire's method), n > 0.
  uint64_t below(uint64_t n) {
    __extension__ using Wide = unsigned __int128;
    Wide m = static_cast<Wide>(next_u64()) * n;
    auto low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = -n % n;
      while (low < threshold) {
        m = static_cast<Wide>(next_u64()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  /// Standard normal by the Box-Muller transform.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    constexpr double kTwoPi = 6.283185307179586476925286766559;
    spare_ = r * std::sin(kTwoPi * u2);
    has_spare_ = true;
    return r * std::cos(kTwoPi * u2);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

/// Streams used to derive the seeds of one trial; fixed numbers, never reordered.
enum class SeedStream : uint64_t {
  kSplit = 1,
  kInit = 2,
  kShuffle = 3,
  kDropout = 4,
  kTrialSeed = 5,         ///< search seed -> each trial's training seed
  kTrialSample = 6,       ///< search seed -> each random-search trial's hyperparameter draws
  kTpeSample = 7,         ///< search seed -> each TPE trial's candidate draws
  kTpeStartupRedraw = 8,  ///< search seed -> a random-start trial's draws that avoid running ones
};

inline uint64_t derive_seed(uint64_t seed, SeedStream stream) {
  return derive_seed(seed, static_cast<uint64_t>(stream));
}

}  // namespace hps
