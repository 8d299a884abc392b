// A spot check (R9): after payout, a sample of a statement's customers for the sector's sales manager to confirm
// or dispute. The sample is drawn so that anyone can re-derive it from two recorded values — the seed (random,
// audited when drawn) and the signed statement's content hash:
//
//   key(party) = hex SHA-256(seed ":" content_hash ":" party_id)     (the ASCII text, no spaces)
//   sample     = the `sample_size` customers of the statement with the smallest keys, ranked 1.. in key order
//                (every customer when it has fewer)
//
// The statement's hash fixes which customers there were; the seed, drawn after the statement was frozen, makes
// the choice unforeseeable to the rep.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace relationship_spending {

inline constexpr const char* kSpotCheckAlgorithm = "sha256-rank-v1";

struct SpotCheckItem {
  std::string party_id;
  int64_t rank = 0;
  std::string sort_key;
  std::string outcome = "pending";  // pending | confirmed | disputed
  std::optional<std::string> note, decided_by, decided_at;
};

struct SpotCheck {
  std::string statement_id, rep_id, sector_id, period;
  std::string algorithm = kSpotCheckAlgorithm;
  std::string seed, content_hash;
  int64_t sample_size = 3;
  std::string drawn_by, drawn_at;
  std::vector<SpotCheckItem> items;

  nlohmann::json to_json() const;
};

// The sample of `parties` for `seed` and `content_hash`, by the algorithm above.
std::vector<SpotCheckItem> draw_sample(const std::string& seed, const std::string& content_hash, std::vector<std::string> parties,
                                       size_t sample_size);

// 32 random bytes as 64 hex digits (OpenSSL's generator).
std::string random_seed();

}  // namespace relationship_spending
