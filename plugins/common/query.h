// A WHERE clause built at run time with its parameters in order, and keyset pagination over it.
#pragma once

#include "rest.h"

#include <deque>
#include <functional>
#include <variant>

namespace annex::rest {

class Where {
 public:
  using Param = std::variant<std::string, int64_t>;

  // A condition with as many `?` as `params`.
  Where& add(std::string sql, std::vector<Param> params = {}) {
    parts_.push_back(std::move(sql));
    for (auto& p : params) params_.push_back(std::move(p));
    return *this;
  }
  // "col = ?" when the query parameter `name` is present.
  Where& equal_if(const annex::Request& req, const char* name, const std::string& column) {
    if (auto v = req.query_param(name)) add(column + " = ?", {*v});
    return *this;
  }
  std::string sql() const {
    std::string out;
    for (const auto& p : parts_) out += (out.empty() ? " WHERE " : " AND ") + p;
    return out;
  }
  // Values that view the parameters held here: valid while this object lives.
  std::vector<annex::Value> values() const {
    std::vector<annex::Value> out;
    for (const auto& p : params_) {
      if (const auto* s = std::get_if<std::string>(&p)) out.emplace_back(std::string_view(*s));
      else out.emplace_back(std::get<int64_t>(p));
    }
    return out;
  }

 private:
  std::vector<std::string> parts_;
  std::deque<Param> params_;
};

// A sortable column of a list: its name in ?sort=, its position in the select list, and whether it holds integers.
// Column 0 of the select list must be the id.
struct SortColumn {
  std::string name;
  size_t index = 0;
  bool integer = false;
};

// Writes one row as a JSON object.
using RowWriter = void (*)(const annex::Row&, std::string&);

// Runs `select_from` ("SELECT cols FROM table") with `where`, sorted by ?sort= (one of `columns`, "-" for
// descending; default `default_sort`) and paged by ?cursor= / ?limit=. Returns the JSON text
// {"items": [...], "next_cursor": text or null}.
inline std::string page(const annex::Db& db, const annex::Request& req, const std::string& select_from, Where where,
                        const std::vector<SortColumn>& columns, const std::string& default_sort, RowWriter write) {
  std::string sort = req.query_param("sort").value_or(default_sort);
  bool desc = !sort.empty() && sort[0] == '-';
  std::string name = desc ? sort.substr(1) : sort;
  const SortColumn* col = nullptr;
  for (const auto& c : columns) {
    if (c.name == name) col = &c;
  }
  if (col == nullptr) {
    std::string list;
    for (const auto& c : columns) list += (list.empty() ? "" : ", ") + c.name;
    invalid("sort", "sort by one of: " + list + " (prefix - for descending)");
  }
  const char* cmp = desc ? " < " : " > ";
  if (auto cursor = req.query_param("cursor")) {
    auto [value, id] = decode_cursor(*cursor);
    if (col->name == "id") {
      where.add("id" + std::string(cmp) + "?", {id});
    } else if (col->integer) {
      int64_t v = 0;
      try {
        v = std::stoll(value);
      } catch (const std::exception&) {
        invalid("cursor", "cursor is not one this API returned");
      }
      where.add("(" + col->name + cmp + "? OR (" + col->name + " = ? AND id" + cmp + "?))", {v, v, id});
    } else {
      where.add("(" + col->name + cmp + "? OR (" + col->name + " = ? AND id" + cmp + "?))", {value, value, id});
    }
  }
  int64_t limit = page_limit(req);
  std::string dir = desc ? " DESC" : " ASC";
  std::string order = col->name == "id" ? " ORDER BY id" + dir : " ORDER BY " + col->name + dir + ", id" + dir;
  std::string sql = select_from + where.sql() + order + " LIMIT " + std::to_string(limit + 1);
  std::vector<annex::Value> values = where.values();
  annex::Rows rows = db.query(nullptr, sql, values);
  std::string out = "{\"items\":[";
  out.reserve(16384);
  int64_t count = 0;
  std::string last_value, last_id;
  bool more = false;
  while (rows.next()) {
    const annex::Row row = rows.row();
    if (count == limit) {
      more = true;
      break;
    }
    if (count++ > 0) out += ',';
    write(row, out);
    last_id = row.text(0);
    last_value = row.text(col->index);
  }
  out += "],\"next_cursor\":";
  out += more ? json_quote(encode_cursor(last_value, last_id)) : std::string("null");
  out += '}';
  return out;
}

}  // namespace annex::rest
