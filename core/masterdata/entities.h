// The master-data entities Annex keeps in step with the ERP and finance systems: parties (customers and
// suppliers), products, employees, cost centres, GL accounts, currencies and exchange rates.
//
// Each entity is described once, as data — its table, natural key and typed fields — and one generic store,
// one HTTP surface and one sync engine serve them all. Parties are business records: they carry a sector and
// an owner and are reached like any other (auth/access.h). The rest is reference data, read by anyone holding
// the entity's read permission.
#pragma once

#include <string>
#include <vector>

namespace annex::masterdata {

enum class FieldType {
  kText,   // a string of at most max_len bytes
  kInt,    // a 64-bit integer
  kMoney,  // {"amount": minor units, "currency": "CNY"}: columns <name>_amount, <name>_currency
  kJson,   // an array or object, stored as canonical JSON text
  kEnum,   // one of `allowed`
  kDecimal, // a decimal number written as text ("7.1234"), never a float
  kDate     // a calendar date, "YYYY-MM-DD" (see annex/calendar.hpp), stored as that text
};

struct Field {
  std::string name;
  FieldType type = FieldType::kText;
  bool required = false;
  size_t max_len = 200;
  std::vector<std::string> allowed;  // kEnum
  std::string fallback;              // value when absent on create ("" for none)
};

struct Entity {
  std::string name;                // "parties": the path segment and the stream's entity
  std::string table;               // "annex_md_parties"
  std::string object_type;         // "annex.party"
  std::vector<std::string> key;    // natural key fields: {"code"}, {"chart", "code"}
  bool scoped = false;             // rows carry sector_id and owner_id
  std::vector<Field> fields;
  std::vector<std::string> lookups;  // fields a plugin may also find a record by (the first in id order): {"user_id"}

  const Field* field(const std::string& name) const;
  std::string read_permission() const { return "masterdata." + name + ".read"; }
  std::string write_permission() const { return "masterdata." + name + ".write"; }
};

const std::vector<Entity>& entities();
// nullptr for an unknown entity name.
const Entity* find_entity(const std::string& name);

}  // namespace annex::masterdata
