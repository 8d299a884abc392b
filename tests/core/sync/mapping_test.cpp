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

// The currencies master data holds in these tests: ISO 4217's minor units, and one recorded without any.
std::optional<int> units(const std::string& code) {
  static const std::map<std::string, int> held = {{"CNY", 2}, {"JPY", 0}, {"KWD", 3}, {"EUR", 2}, {"XAU", -1}};
  auto it = held.find(code);
  return it == held.end() ? std::nullopt : std::optional<int>(it->second);
}

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
    "list_price": {"from": "PRICE", "money": {"currency_from": "CUR"}},
    "repurchase_days": "CYCLE"})"));
  json annex = m.to_annex(json::parse(R"({"ITEM_NO": "P-1", "BRAND": "Acme", "MODEL": "X2", "ACTIVE": "N",
                                          "PRICE": "1999.90", "CUR": "CNY", "CYCLE": "90"})"), units);
  EXPECT_EQ(annex["code"], "P-1");
  EXPECT_EQ(annex["name"], "Acme X2");
  EXPECT_EQ(annex["unit"], "pcs");
  EXPECT_EQ(annex["status"], "inactive");
  EXPECT_EQ(annex["list_price"], json::parse(R"({"amount": 199990, "currency": "CNY"})"));
  EXPECT_EQ(annex["repurchase_days"], 90) << "coerced to the field's type";
  json back = m.to_remote(annex, units);
  EXPECT_EQ(back["ITEM_NO"], "P-1");
  EXPECT_EQ(back["ACTIVE"], "N");
  EXPECT_EQ(back["PRICE"], "1999.90");
  EXPECT_EQ(back["CUR"], "CNY");
  EXPECT_FALSE(back.contains("BRAND")) << "a concatenation does not travel back";
  EXPECT_EQ(m.to_remote(annex, units, {"status"}), json::parse(R"({"ACTIVE": "N"})"));
}

TEST(Mapping, RefusesValuesItCannotConvertNamingTheField) {
  Mapping m(entity("parties"), json::parse(R"({"code": "NO", "tier": {"from": "T", "values": {"1": "A"}}})"));
  try {
    m.to_annex(json::parse(R"({"NO": "C1", "T": "7"})"), units);
    FAIL() << "an unmapped value was accepted";
  } catch (const MappingError& e) {
    EXPECT_EQ(e.field(), "tier");
  }
  Mapping dates(entity("exchange_rates"), json::parse(R"({"rate_date": {"from": "D", "date": "%Y%m%d"}})"));
  EXPECT_EQ(dates.to_annex(json::parse(R"({"D": "20261123"})"), units)["rate_date"], "2026-11-23");
  EXPECT_EQ(dates.to_remote(json::parse(R"({"rate_date": "2026-11-23"})"), units)["D"], "20261123");
  EXPECT_THROW(dates.to_annex(json::parse(R"({"D": "23/11/2026"})"), units), MappingError);
  EXPECT_THROW(Mapping(entity("parties"), json::parse(R"({"colour": "C"})")), std::invalid_argument);
  EXPECT_THROW(Mapping(entity("products"), json::parse(R"({"list_price": {"from": "P", "money": {}}})")), std::invalid_argument);
}

TEST(Mapping, RefusesRemoteDatesNoCalendarHas) {
  Mapping dates(entity("exchange_rates"), json::parse(R"({"rate_date": {"from": "D", "date": "%Y%m%d"}})"));
  for (const char* text : {"20270230", "20270431", "20270229"}) {
    try {
      dates.to_annex(json{{"D", text}}, units);
      ADD_FAILURE() << text << " was accepted";
    } catch (const MappingError& e) {
      EXPECT_EQ(e.field(), "rate_date") << text;
    }
  }
  EXPECT_EQ(dates.to_annex(json::parse(R"({"D": "20280229"})"), units)["rate_date"], "2028-02-29");
}

// The scale of money is its currency's, both ways: ¥1,500 is 1500 minor units, never 150,000.
TEST(Mapping, MoneyTakesTheDecimalsOfItsCurrencyBothWays) {
  Mapping m(entity("products"), json::parse(R"({"code": "NO", "list_price": {"from": "PRICE", "money": {"currency_from": "CUR"}}})"));
  auto price = [&](const char* amount, const char* currency) {
    return m.to_annex(json{{"NO", "P"}, {"PRICE", amount}, {"CUR", currency}}, units)["list_price"];
  };
  EXPECT_EQ(price("1500", "JPY"), json::parse(R"({"amount": 1500, "currency": "JPY"})"));
  EXPECT_EQ(price("1500.00", "JPY"), json::parse(R"({"amount": 1500, "currency": "JPY"})")) << "zeros are not precision";
  EXPECT_EQ(price("12.50", "CNY"), json::parse(R"({"amount": 1250, "currency": "CNY"})"));
  EXPECT_EQ(price("1.250", "KWD"), json::parse(R"({"amount": 1250, "currency": "KWD"})"));
  EXPECT_EQ(price("0.005", "KWD"), json::parse(R"({"amount": 5, "currency": "KWD"})"));
  auto back = [&](int64_t amount, const char* currency) {
    return m.to_remote(json{{"list_price", {{"amount", amount}, {"currency", currency}}}}, units);
  };
  EXPECT_EQ(back(1500, "JPY"), json::parse(R"({"PRICE": "1500", "CUR": "JPY"})"));
  EXPECT_EQ(back(1250, "KWD"), json::parse(R"({"PRICE": "1.250", "CUR": "KWD"})"));
  EXPECT_EQ(back(-7, "CNY"), json::parse(R"({"PRICE": "-0.07", "CUR": "CNY"})"));

  // More decimals than the currency has, a currency master data does not hold or records no minor units for,
  // a record without its currency: refused naming the field, never rounded or guessed.
  auto refusal = [&](const json& remote) {
    try {
      m.to_annex(remote, units);
    } catch (const MappingError& e) {
      EXPECT_EQ(e.field(), "list_price") << e.what();
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refusal({{"PRICE", "1500.5"}, {"CUR", "JPY"}}).find("JPY"), std::string::npos);
  EXPECT_NE(refusal({{"PRICE", "0.0005"}, {"CUR", "KWD"}}).find("more than 3 decimals"), std::string::npos);
  EXPECT_NE(refusal({{"PRICE", "12.50"}, {"CUR", "ABC"}}).find("ABC"), std::string::npos);
  EXPECT_NE(refusal({{"PRICE", "1"}, {"CUR", "XAU"}}).find("no minor units"), std::string::npos);
  EXPECT_NE(refusal({{"PRICE", "12.50"}}).find("CUR"), std::string::npos);
  EXPECT_THROW(m.to_remote(json{{"list_price", {{"amount", 1}, {"currency", "ABC"}}}}, units), MappingError);

  // A fixed currency: the amount of another one is not sent as if it were in it.
  Mapping yen(entity("products"), json::parse(R"({"list_price": {"from": "PRICE", "money": {"currency": "JPY"}}})"));
  EXPECT_EQ(yen.to_annex(json{{"PRICE", "1500"}}, units)["list_price"]["amount"], 1500);
  EXPECT_EQ(yen.to_remote(json{{"list_price", {{"amount", 1500}, {"currency", "JPY"}}}}, units), json::parse(R"({"PRICE": "1500"})"));
  EXPECT_THROW(yen.to_remote(json{{"list_price", {{"amount", 1500}, {"currency", "CNY"}}}}, units), MappingError);

  // A scale written in the rule is the error this replaces: refused, saying where the decimals come from.
  try {
    Mapping(entity("products"), json::parse(R"({"list_price": {"from": "P", "money": {"currency": "CNY", "scale": 2}}})"));
    FAIL() << "a fixed scale was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("fields.list_price.money.scale"), std::string::npos) << e.what();
  }
}

// "as" types the remote field: a boolean goes out as a boolean, not "false"; what does not fit is refused.
TEST(Mapping, TypedRemoteFieldsTravelAsTheirTypeBothWays) {
  Mapping m(entity("parties"), json::parse(R"({
    "code": {"from": "Id", "as": "integer"},
    "status": {"from": "Blocked", "as": "boolean", "values": {"true": "inactive", "false": "active"}},
    "tier": {"from": "Rank", "as": "integer", "values": {"1": "A", "2": "B", "null": "C"}},
    "name": {"from": "Name", "as": "string"}})"));
  json annex = m.to_annex(json::parse(R"({"Id": 42, "Blocked": false, "Rank": null, "Name": "Acme"})"), units);
  EXPECT_EQ(annex["code"], "42");
  EXPECT_EQ(annex["status"], "active");
  EXPECT_EQ(annex["tier"], "C") << "a remote null has its own entry in a value map";
  EXPECT_EQ(m.to_annex(json::parse(R"({"Blocked": "true", "Rank": 2})"), units)["status"], "inactive");
  json back = m.to_remote(json::parse(R"({"code": "42", "status": "inactive", "tier": "B", "name": "Acme"})"), units);
  EXPECT_EQ(back, json::parse(R"({"Id": 42, "Blocked": true, "Rank": 2, "Name": "Acme"})"));
  EXPECT_TRUE(back["Blocked"].is_boolean());
  EXPECT_TRUE(back["Rank"].is_number_integer());
  EXPECT_TRUE(m.to_remote(json::parse(R"({"tier": "C"})"), units)["Rank"].is_null());

  for (const char* bad : {R"({"Blocked": "no"})", R"({"Blocked": 3})", R"({"Id": "4x"})", R"({"Id": 1.5})"}) {
    EXPECT_THROW(m.to_annex(json::parse(bad), units), MappingError) << bad;
  }
  EXPECT_THROW(m.to_remote(json::parse(R"({"code": "P-1"})"), units), MappingError) << "Id takes whole numbers";
  EXPECT_THROW(m.to_remote(json::parse(R"({"status": "suspended"})"), units), MappingError) << "no remote value is mapped to it";

  Mapping stamps(entity("parties"), json::parse(R"({"source": {"from": "Stamp", "as": "instant"}})"));
  EXPECT_EQ(stamps.to_annex(json::parse(R"({"Stamp": "2026-11-23T14:00:00.250+08:00"})"), units)["source"], "2026-11-23T06:00:00Z");
  EXPECT_THROW(stamps.to_annex(json::parse(R"({"Stamp": "2026-11-23 14:00"})"), units), MappingError);
  EXPECT_EQ(stamps.to_remote(json::parse(R"({"source": "2026-11-23T14:00:00+08:00"})"), units)["Stamp"], "2026-11-23T06:00:00Z");

  // Dates, instants and decimals: checked, normalised, exact.
  Mapping rates(entity("exchange_rates"), json::parse(R"({
    "rate_date": {"from": "Day", "as": "date"},
    "rate": {"from": "Rate", "as": "decimal"}})"));
  json r = rates.to_annex(json::parse(R"({"Day": "2026-11-23", "Rate": "7.123456789012345678"})"), units);
  EXPECT_EQ(r["rate_date"], "2026-11-23");
  EXPECT_EQ(r["rate"], "7.123456789012345678") << "never through a double";
  for (const char* bad : {R"({"Day": "2026-02-30"})", R"({"Day": "23.11.2026"})", R"({"Rate": "7,12"})", R"({"Rate": true})"}) {
    EXPECT_THROW(rates.to_annex(json::parse(bad), units), MappingError) << bad;
  }
  EXPECT_EQ(rates.to_remote(json::parse(R"({"rate": "7.10", "rate_date": "2026-11-23"})"), units),
            json::parse(R"({"Rate": "7.10", "Day": "2026-11-23"})"));

  // Types and value-map keys are checked when the configuration is read.
  EXPECT_THROW(Mapping(entity("parties"), json::parse(R"({"code": {"from": "Id", "as": "float"}})")), std::invalid_argument);
  EXPECT_THROW(Mapping(entity("parties"), json::parse(R"({"status": {"from": "B", "as": "boolean", "values": {"yes": "inactive"}}})")),
               std::invalid_argument);
  EXPECT_THROW(Mapping(entity("parties"), json::parse(R"({"status": {"from": "B", "values": {"1": ["inactive"]}}})")), std::invalid_argument);
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
