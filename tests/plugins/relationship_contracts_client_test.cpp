// The relationship-spending plugin's client of the contracts service (org.annex.contracts@1): many contracts' states
// in one call where the service has it (its minor 1), one get() each from an older contracts plugin whose table
// ends before `states`; a contract missing either way is NOT_FOUND naming contract_id, as get() has it.
#include "../../plugins/relationship_spending/partners.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

namespace annex::test {
namespace {

using nlohmann::json;
using relationship_spending::ContractsClient;

struct Calls {
  int get = 0, states = 0;
};
Calls calls;

json state(const std::string& id) { return {{"id", id}, {"number", "K-" + id}, {"total", 100}, {"collected", 40}}; }

annex_status fake_get(void*, annex_str id, annex_str, annex_buffer* out, annex_buffer* err) {
  ++calls.get;
  return annex::detail::guarded(err, [&] {
    std::string wanted(annex::to_view(id));
    if (wanted == "missing") throw annex::Error(ANNEX_ERR_NOT_FOUND, "no contract missing", "contract_id");
    annex::write(out, state(wanted).dump());
  });
}

annex_status fake_states(void*, annex_str query, annex_buffer* out, annex_buffer* err) {
  ++calls.states;
  return annex::detail::guarded(err, [&] {
    json items = json::array();
    const json asked = json::parse(annex::to_view(query));
    for (const json& id : asked["contract_ids"]) {
      if (id != "missing") items.push_back(state(id));
    }
    annex::write(out, json{{"items", items}}.dump());
  });
}

annex_contracts_v1 table(bool with_states) {
  annex_contracts_v1 t{};
  t.struct_size = with_states ? sizeof t : static_cast<uint32_t>(offsetof(annex_contracts_v1, states));
  t.minor = with_states ? 1 : 0;
  t.get = &fake_get;
  if (with_states) t.states = &fake_states;
  return t;
}

TEST(RelationshipContractsClient, AsksForManyContractsStatesInOneCallWhereTheServiceHasIt) {
  calls = {};
  annex_contracts_v1 t = table(true);
  ContractsClient client(&t);
  auto got = client.states({"k2", "k1"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got.at("k1")["number"], "K-k1");
  EXPECT_EQ(got.at("k2")["collected"], 40);
  EXPECT_EQ(calls.states, 1);
  EXPECT_EQ(calls.get, 0);
  try {
    client.states({"k1", "missing"});
    ADD_FAILURE() << "a missing contract passed";
  } catch (const annex::Error& e) {
    EXPECT_EQ(e.code(), ANNEX_ERR_NOT_FOUND);
  }
}

TEST(RelationshipContractsClient, AsksAnOlderContractsPluginForEachContractInTurn) {
  calls = {};
  annex_contracts_v1 t = table(false);
  ContractsClient client(&t);
  auto got = client.states({"k1", "k2"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got.at("k2")["number"], "K-k2");
  EXPECT_EQ(calls.get, 2);
  EXPECT_EQ(calls.states, 0);
  try {
    client.states({"missing"});
    ADD_FAILURE() << "a missing contract passed";
  } catch (const annex::Error& e) {
    EXPECT_EQ(e.code(), ANNEX_ERR_NOT_FOUND);
  }
}

}  // namespace
}  // namespace annex::test
