// The Tryton connector: Tryton 6 over JSON-RPC, through Poco's HTTP client, as a sync source and target.
//
// Settings (a connection's "settings"; the password is a secret merged in by the host):
//   {"url": "https://erp.example/tryton/", "login": "annex", "password": "{password}",
//    "timeout_s": 30, "ca_file": "/etc/ssl/certs/erp-ca.pem", "verify": true, "overlap_s": 60,
//    "streams": {"parties": {"model": "party.party", "fields": ["code", "name"], "key_field": "code"},
//                "accounts": {"model": "account.account", "fields": ["code", "name", "company.rec_name"],
//                             "domain": [["code", "!=", null]]}}}
//
// A session is opened with common.db.login and sent as "Authorization: Session …"; when Tryton answers 401 on a
// call the connector logs in again once and repeats the call. The user's preferences (company, employee,
// language) are the context of every call, which company-bound models need.
//
// Pulls are incremental by change time: the records created or written since the cursor, minus an overlap
// (Tryton stamps write_date with the transaction's start, so a late commit can carry an earlier time), in id
// order across pages. Records read again in the overlap come back unchanged to the engine, never twice.
//
// Writes batch creates and writes (one call each). Tryton's batch is atomic and its error does not say which
// record failed, so a refused batch is halved until the refused records are alone; each is rejected with
// Tryton's own message, the rest are written.
//
// A stream with "journal" takes journal entries, the documents of a document stream (see the README), as
// account.move records with their lines:
//   "journal": {"journal": "STO", "post": true, "key_field": "description"}
// "journal" is the code of the account.journal the moves go to; accounts are found by their code, a line's
// cost_centre as the analytic account of that code (an analytic line for the whole amount), a line's "party" as
// the party of that code (Tryton wants one on receivable and payable accounts), and the period as the company's
// open standard period holding the entry's date. Amounts in minor units of the entry's currency (the company's) become Decimals
// with that currency's decimals as master data records them (JPY 0, CNY 2, KWD 3).
// The move's `key_field` holds the entry's key: it is searched before a create, so a key Tryton holds already is
// "unchanged", never a second move. With "post", the move is posted (numbered; Tryton checks it balances).
//
// A stream with "collections" reads customer payments, the documents of a document stream of collections (see
// the README): the credit lines on receivable accounts of posted moves in cash journals — what Tryton's "Pay
// invoice" makes, one per payment — and the cancellations of such moves (Tryton's "Cancel" copies a move with
// its amounts negated, each line's origin naming the line it cancels):
//   "collections": {"journal_types": ["cash"], "contract_field": "reference"}
// (a "domain" beside it narrows the lines further).
// Each line becomes {"id" (the line's id, the ERP reference), "contract_number" (the `contract_field` of the
// invoice the payment's move comes from; null for a payment of no invoice), "amount" (the credit, as decimal
// text; negative for a cancellation), "currency" (the company's), "received_on" (the move's date), "reverses"
// (for a cancellation: the id of the line it cancels), "invoice" (the invoice's id), "changed_at"}.
#include <annex/sdk.hpp>

#include "../common/http.h"

#include <Poco/URI.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <iterator>
#include <memory>
#include <functional>
#include <optional>

namespace tryton_connector {
namespace {

using nlohmann::json;

struct Stream {
  std::string model;
  std::vector<std::string> fields;
  std::string key_field;
  // One2many fields travelling as lists of records: {"addresses": ["street", "city", "postal_code"]}.
  std::map<std::string, std::vector<std::string>> one2many;
  // Values every create carries unless the record has its own (Tryton's required fields Annex does not hold,
  // such as a product template's type, or its first variant).
  json create_defaults = json::object();
  // Conditions every read adds, in Tryton's domain syntax: [["code", "!=", null]] keeps a chart's view accounts
  // without a code out of a GL account stream.
  json domain = json::array();
  // Optimistic locking: records are read with Tryton's _timestamp (the stream's version_field), and a write
  // sends the one Annex last saw; a record changed in Tryton since is refused with Tryton's message rather than
  // overwritten.
  bool timestamps = false;
  // Journal entries as account.move (see above): the journal's code, whether to post, the amounts' decimal places,
  // and the move field holding the entry's key.
  std::optional<json> journal;
  // Customer payments as collection documents (see above): the invoice field holding the contract number.
  std::optional<std::string> contract_field;
};

// A Tryton datetime as text ("YYYY-MM-DD HH:MM:SS.ffffff") as Tryton's JSON encodes it.
json datetime_value(const std::string& text) {
  int y = 1970, mo = 1, d = 1, h = 0, mi = 0, s = 0, us = 0;
  std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d.%d", &y, &mo, &d, &h, &mi, &s, &us);
  return {{"__class__", "datetime"}, {"year", y}, {"month", mo}, {"day", d}, {"hour", h}, {"minute", mi}, {"second", s}, {"microsecond", us}};
}

// `text` (a datetime as above) moved back by `seconds`.
std::string minus_seconds(const std::string& text, int seconds) {
  std::tm tm{};
  int us = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) < 6) {
    return text;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t t = timegm(&tm) - seconds;
  std::tm out{};
  gmtime_r(&t, &out);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d", out.tm_year + 1900, out.tm_mon + 1, out.tm_mday, out.tm_hour,
                out.tm_min, out.tm_sec, us);
  return buf;
}

// Tryton's answer as JSON with its typed values as the engine receives them: a datetime
// ({"__class__": "datetime", "year": …}) as "YYYY-MM-DD HH:MM:SS.ffffff", a date as "YYYY-MM-DD", a Decimal as
// its text. They are turned into text while parsing — a page of 500 parties holds a thousand datetimes, and an
// object built for each, then converted, was most of the connector's work on a pull. Other typed values (time,
// timedelta, bytes) stay objects.
class TrytonJson {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit TrytonJson(json& root) : root_(root) {}

  bool null() { return value(nullptr); }
  bool boolean(bool v) { return value(v); }
  bool number_integer(number_integer_t v) { return typed_ ? field(v) : value(v); }
  bool number_unsigned(number_unsigned_t v) { return typed_ ? field(static_cast<number_integer_t>(v)) : value(v); }
  bool number_float(number_float_t v, const string_t& /*text*/) { return value(v); }
  bool string(string_t& v) {
    if (!typed_) return value(std::move(v));
    if (typed_key_ == "__class__") kind_ = v;
    else if (typed_key_ == "decimal") decimal_ = v;
    else other_[typed_key_] = v;
    return true;
  }
  bool binary(binary_t& v) { return value(json::binary(std::move(v))); }
  bool start_object(std::size_t /*size*/) {
    if (typed_) return false;  // Tryton's typed values are flat
    stack_.push_back(place(json::object()));
    return true;
  }
  bool key(string_t& k) {
    if (typed_) {
      typed_key_ = k;
    } else if (k == "__class__" && stack_.back()->empty()) {
      typed_ = true;  // an object of Tryton's typed values: its fields are gathered, not inserted
      typed_key_ = k;
      kind_.clear();
      decimal_.clear();
      other_ = json::object();
      std::fill(std::begin(parts_), std::end(parts_), 0);
    } else {
      key_ = std::move(k);
    }
    return true;
  }
  bool end_object() {
    if (typed_) {
      typed_ = false;
      *stack_.back() = typed_value();
    }
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t /*size*/) {
    if (typed_) return false;
    stack_.push_back(place(json::array()));
    return true;
  }
  bool end_array() {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t /*at*/, const std::string& /*token*/, const nlohmann::detail::exception& /*e*/) { return false; }

 private:
  static constexpr const char* kParts[] = {"year", "month", "day", "hour", "minute", "second", "microsecond"};

  bool value(json v) {
    if (typed_) {
      other_[typed_key_] = std::move(v);
      return true;
    }
    place(std::move(v));
    return true;
  }
  json* place(json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& container = *stack_.back();
    if (container.is_array()) {
      container.push_back(std::move(v));
      return &container.back();
    }
    json& slot = container[key_];
    slot = std::move(v);
    return &slot;
  }
  bool field(number_integer_t v) {
    for (int i = 0; i < 7; ++i) {
      if (typed_key_ == kParts[i]) {
        parts_[i] = static_cast<int>(v);
        return true;
      }
    }
    other_[typed_key_] = v;
    return true;
  }
  json typed_value() const {
    char text[96];
    if (kind_ == "datetime") {
      std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%06d", parts_[0], parts_[1], parts_[2], parts_[3], parts_[4],
                    parts_[5], parts_[6]);
      return text;
    }
    if (kind_ == "date") {
      std::snprintf(text, sizeof text, "%04d-%02d-%02d", parts_[0], parts_[1], parts_[2]);
      return text;
    }
    if (kind_ == "Decimal") return decimal_;
    json object = other_;  // another kind: as Tryton sent it
    object["__class__"] = kind_;
    for (int i = 0; i < 7; ++i) {
      if (parts_[i] != 0) object[kParts[i]] = parts_[i];
    }
    if (!decimal_.empty()) object["decimal"] = decimal_;
    return object;
  }

  json& root_;
  std::vector<json*> stack_;
  std::string key_, typed_key_, kind_, decimal_;
  bool typed_ = false;
  int parts_[7] = {};
  json other_ = json::object();
};

// Parses Tryton's answer (null when it is not JSON).
json parse_answer(const std::string& text) {
  json out;
  TrytonJson sax(out);
  if (!json::sax_parse(text, &sax, json::input_format_t::json, true)) return json(nullptr);
  return out;
}

// A refusal for one call: Tryton's UserError text, or the kind of failure.
class Refused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TrytonConnection : public annex::Connection {
 public:
  TrytonConnection(const json& settings, std::function<std::optional<int>(const std::string&)> minor_units)
      : minor_units_(std::move(minor_units)) {
    std::string url = settings.value("url", std::string{});
    if (url.empty()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "url is required: https://host/DBNAME/", "url");
    try {
      uri_ = Poco::URI(url);
    } catch (const Poco::Exception& e) {
      throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "url: " + e.displayText(), "url");
    }
    if (uri_.getScheme() != "http" && uri_.getScheme() != "https") throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "url: http or https", "url");
    if (uri_.getPath().empty() || uri_.getPath() == "/") throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "url: the database name is the path, /DBNAME/", "url");
    if (uri_.getPath().back() != '/') uri_.setPath(uri_.getPath() + "/");
    login_ = settings.value("login", std::string{});
    password_ = settings.value("password", std::string{});
    if (login_.empty()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "login is required", "login");
    timeout_s_ = settings.value("timeout_s", 30);
    overlap_s_ = settings.value("overlap_s", 60);
    Poco::Net::Context::Ptr tls;
    if (uri_.getScheme() == "https") tls = annex_connectors::tls_context(settings.value("ca_file", std::string{}), settings.value("verify", true));
    http_ = std::make_unique<annex_connectors::KeptAliveHttp>(uri_, tls, timeout_s_, "Tryton at " + uri_.getAuthority());
    prefetch_http_ = std::make_unique<annex_connectors::KeptAliveHttp>(uri_, tls, timeout_s_, "Tryton at " + uri_.getAuthority());
    const json streams = settings.value("streams", json::object());  // a named value: items() of a temporary dangles
    for (const auto& [name, def] : streams.items()) {
      Stream s;
      s.model = def.value("model", std::string{});
      s.fields = def.value("fields", std::vector<std::string>{});
      s.key_field = def.value("key_field", std::string("code"));
      if (def.contains("journal")) {
        s.model = "account.move";
        s.journal = def["journal"];
        if (!s.journal->is_object() || !(*s.journal)["journal"].is_string()) {
          throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "stream " + name + ": journal.journal is the code of the Tryton journal", "streams");
        }
        (*s.journal)["post"] = s.journal->value("post", true);
        if (s.journal->contains("digits")) {
          throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "stream " + name + ": journal.digits: the decimal places come from each entry's "
                             "currency in master data (JPY 0, CNY 2, KWD 3); remove it", "streams");
        }
        (*s.journal)["key_field"] = s.journal->value("key_field", std::string("description"));
      }
      if (def.contains("collections")) {
        const json& c = def["collections"];
        if (!c.is_object()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "stream " + name + ": collections is an object", "streams");
        json types = c.value("journal_types", json::array({"cash"}));
        if (!types.is_array() || types.empty()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "stream " + name + ": collections.journal_types is a list of journal types", "streams");
        s.model = "account.move.line";
        s.fields = {"credit", "date", "origin", "move_origin"};
        s.contract_field = c.value("contract_field", std::string("reference"));
        s.domain = json::array({json::array({"account.type.receivable", "=", true}), json::array({"move.state", "=", "posted"}),
                                json::array({"move.journal.type", "in", types}), json::array({"credit", "!=", 0})});
      }
      if (s.model.empty()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "stream " + name + ": model is required (party.party …)", "streams");
      const json nested = def.value("one2many", json::object());
      for (const auto& [field, subfields] : nested.items()) {
        if (!subfields.is_array() || subfields.empty() || !std::all_of(subfields.begin(), subfields.end(), [](const json& f) { return f.is_string(); })) {
          throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "stream " + name + ": one2many." + field + " is a list of field names", "streams");
        }
        s.one2many[field] = subfields.get<std::vector<std::string>>();
      }
      s.create_defaults = def.value("create_defaults", json::object());
      if (!s.create_defaults.is_object()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "stream " + name + ": create_defaults is an object", "streams");
      json domain = def.value("domain", json::array());
      s.timestamps = def.value("timestamps", false);
      if (!domain.is_array()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "stream " + name + ": domain is a list of conditions", "streams");
      for (auto& condition : domain) s.domain.push_back(std::move(condition));  // after a collections stream's own
      streams_[name] = s;
    }
  }

  std::string check() override {
    json prefs = preferences();
    return json({{"detail", "logged in to " + uri_.toString() + " as " + login_}, {"company", prefs.value("company", json(nullptr))}}).dump();
  }

  std::string discover() override {
    json streams = json::array();
    for (const auto& [name, s] : streams_) {
      streams.push_back({{"name", name}, {"model", s.model}, {"key", {s.key_field}}, {"cursor_field", "write_date"},
                         {"fields", s.fields}, {"readable", true}, {"writable", true}});
    }
    return json({{"streams", streams}}).dump();
  }

  std::string read(std::string_view stream_name, std::string_view cursor_json, uint32_t page_size) override {
    const Stream& st = stream(stream_name);
    json cursor = cursor_json.empty() ? json::object() : json::parse(cursor_json, nullptr, false);
    if (!cursor.is_object()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "cursor: not one this connector wrote");
    std::string since = cursor.value("since", std::string{});
    int64_t after_id = cursor.value("after_id", int64_t{0});
    std::string newest = cursor.value("newest", since);
    const std::string method = "model." + st.model + ".search_read";
    json rows;
    try {
      json params = page_params(st, since, after_id, page_size);
      std::optional<json> ahead = read_ahead_.take(method + params.dump() + context_.dump());
      rows = ahead && !ahead->is_null() ? *ahead : call(method, params);
    } catch (const Refused& e) {
      // A read Tryton refuses is the connection's problem (rights, an unknown field), not a record's.
      std::string message = e.what();
      throw annex::Error(message.rfind("You are not allowed", 0) == 0 ? ANNEX_ERR_PERMISSION_DENIED : ANNEX_ERR_INVALID_ARGUMENT,
                         "Tryton refused to read " + st.model + ": " + message);
    }
    // The next page is asked for now, on a second connection, while this one is turned into records and stored:
    // Tryton's round trips, not Annex, then set the pace.
    if (rows.is_array() && rows.size() == page_size) prefetch(method, page_params(st, since, rows.back().value("id", after_id), page_size));
    json records = json::array();
    for (auto& row : rows) {
      after_id = row.value("id", after_id);
      bool nested = false;
      for (const auto& [k, v] : row.items()) nested = nested || (!k.empty() && k.back() == '.');
      json rec = nested ? json::object() : std::move(row);  // a plain row is the record as it is
      if (nested) {
        for (const auto& [k, v] : row.items()) {
          if (!k.empty() && k.back() == '.' && v.is_object()) {
            // A relation read through a dotted field ("party.name" comes back as "party.": {"name": …}): flattened.
            for (const auto& [sub, value] : v.items()) rec[k + sub] = value;
          } else if (!k.empty() && k.back() == '.' && v.is_array()) {
            // A one2many read through its subfields ("addresses.city"): a list of records, without Tryton's ids.
            json list = json::array();
            for (const auto& line : v) {
              json item = json::object();
              for (const auto& [sub, value] : line.items()) {
                if (sub != "id") item[sub] = value;
              }
              list.push_back(std::move(item));
            }
            rec[k.substr(0, k.size() - 1)] = std::move(list);
          } else {
            rec[k] = v;
          }
        }
      }
      auto text_of = [&rec](const char* field) {
        auto it = rec.find(field);
        return it != rec.end() && it->is_string() ? it->get<std::string>() : std::string{};
      };
      std::string changed = std::max(text_of("write_date"), text_of("create_date"));
      if (changed > newest) newest = changed;
      rec["changed_at"] = std::move(changed);
      records.push_back(std::move(rec));
    }
    if (st.contract_field) records = collection_documents(st, std::move(records));
    bool done = rows.size() < page_size;
    // Within a run the cursor walks the ids; once done, the next run starts from the newest change seen.
    json next = done ? json{{"since", newest}, {"after_id", 0}, {"newest", newest}} : json{{"since", since}, {"after_id", after_id}, {"newest", newest}};
    json page = json::object();  // filled by moves: an initializer list would copy every record
    page["records"] = std::move(records);
    page["cursor"] = std::move(next);
    page["done"] = done;
    return page.dump();
  }

  std::string write(std::string_view stream_name, std::string_view records_json) override {
    const Stream& st = stream(stream_name);
    json items = json::parse(records_json, nullptr, false);
    if (!items.is_array()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "records: a JSON array");
    if (st.journal) {
      json results = json::array();
      for (const json& item : items) results.push_back(write_move(*st.journal, item.value("idempotency_key", std::string{}),
                                                                  item.value("record", json::object())));
      return json({{"results", results}}).dump();
    }
    json results = json::array();
    for (size_t i = 0; i < items.size(); ++i) results.push_back(nullptr);
    std::vector<size_t> creates, updates;
    for (size_t i = 0; i < items.size(); ++i) {
      const json& id = items[i].value("remote_id", json(nullptr));
      (id.is_null() ? creates : updates).push_back(i);
    }
    adopt_existing(st, items, creates, updates);
    create(st, items, creates, results);
    update(st, items, updates, results);
    return json({{"results", results}}).dump();
  }

 private:
  const Stream& stream(std::string_view name) const {
    auto it = streams_.find(std::string(name));
    if (it == streams_.end()) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no stream " + std::string(name) + " in the settings");
    return it->second;
  }

  // The values Tryton receives for a record: one2many lists as nested creates (after `replacing` the lines
  // that record has, for a write).
  static json values_of(const Stream& st, const json& item, const std::map<std::string, json>& replacing = {}) {
    json vals = item.value("record", json::object());
    vals.erase("id");
    for (const auto& [field, subfields] : st.one2many) {
      if (!vals.contains(field)) continue;
      json lines = json::array();
      for (const auto& line : vals[field].is_array() ? vals[field] : json::array()) {
        json clean = json::object();
        for (const auto& sub : subfields) {
          if (line.is_object() && line.contains(sub) && !line[sub].is_null()) clean[sub] = line[sub];
        }
        lines.push_back(std::move(clean));
      }
      json ops = json::array();
      auto old = replacing.find(field);
      if (old != replacing.end() && old->second.is_array() && !old->second.empty()) ops.push_back(json::array({"delete", old->second}));
      if (!lines.empty()) ops.push_back(json::array({"create", lines}));
      vals[field] = ops;
    }
    return vals;
  }

  // A search_read's parameters for the page after `after_id` of the records changed since `since`.
  json page_params(const Stream& st, const std::string& since, int64_t after_id, uint32_t page_size) const {
    json domain = json::array({json::array({"id", ">", after_id})});
    for (const auto& condition : st.domain) domain.push_back(condition);
    if (!since.empty()) {
      json from = datetime_value(minus_seconds(since, overlap_s_));
      domain.push_back(json::array({"OR", json::array({"write_date", ">=", from}), json::array({"create_date", ">=", from})}));
    }
    std::vector<std::string> fields = st.fields;
    for (const auto& [field, subfields] : st.one2many) {
      for (const auto& sub : subfields) fields.push_back(field + "." + sub);
    }
    if (st.timestamps) fields.push_back("_timestamp");
    for (const char* f : {"id", "write_date", "create_date"}) {
      if (std::find(fields.begin(), fields.end(), f) == fields.end()) fields.push_back(f);
    }
    return json::array({domain, 0, page_size, json::array({json::array({"id", "ASC"})}), fields});
  }

  // Starts a read-only call on the read-ahead connection, with the session and context as they are now; only its
  // result is kept (anything else — an expired session, a refusal — is left to call()).
  void prefetch(const std::string& method, json params) {
    if (session_.empty()) return;
    json context = preferences_or_empty();
    std::string key = method + params.dump() + context.dump();
    params.push_back(std::move(context));
    std::string text = json({{"id", ++next_id_}, {"method", method}, {"params", params}}).dump();
    read_ahead_.start(std::move(key), [this, text, authorization = session_] {
      try {
        int status = 0;
        json answer = exchange(*prefetch_http_, text, authorization, false, &status);
        return status == 200 && answer.is_object() && answer.contains("result") && !answer.contains("error") ? answer["result"] : json(nullptr);
      } catch (const std::exception&) {
        return json(nullptr);
      }
    });
  }

  // Creates are made idempotent by the stream's natural key: a record Tryton already holds under that key (sent
  // before, when the answer was lost — a crash, a dropped connection) is written, not created a second time.
  void adopt_existing(const Stream& st, json& items, std::vector<size_t>& creates, std::vector<size_t>& updates) {
    if (creates.empty() || st.key_field.empty()) return;
    json keys = json::array();
    for (size_t r : creates) {
      const json rec = items[r].value("record", json::object());
      if (rec.contains(st.key_field) && !rec[st.key_field].is_null()) keys.push_back(rec[st.key_field]);
    }
    if (keys.empty()) return;
    json found = call("model." + st.model + ".search_read",
                      json::array({json::array({json::array({st.key_field, "in", keys})}), 0, nullptr, nullptr, json::array({"id", st.key_field})}));
    std::map<std::string, int64_t> by_key;
    for (const auto& f : found) by_key[f.value(st.key_field, json(nullptr)).dump()] = f.value("id", int64_t{0});
    std::vector<size_t> still;
    for (size_t r : creates) {
      const json rec = items[r].value("record", json::object());
      auto it = rec.contains(st.key_field) ? by_key.find(rec[st.key_field].dump()) : by_key.end();
      if (it == by_key.end()) {
        still.push_back(r);
        continue;
      }
      items[r]["remote_id"] = std::to_string(it->second);
      updates.push_back(r);
    }
    creates = std::move(still);
  }

  // Runs `attempt` (one Tryton call) for `rows`. Tryton's batches are atomic and its errors do not say which
  // record failed, so a refused batch is halved until each refusal stands alone, with Tryton's message.
  template <typename Fn>
  static void halving(const std::vector<size_t>& rows, json& results, const Fn& attempt) {
    if (rows.empty()) return;
    try {
      attempt(rows);
    } catch (const Refused& e) {
      if (rows.size() == 1) {
        results[rows[0]] = {{"status", "rejected"}, {"reason", e.what()}};
        return;
      }
      auto middle = rows.begin() + static_cast<std::ptrdiff_t>(rows.size() / 2);
      halving(std::vector<size_t>(rows.begin(), middle), results, attempt);
      halving(std::vector<size_t>(middle, rows.end()), results, attempt);
    }
  }

  // Creates the records at `rows`, in one call at a time.
  void create(const Stream& st, const json& items, const std::vector<size_t>& rows, json& results) {
    std::vector<json> values(items.size());
    for (size_t r : rows) {
      values[r] = values_of(st, items[r]);
      for (const auto& [field, value] : st.create_defaults.items()) {
        if (!values[r].contains(field) || values[r][field].is_null()) values[r][field] = value;
      }
    }
    halving(rows, results, [&](const std::vector<size_t>& part) {
      json batch = json::array();
      for (size_t r : part) batch.push_back(values[r]);
      json ids = call("model." + st.model + ".create", json::array({batch}));
      for (size_t k = 0; k < part.size() && k < ids.size(); ++k) {
        results[part[k]] = {{"status", "created"}, {"remote_id", std::to_string(ids[k].get<int64_t>())}};
      }
    });
    stamp(st, rows, results);
  }

  // Writes the known records at `rows` (write takes id lists and values in pairs), in one call at a time.
  void update(const Stream& st, const json& items, const std::vector<size_t>& rows, json& results) {
    std::map<size_t, int64_t> ids;
    std::vector<size_t> valid;
    for (size_t r : rows) {
      try {
        ids[r] = std::stoll(items[r]["remote_id"].get<std::string>());
        valid.push_back(r);
      } catch (const std::exception&) {
        results[r] = {{"status", "rejected"}, {"reason", "remote id " + items[r]["remote_id"].dump() + " is not a Tryton id"}};
      }
    }
    if (valid.empty()) return;
    // The lines of the one2many fields that travel are replaced: their current ids, read once, in one call.
    std::map<int64_t, json> current;
    std::vector<std::string> nested;
    for (const auto& [field, unused] : st.one2many) {
      for (size_t r : valid) {
        if (items[r].value("record", json::object()).contains(field)) {
          nested.push_back(field);
          break;
        }
      }
    }
    if (!nested.empty()) {
      json id_list = json::array();
      for (size_t r : valid) id_list.push_back(ids[r]);
      json fields = json::array({"id"});
      for (const auto& f : nested) fields.push_back(f);
      for (const auto& rec : call("model." + st.model + ".read", json::array({id_list, fields}))) current[rec.value("id", int64_t{0})] = rec;
    }
    std::vector<json> values(items.size());
    for (size_t r : valid) {
      std::map<std::string, json> replacing;
      for (const auto& f : nested) replacing[f] = current.count(ids[r]) ? current[ids[r]].value(f, json::array()) : json::array();
      values[r] = values_of(st, items[r], replacing);
    }
    halving(valid, results, [&](const std::vector<size_t>& part) {
      json params = json::array(), seen = json::object();
      for (size_t r : part) {
        params.push_back(json::array({ids[r]}));
        params.push_back(values[r]);
        const json& version = items[r].value("remote_version", json(nullptr));
        if (st.timestamps && version.is_string() && !version.get<std::string>().empty()) seen[st.model + "," + std::to_string(ids[r])] = version;
      }
      call("model." + st.model + ".write", params, true, json{{"_timestamp", seen}});
      for (size_t r : part) results[r] = {{"status", "updated"}, {"remote_id", items[r]["remote_id"]}};
    });
    stamp(st, valid, results);
  }

  // With timestamps on, the results carry each written record's new _timestamp: the version the next write of
  // it sends.
  void stamp(const Stream& st, const std::vector<size_t>& rows, json& results) {
    if (!st.timestamps) return;
    std::map<int64_t, size_t> by_id;
    json id_list = json::array();
    for (size_t r : rows) {
      const json& res = results[r];
      if (!res.is_object() || res.value("status", "") == "rejected" || !res.contains("remote_id")) continue;
      int64_t id = std::stoll(res["remote_id"].get<std::string>());
      by_id[id] = r;
      id_list.push_back(id);
    }
    if (id_list.empty()) return;
    for (const auto& rec : call("model." + st.model + ".read", json::array({id_list, json::array({"_timestamp"})}))) {
      auto found = by_id.find(rec.value("id", int64_t{0}));
      if (found != by_id.end() && rec.contains("_timestamp")) results[found->second]["remote_version"] = rec["_timestamp"];
    }
  }

  // Receivable lines (as read) as collection documents: the contract number from the paid invoice, the reversed
  // line from a cancellation's origin. One call per page for the invoices, one per connection for the currency.
  json collection_documents(const Stream& st, json lines) {
    auto id_in = [](const json& reference, const std::string& model) -> std::optional<int64_t> {
      if (!reference.is_string() || reference.get<std::string>().rfind(model + ",", 0) != 0) return std::nullopt;
      try {
        return std::stoll(reference.get<std::string>().substr(model.size() + 1));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    };
    json invoice_ids = json::array();
    for (const json& line : lines) {
      if (auto invoice = id_in(line.value("move_origin", json(nullptr)), "account.invoice")) invoice_ids.push_back(*invoice);
    }
    std::map<int64_t, json> contract_of;
    if (!invoice_ids.empty()) {
      for (const json& inv : call("model.account.invoice.read", json::array({invoice_ids, json::array({*st.contract_field})}))) {
        const json& v = inv.value(*st.contract_field, json(nullptr));
        contract_of[inv.value("id", int64_t{0})] = v.is_string() && !v.get<std::string>().empty() ? v : json(nullptr);
      }
    }
    company_currency();
    json docs = json::array();
    for (const json& line : lines) {
      json doc = {{"id", line.value("id", json(nullptr))}, {"amount", line.value("credit", json(nullptr))},
                  {"currency", company_currency_.empty() ? json(nullptr) : json(company_currency_)},
                  {"received_on", line.value("date", json(nullptr))}, {"contract_number", nullptr}, {"reverses", nullptr},
                  {"invoice", nullptr}, {"changed_at", line.value("changed_at", json(nullptr))}};
      if (auto cancelled = id_in(line.value("origin", json(nullptr)), "account.move.line")) {
        doc["reverses"] = std::to_string(*cancelled);
      } else if (auto invoice = id_in(line.value("move_origin", json(nullptr)), "account.invoice")) {
        doc["invoice"] = *invoice;
        doc["contract_number"] = contract_of.count(*invoice) ? contract_of[*invoice] : json(nullptr);
      }
      docs.push_back(std::move(doc));
    }
    return docs;
  }

  // The id of the record of `model` whose `field` is `value`, or nothing.
  std::optional<int64_t> find_id(const std::string& model, const std::string& field, const json& value, json more = json::array()) {
    more.push_back(json::array({field, "=", value}));
    json ids = call("model." + model + ".search", json::array({more, 0, 1, nullptr}));
    if (!ids.is_array() || ids.empty()) return std::nullopt;
    return ids[0].get<int64_t>();
  }

  // The code of the company's currency ("" when the user has no company), read once.
  const std::string& company_currency() {
    if (company_currency_.empty()) {
      json company = preferences_or_empty().value("company", json(nullptr));
      if (!company.is_null()) {
        json rows = call("model.company.company.read", json::array({json::array({company}), json::array({"currency.code"})}));
        if (rows.is_array() && !rows.empty() && rows[0].contains("currency.") && rows[0]["currency."].is_object()) {
          company_currency_ = rows[0]["currency."].value("code", std::string{});
        }
      }
    }
    return company_currency_;
  }

  // Writes one journal entry as an account.move with its lines; "unchanged" when a move holds its key already.
  json write_move(const json& j, const std::string& key, const json& entry) {
    auto rejected = [](const std::string& reason, const std::string& field) {
      return json{{"status", "rejected"}, {"reason", reason}, {"field", field}};
    };
    const std::string key_field = j["key_field"];
    if (key.empty()) return rejected("a journal entry needs its key", "idempotency_key");
    try {
      json found = call("model.account.move.search_read", json::array({json::array({json::array({key_field, "=", key})}), 0, 1,
                                                                          nullptr, json::array({"id", "state"})}));
      if (found.is_array() && !found.empty()) {
        int64_t id = found[0]["id"].get<int64_t>();
        if (j["post"].get<bool>() && found[0].value("state", std::string{}) == "draft") {
          call("model.account.move.post", json::array({json::array({id})}));  // a draft left behind by a crash
        }
        return {{"status", "unchanged"}, {"remote_id", std::to_string(id)}};
      }
      const json lines = entry.value("lines", json::array());
      if (!lines.is_array() || lines.empty()) return rejected("a journal entry needs at least one line", "lines");
      std::string date = entry.value("date", std::string{});
      int y = 0, m = 0, d = 0;
      if (std::sscanf(date.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3) return rejected("date: YYYY-MM-DD", "date");
      json day = {{"__class__", "date"}, {"year", y}, {"month", m}, {"day", d}};
      auto journal = find_id("account.journal", "code", j["journal"]);
      if (!journal) return rejected("Tryton has no journal " + j["journal"].get<std::string>(), "journal");
      json company = preferences_or_empty().value("company", json(nullptr));
      json in_period = json::array({json::array({"type", "=", "standard"}), json::array({"state", "=", "open"}),
                                    json::array({"start_date", "<=", day}), json::array({"end_date", ">=", day})});
      if (!company.is_null()) in_period.push_back(json::array({"company", "=", company}));
      json periods = call("model.account.period.search", json::array({in_period, 0, 1, nullptr}));
      if (!periods.is_array() || periods.empty()) return rejected("Tryton has no open period for " + date, "date");
      // Amounts are minor units of the entry's currency, which must be the company's: Tryton keeps a move in it.
      const std::string currency = entry.value("currency", std::string{});
      if (currency.empty()) return rejected("a journal entry needs its currency", "currency");
      if (!company_currency().empty() && currency != company_currency()) {
        return rejected("the entry is in " + currency + "; the company keeps its accounts in " + company_currency(), "currency");
      }
      std::optional<int> units = minor_units_(currency);
      if (!units || *units < 0) return rejected(currency + " is not a currency with minor units in master data", "currency");
      const int digits = *units;
      auto decimal = [digits](const json& minor) {
        long long v = minor.is_number_integer() ? minor.get<long long>() : 0;
        std::string text = std::to_string(v < 0 ? -v : v);
        if (digits > 0) {
          if (text.size() <= static_cast<size_t>(digits)) text.insert(0, static_cast<size_t>(digits) + 1 - text.size(), '0');
          text.insert(text.size() - static_cast<size_t>(digits), ".");
        }
        return json{{"__class__", "Decimal"}, {"decimal", (v < 0 ? "-" : "") + text}};
      };
      json move_lines = json::array();
      for (const json& line : lines) {
        std::string code = line.value("account", std::string{});
        auto account = find_id("account.account", "code", code);
        if (!account) return rejected("Tryton has no account " + code, "lines.account");
        json values = {{"account", *account}, {"debit", decimal(line.value("debit", json(0)))},
                       {"credit", decimal(line.value("credit", json(0)))},
                       {"description", line.value("description", entry.value("description", json(nullptr)))}};
        if (line.contains("party") && line["party"].is_string()) {
          auto party = find_id("party.party", "code", line["party"]);
          if (!party) return rejected("Tryton has no party " + line["party"].get<std::string>(), "lines.party");
          values["party"] = *party;
        }
        if (line.contains("cost_centre") && line["cost_centre"].is_string()) {
          auto centre = find_id("analytic_account.account", "code", line["cost_centre"]);
          if (!centre) return rejected("Tryton has no analytic account " + line["cost_centre"].get<std::string>(), "lines.cost_centre");
          values["analytic_lines"] = json::array({json::array({"create", json::array({{{"account", *centre}, {"date", day},
                                                                                        {"debit", values["debit"]}, {"credit", values["credit"]}}})})});
        }
        move_lines.push_back(std::move(values));
      }
      json move = {{key_field, key}, {"journal", *journal}, {"period", periods[0]}, {"date", day},
                   {"lines", json::array({json::array({"create", move_lines})})}};
      if (!company.is_null()) move["company"] = company;
      json ids = call("model.account.move.create", json::array({json::array({move})}));
      int64_t id = ids.at(0).get<int64_t>();
      if (j["post"].get<bool>()) {
        try {
          call("model.account.move.post", json::array({json::array({id})}));
        } catch (const Refused& e) {
          call("model.account.move.delete", json::array({json::array({id})}));  // not left as a draft under the key
          throw;
        }
      }
      return {{"status", "created"}, {"remote_id", std::to_string(id)}};
    } catch (const Refused& e) {
      return rejected(e.what(), "");
    }
  }

  json preferences() {
    if (context_.is_null()) {
      json prefs = call("model.res.user.get_preferences", json::array({true, json::object()}), false);
      context_ = json::object();
      for (const char* k : {"company", "employee", "language"}) {
        if (prefs.contains(k) && !prefs[k].is_null()) context_[k] = prefs[k];
      }
    }
    return context_;
  }

  // One JSON-RPC call with the session (logging in first, and once more when the session has expired). The
  // context is appended as the last parameter. Throws Refused for Tryton's refusal of this call, annex::Error
  // for the connection's failures.
  json call(const std::string& method, json params, bool with_context = true, const json& extra_context = json::object()) {
    if (session_.empty()) login();
    if (with_context) {
      json context = preferences_or_empty();
      context.update(extra_context);
      params.push_back(std::move(context));
    }
    for (int attempt = 0;; ++attempt) {
      int status = 0;
      json answer = post(method, params, session_, &status);
      if (status == 401 && attempt == 0) {
        login();  // the session expired or was revoked: once more with a new one
        continue;
      }
      if (status == 401) throw annex::Error(ANNEX_ERR_UNAUTHENTICATED, "Tryton refused the session of " + login_);
      if (status == 403) throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "Tryton refused " + method + " (HTTP 403)");
      if (status == 429) throw annex::Error(ANNEX_ERR_UNAVAILABLE, "Tryton asks to slow down (HTTP 429)");
      if (status >= 500 || !answer.is_object()) throw annex::Error(ANNEX_ERR_UNAVAILABLE, "Tryton answered HTTP " + std::to_string(status) + " to " + method);
      if (answer.contains("error") && !answer["error"].is_null()) {
        const json& e = answer["error"];
        std::string kind = e.is_array() && !e.empty() && e[0].is_string() ? e[0].get<std::string>() : "error";
        std::string message = kind;
        if (e.is_array() && e.size() > 1 && e[1].is_array() && !e[1].empty() && e[1][0].is_string()) message = e[1][0].get<std::string>();
        if (e.is_array() && e.size() > 1 && e[1].is_string()) message = e[1].get<std::string>();  // ConcurrencyException's
        if (kind == "UserError" || kind == "ConcurrencyException" || kind == "UserWarning") throw Refused(message);
        throw Refused(kind == message ? kind : kind + ": " + message);
      }
      return answer.value("result", json(nullptr));
    }
  }

  json preferences_or_empty() { return context_.is_null() ? preferences() : context_; }

  void login() {
    session_.clear();
    context_ = nullptr;
    int status = 0;
    json answer = post("common.db.login", json::array({login_, {{"password", password_}}, "en"}), "", &status);
    if (status == 401 || status == 403 || (answer.is_object() && answer.contains("error") && !answer["error"].is_null())) {
      throw annex::Error(ANNEX_ERR_UNAUTHENTICATED, "Tryton refused the login of " + login_);
    }
    if (status == 429) throw annex::Error(ANNEX_ERR_UNAVAILABLE, "Tryton refuses logins for a while (HTTP 429: too many failures)");
    if (status != 200 || !answer.is_object() || !answer.contains("result") || !answer["result"].is_array() || answer["result"].size() < 2) {
      throw annex::Error(ANNEX_ERR_UNAVAILABLE, "Tryton answered HTTP " + std::to_string(status) + " to the login");
    }
    std::string token = login_ + ":" + std::to_string(answer["result"][0].get<int64_t>()) + ":" + answer["result"][1].get<std::string>();
    session_ = "Session " + annex_connectors::base64(token);
  }

  // POSTs one JSON-RPC request on the kept-alive connection; returns the parsed body (null when it is not JSON)
  // and the HTTP status.
  json post(const std::string& method, const json& params, const std::string& authorization, int* status) {
    json body = {{"id", ++next_id_}, {"method", method}, {"params", params}};
    // A connection Tryton closed while it was idle fails the next request; only a call that changes nothing is
    // sent again on a new one. A create or write is not: the engine sends its batch again later, and creates
    // are adopted by key, never doubled.
    const bool repeatable = method.find(".create") == std::string::npos && method.find(".write") == std::string::npos &&
                            method.find(".delete") == std::string::npos;
    return exchange(*http_, body.dump(), authorization, repeatable, status);
  }

  // One POST of `text` on `http`: the parsed answer (null when it is not JSON) and the HTTP status.
  json exchange(annex_connectors::KeptAliveHttp& http, const std::string& text, const std::string& authorization, bool repeatable,
                int* status) {
    std::map<std::string, std::string> headers = {{"Content-Type", "application/json"}};
    if (!authorization.empty()) headers["Authorization"] = authorization;
    annex_connectors::HttpAnswer answer = http.send("POST", uri_.getPathEtc(), text, headers, repeatable);
    *status = answer.status;
    return parse_answer(answer.text);
  }

  Poco::URI uri_;
  std::string login_, password_, session_;
  int timeout_s_ = 30, overlap_s_ = 60;
  std::unique_ptr<annex_connectors::KeptAliveHttp> http_, prefetch_http_;  // the calls' and the pages read ahead
  annex_connectors::ReadAhead<json> read_ahead_;  // a pull's next page; after the connection it uses
  std::map<std::string, Stream> streams_;
  json context_ = nullptr;
  std::string company_currency_;  // the code of the company's currency, once read
  std::function<std::optional<int>(const std::string&)> minor_units_;  // a currency's, from master data
  int64_t next_id_ = 0;
};

class TrytonConnector : public annex::Connector {
 public:
  explicit TrytonConnector(annex::MasterData masterdata) : masterdata_(masterdata) {}
  std::unique_ptr<annex::Connection> open(std::string_view settings_json) override {
    json settings = json::parse(settings_json, nullptr, false);
    if (!settings.is_object()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "settings: a JSON object");
    return std::make_unique<TrytonConnection>(settings, [md = masterdata_](const std::string& code) { return md.currency(code); });
  }

 private:
  annex::MasterData masterdata_;
};

}  // namespace

class TrytonPlugin : public annex::Plugin {
 public:
  static constexpr const char* kId = "org.annex.connector.tryton";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr annex_plugin_kind kKind = ANNEX_KIND_CONNECTOR;
  static constexpr const char* kManifest = R"({
    "name": "Tryton connector",
    "description": "Tryton 6 over JSON-RPC: incremental pulls by change time, batched creates and writes, Tryton's refusals per record.",
    "requires": {},
    "uses": ["annex.log@1", "annex.connectors@1", "annex.masterdata@1"],
    "config_schema": {"type": "object", "properties": {}}
  })";
  using annex::Plugin::Plugin;

  void on_register() override { host().connectors().add("tryton", std::make_unique<TrytonConnector>(host().masterdata())); }
};

}  // namespace tryton_connector

ANNEX_PLUGIN(tryton_connector::TrytonPlugin)
