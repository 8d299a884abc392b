// The mapping language and the sync configuration: conversions both ways, exact money, and refusals that name
// the rule at fault.
#include "masterdata/entities.h"
#include "sync/engine.h"
#include "sync/mapping.h"

#include <gtest/gtest.h>

namespace annex::sync {
namespace {

using nlohmann::json;

const masterdata::Entity& entity(const char* name) { return *masterdata::find_entity(name); }

TEST(Money, ParsesDecimalTextExactlyAndRefusesWhatItWouldHaveToRound) {
  EXPECT_EQ(parse_minor_units("12.5", 2), 1250);
  EXPECT_EQ(parse_minor_units(" 0.07 ", 2), 7);
  EXPECT_EQ(parse_minor_units("-3", 2), -300);
  EXPECT_EQ(parse_minor_units("19.990", 2), 1999) << "trailing zeros are not precision";
  EXPECT_EQ(parse_minor_units("123456789012.34", 2), 12345678901234);
  EXPECT_THROW(parse_minor_units("0.005", 2), std::invalid_argument);
  EXPECT_THROW(parse_minor_units("1,000.00", 2), std::invalid_argument);
  EXPECT_THROW(parse_minor_units("", 2), std::invalid_argument);
  EXPECT_THROW(parse_minor_units("1e3", 2), std::invalid_argument);
  EXPECT_EQ(format_minor_units(1250, 2), "12.50");
  EXPECT_EQ(format_minor_units(-7, 2), "-0.07");
  EXPECT_EQ(format_minor_units(42, 0), "42");
}

TEST(Mapping, ConvertsEachRuleBothWays) {
  Mapping m(entity("products"), json::parse(R"({
    "code": "ITEM_NO",
    "name": {"concat": [{"field": "BRAND"}, " ", {"field": "MODEL"}]},
    "unit": {"const": "pcs"},
    "status": {"from": "ACTIVE", "values": {"Y": "active", "N": "inactive"}},
    "list_price": {"from": "PRICE", "money": {"currency_from": "CUR", "scale": 2}},
    "repurchase_days": "CYCLE"})"));
  json annex = m.to_annex(json::parse(R"({"ITEM_NO": "P-1", "BRAND": "Acme", "MODEL": "X2", "ACTIVE": "N",
                                          "PRICE": "1999.90", "CUR": "CNY", "CYCLE": "90"})"));
  EXPECT_EQ(annex["code"], "P-1");
  EXPECT_EQ(annex["name"], "Acme X2");
  EXPECT_EQ(annex["unit"], "pcs");
  EXPECT_EQ(annex["status"], "inactive");
  EXPECT_EQ(annex["list_price"], json::parse(R"({"amount": 199990, "currency": "CNY"})"));
  EXPECT_EQ(annex["repurchase_days"], 90) << "coerced to the field's type";
  json back = m.to_remote(annex);
  EXPECT_EQ(back["ITEM_NO"], "P-1");
  EXPECT_EQ(back["ACTIVE"], "N");
  EXPECT_EQ(back["PRICE"], "1999.90");
  EXPECT_EQ(back["CUR"], "CNY");
  EXPECT_FALSE(back.contains("BRAND")) << "a concatenation does not travel back";
  EXPECT_EQ(m.to_remote(annex, {"status"}), json::parse(R"({"ACTIVE": "N"})"));
}

TEST(Mapping, RefusesValuesItCannotConvertNamingTheField) {
  Mapping m(entity("parties"), json::parse(R"({"code": "NO", "tier": {"from": "T", "values": {"1": "A"}}})"));
  try {
    m.to_annex(json::parse(R"({"NO": "C1", "T": "7"})"));
    FAIL() << "an unmapped value was accepted";
  } catch (const MappingError& e) {
    EXPECT_EQ(e.field(), "tier");
  }
  Mapping dates(entity("exchange_rates"), json::parse(R"({"rate_date": {"from": "D", "date": "%Y%m%d"}})"));
  EXPECT_EQ(dates.to_annex(json::parse(R"({"D": "20261123"})"))["rate_date"], "2026-11-23");
  EXPECT_EQ(dates.to_remote(json::parse(R"({"rate_date": "2026-11-23"})"))["D"], "20261123");
  EXPECT_THROW(dates.to_annex(json::parse(R"({"D": "23/11/2026"})")), MappingError);
  EXPECT_THROW(Mapping(entity("parties"), json::parse(R"({"colour": "C"})")), std::invalid_argument);
  EXPECT_THROW(Mapping(entity("products"), json::parse(R"({"list_price": {"from": "P", "money": {}}})")), std::invalid_argument);
}

TEST(Mapping, RefusesRemoteDatesNoCalendarHas) {
  Mapping dates(entity("exchange_rates"), json::parse(R"({"rate_date": {"from": "D", "date": "%Y%m%d"}})"));
  for (const char* text : {"20270230", "20270431", "20270229"}) {
    try {
      dates.to_annex(json{{"D", text}});
      ADD_FAILURE() << text << " was accepted";
    } catch (const MappingError& e) {
      EXPECT_EQ(e.field(), "rate_date") << text;
    }
  }
  EXPECT_EQ(dates.to_annex(json::parse(R"({"D": "20280229"})"))["rate_date"], "2028-02-29");
}

TEST(SyncConfig, NamesTheKeyAtFault) {
  auto fails_with = [](const std::string& text) {
    try {
      parse_sync_config(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(fails_with(R"({"connections": {"f": {"streams": {}}}})").find("sync.connections.f.connector"), std::string::npos);
  EXPECT_NE(fails_with(R"({"connections": {"f": {"connector": "odbc", "secrets": {"pwd": "hunter2"},
            "streams": {"s": {"entity": "products", "remote_id": "ID"}}}}})").find("secrets.pwd"), std::string::npos)
      << "a secret is a reference, never the secret itself";
  EXPECT_NE(fails_with(R"({"connections": {"f": {"connector": "odbc", "streams": {"s": {"entity": "planets", "remote_id": "ID"}}}}})")
                .find("streams.s.entity"), std::string::npos);
  EXPECT_NE(fails_with(R"({"connections": {"f": {"connector": "odbc", "streams": {"s": {"entity": "parties", "remote_id": "ID"}}}}})")
                .find("sector_id and owner_login"), std::string::npos);
  auto ok = parse_sync_config(R"({"connections": {"f": {"connector": "odbc", "secrets": {"password": "env:FIN_PWD"},
      "streams": {"s": {"entity": "products", "direction": "both", "remote_id": "ID", "fields": {"code": "ID"},
                        "system_of_record": {"default": "annex", "name": "remote"}}}}}})");
  const StreamConfig& s = ok.at("f").streams.at("s");
  EXPECT_FALSE(s.remote_owns("code"));
  EXPECT_TRUE(s.remote_owns("name"));
}

}  // namespace
}  // namespace annex::sync
