#include "spot_check.h"

#include "digest.h"

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace relationship_spending {

using nlohmann::json;

json SpotCheck::to_json() const {
  json items_json = json::array();
  for (const SpotCheckItem& i : items) {
    items_json.push_back({{"party_id", i.party_id},
                          {"rank", i.rank},
                          {"key", i.sort_key},
                          {"outcome", i.outcome},
                          {"note", i.note ? json(*i.note) : json(nullptr)},
                          {"decided_by", i.decided_by ? json(*i.decided_by) : json(nullptr)},
                          {"decided_at", i.decided_at ? json(*i.decided_at) : json(nullptr)}});
  }
  return {{"statement_id", statement_id}, {"rep_id", rep_id},   {"sector_id", sector_id}, {"period", period},
          {"algorithm", algorithm},       {"seed", seed},       {"content_hash", content_hash},
          {"sample_size", sample_size},   {"drawn_by", drawn_by}, {"drawn_at", drawn_at}, {"items", items_json}};
}

std::vector<SpotCheckItem> draw_sample(const std::string& seed, const std::string& content_hash, std::vector<std::string> parties,
                                       size_t sample_size) {
  std::sort(parties.begin(), parties.end());
  parties.erase(std::unique(parties.begin(), parties.end()), parties.end());
  std::vector<SpotCheckItem> keyed;
  for (const std::string& party : parties) {
    SpotCheckItem item;
    item.party_id = party;
    item.sort_key = sha256_hex(seed + ":" + content_hash + ":" + party);
    keyed.push_back(std::move(item));
  }
  std::sort(keyed.begin(), keyed.end(), [](const SpotCheckItem& a, const SpotCheckItem& b) { return a.sort_key < b.sort_key; });
  if (keyed.size() > sample_size) keyed.resize(sample_size);
  for (size_t i = 0; i < keyed.size(); ++i) keyed[i].rank = static_cast<int64_t>(i + 1);
  return keyed;
}

std::string random_seed() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("the random generator failed");
  return hex(bytes, sizeof bytes);
}

}  // namespace relationship_spending
