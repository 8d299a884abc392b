// The OData connector: S/4HANA-style OData V4 services (V2 by a setting), through Poco's HTTP client, as a sync
// source and target.
//
// Settings (a connection's "settings"; "password" and "client_secret" come from the connection's secrets):
//   {"url": "https://s4.example/sap/opu/odata4/", "version": "v4",
//    "auth": "basic", "user": "ANNEX_SYNC",
//    (or "auth": "oauth2", "token_url": "https://…/oauth/token", "client_id": "…", "scope": "…")
//    "timeout_s": 30, "ca_file": "/etc/ssl/certs/s4-ca.pem", "verify": true, "batch_size": 100, "atomic": false,
//    "streams": {"partners": {"service": "api-business-partner", "entity_set": "A_BusinessPartner",
//                             "key": ["BusinessPartner"], "fields": ["BusinessPartnerFullName", …],
//                             "changed_field": "modifiedAt", "filter": "BusinessPartnerCategory eq '2'",
//                             "paging": "keyset", "if_match": true}}}
//
// Every record read carries "_id" (its key: the value, or "K1='a',K2='b'" for a composite key) and "_etag".
//
// Pulls are deltas by the change timestamp (`changed ge <watermark>`), read in pages by key set: in key order
// (the service's primary index), each page asking for the rows after the last key taken — `key gt K` — so a run
// stopped midway resumes after that row, and a row deleted meanwhile shifts nothing (an offset would skip one for
// good). A row already passed that changes during the run is read by the next run: the watermark is the newest
// change seen, but never later than the service's clock (its Date header) when the run began.
// Rows written by one request share a timestamp, and a row may commit after a reader saw others of its
// millisecond; so the watermark is read again with `ge`, and the rows already seen at it (key and ETag) are
// dropped. "paging": "server" follows the service's own next links instead (@odata.nextLink, V2 __next), for a
// service that cannot filter or order by its key; such a service pages by offsets, so every run ends with a
// completeness check by $count (see read_by_links). An entity set with neither a change field nor an ETag
// ("changed_field": "") is read whole on every run, in key order; its pages say so ("compare": "content"), and
// the engine applies only the records whose content changed since it last applied them.
//
// Writes go as JSON $batch (V4) in chunks of batch_size, each chunk one atomicity group when "atomic" is set.
// One failure in a group means nothing in it was saved: the group's other members are sent again without the
// refused ones. Updates carry If-Match with the ETag Annex last saw; on 412 the connector reads the entity
// again and sends the update with its new ETag ("if_match": false sends updates without it, for entity sets
// without ETags: the last writer wins, there is no optimistic locking). The engine sends only the fields whose
// system of record is Annex, so for those Annex's value wins, and the ERP's change to its own fields stays (the
// next pull brings it). A create the service already holds (an answer lost in a crash, or a record made on both
// sides) is read and updated, never doubled — also where the service answers the duplicate with a 500, as stock
// CAP does. A 5xx is the connection's failure only when the service fails reads too; otherwise the record is
// sent again alone, and if it still fails it is that record's: retried later, a dead letter after the
// connection's attempts. A refusal becomes a rejection with the service's message and the property at fault.
// V2 has no JSON $batch: its writes go as a multipart $batch, each in a changeset of its own (a V2 service answers
// a failed changeset with one error for all of it), and one request at a time for a service that takes no $batch.
#include <annex/sdk.hpp>

#include "../common/http.h"

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/MediaType.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/MultipartReader.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <Poco/URI.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <sstream>

namespace odata_connector {
namespace {

using nlohmann::json;

// JSON whose decimal numbers keep their exact text ("1.250" stays "1.250"): money and quantities must never
// pass through a double.
struct ExactNumbers : nlohmann::detail::json_sax_dom_parser<json> {
  using nlohmann::detail::json_sax_dom_parser<json>::json_sax_dom_parser;
  bool number_float(double /*value*/, const std::string& text) {
    std::string copy = text;
    return nlohmann::detail::json_sax_dom_parser<json>::string(copy);
  }
};

json parse_exact(const std::string& text) {
  json out;
  ExactNumbers sax(out, false);
  if (!json::sax_parse(text, &sax, json::input_format_t::json, true) || out.is_discarded()) return json(nullptr);
  return out;
}

// Percent-encoding for a query option's value or a key's value: everything but unreserved characters, so a
// space is %20 and a '+' is %2B (OData services do not take '+' for a space).
std::string pct(const std::string& text) {
  std::string out;
  Poco::URI::encode(text, "!#$&'()*+,/:;=?@[]", out);
  return out;
}

// "/Date(1705305600000+0000)/" (V2) as ISO-8601: a timestamp with an offset or a time of day, else a date.
json from_v2_date(const json& v) {
  if (!v.is_string()) return v;
  const std::string& s = v.get_ref<const std::string&>();
  if (s.rfind("/Date(", 0) != 0 || s.size() < 9 || s.compare(s.size() - 2, 2, ")/") != 0) return v;
  long long ms = 0;
  char sign = 0;
  int offset = 0;
  int n = std::sscanf(s.c_str() + 6, "%lld%c%d", &ms, &sign, &offset);
  if (n < 1) return v;
  std::time_t t = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  int millis = static_cast<int>(((ms % 1000) + 1000) % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[64];
  if (n == 1 && tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0 && millis == 0) {
    std::snprintf(out, sizeof out, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  } else {
    std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec, millis);
  }
  return std::string(out);
}

struct Stream {
  std::string service;     // the service's path under the url: "api-business-partner"
  std::string entity_set;  // "A_BusinessPartner"
  std::vector<std::string> key;
  std::vector<std::string> fields;  // $select; empty: all
  std::string changed_field = "modifiedAt";  // "": the entity set has none, every read is a full one
  // "keyset": pages follow the key — resumable, and blind to rows deleted meanwhile; "server": the
  // service's own next links, for a service that cannot filter or order that way.
  std::string paging = "keyset";
  bool if_match = true;  // false: updates go without If-Match (no optimistic locking), for sets without ETags
  std::string filter;  // a condition every read adds ("CompanyCode eq '1010'"), in $filter syntax
  std::string expand;  // navigation properties read with each row ("to_CustomerCompany"): lists in the record
  // Values every create carries unless the record has its own: what the service requires and Annex does not
  // hold (a partner's category), or a deep create's children (a customer's company-code data).
  json create_defaults = json::object();
};

// A row as the engine receives it: annotations and V2's metadata and deferred links dropped, V2's dates as
// ISO-8601, V2's nested {"results": [...]} as plain lists.
json clean(const json& v, bool v2) {
  if (v.is_array()) {
    json out = json::array();
    for (const auto& item : v) out.push_back(clean(item, v2));
    return out;
  }
  if (!v.is_object()) return v2 ? from_v2_date(v) : v;
  if (v2 && v.contains("results") && v["results"].is_array()) return clean(v["results"], v2);
  json out = json::object();
  for (const auto& [k, item] : v.items()) {
    if (k == "__metadata" || k.find('@') != std::string::npos || (item.is_object() && item.contains("__deferred"))) continue;
    out[k] = clean(item, v2);
  }
  return out;
}

// One request of a write, and its answer.
struct Exchange {
  std::string method, url;  // url relative to the service root
  std::string if_match;
  json body;
  json update_body;  // the record without create defaults and keys, for a PATCH
  int status = 0;
  std::string etag;
  json answer;
  bool exists = false;  // a create the service failed on, found there when read back
};

// The service's refusal as a reason and the property at fault (V4 error.target / details, V2 errordetails).
std::pair<std::string, std::string> refusal(const json& answer, int status) {
  const json error = answer.is_object() ? answer.value("error", json(nullptr)) : json(nullptr);
  if (!error.is_object()) return {"HTTP " + std::to_string(status), ""};
  auto text = [](const json& m) {
    if (m.is_string()) return m.get<std::string>();
    if (m.is_object() && m.contains("value") && m["value"].is_string()) return m["value"].get<std::string>();
    return std::string{};
  };
  auto target_of = [](const json& e) {
    std::string t = e.is_object() && e.contains("target") && e["target"].is_string() ? e["target"].get<std::string>() : "";
    return t.rfind("/#TRANSIENT#", 0) == 0 ? std::string{} : t;  // SAP's V2 placeholder for "no field"
  };
  std::string message = text(error.value("message", json(nullptr)));
  std::string field = target_of(error);
  json details = error.value("details", json::array());
  if (error.contains("innererror") && error["innererror"].is_object()) details = error["innererror"].value("errordetails", details);
  if (details.is_array() && details.size() > 1) {
    message.clear();
    for (const auto& d : details) {
      std::string t = target_of(d);
      if (field.empty()) field = t;
      message += (message.empty() ? "" : "; ") + (t.empty() ? "" : t + ": ") + text(d.value("message", json(nullptr)));
    }
  } else if (field.empty() && details.is_array() && details.size() == 1) {
    field = target_of(details[0]);
  }
  if (message.empty()) message = "HTTP " + std::to_string(status);
  return {message, field};
}

class ODataConnection : public annex::Connection {
 public:
  explicit ODataConnection(const json& settings) {
    std::string url = settings.value("url", std::string{});
    if (url.empty()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "url is required: the root the services' paths follow", "url");
    try {
      uri_ = Poco::URI(url);
    } catch (const Poco::Exception& e) {
      throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "url: " + e.displayText(), "url");
    }
    if (uri_.getScheme() != "http" && uri_.getScheme() != "https") throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "url: http or https", "url");
    root_ = uri_.getPath();
    if (root_.empty() || root_.back() != '/') root_ += "/";
    std::string version = settings.value("version", std::string("v4"));
    if (version != "v4" && version != "v2") throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "version: v4 or v2", "version");
    v2_ = version == "v2";
    auth_ = settings.value("auth", std::string("basic"));
    if (auth_ == "basic") {
      user_ = settings.value("user", std::string{});
      if (user_.empty()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "user is required for basic auth", "user");
      basic_ = "Basic " + annex_connectors::base64(user_ + ":" + settings.value("password", std::string{}));
    } else if (auth_ == "oauth2") {
      for (const char* k : {"token_url", "client_id", "client_secret"}) {
        if (settings.value(k, std::string{}).empty()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, std::string(k) + " is required for oauth2", k);
      }
      try {
        token_uri_ = Poco::URI(settings["token_url"].get<std::string>());
      } catch (const Poco::Exception& e) {
        throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "token_url: " + e.displayText(), "token_url");
      }
      user_ = settings["client_id"].get<std::string>();
      client_secret_ = settings["client_secret"].get<std::string>();
      scope_ = settings.value("scope", std::string{});
    } else {
      throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "auth: basic or oauth2", "auth");
    }
    timeout_s_ = settings.value("timeout_s", 30);
    batch_size_ = settings.value("batch_size", 100);
    if (batch_size_ < 1 || batch_size_ > 1000) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "batch_size: 1 to 1000", "batch_size");
    chunk_ = batch_size_;
    atomic_ = settings.value("atomic", false);
    auto tls = annex_connectors::tls_context(settings.value("ca_file", std::string{}), settings.value("verify", true));
    http_ = std::make_unique<annex_connectors::KeptAliveHttp>(uri_, tls, timeout_s_, uri_.getAuthority());
    prefetch_http_ = std::make_unique<annex_connectors::KeptAliveHttp>(uri_, tls, timeout_s_, uri_.getAuthority());
    if (auth_ == "oauth2") token_http_ = std::make_unique<annex_connectors::KeptAliveHttp>(token_uri_, tls, timeout_s_, token_uri_.getAuthority());
    const json streams = settings.value("streams", json::object());  // a named value: items() of a temporary dangles
    if (!streams.is_object() || streams.empty()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "streams: name at least one", "streams");
    for (const auto& [name, def] : streams.items()) {
      Stream s;
      s.service = def.value("service", std::string{});
      s.entity_set = def.value("entity_set", std::string{});
      s.key = def.value("key", std::vector<std::string>{});
      s.fields = def.value("fields", std::vector<std::string>{});
      s.changed_field = def.value("changed_field", s.changed_field);
      s.paging = def.value("paging", s.paging);
      if (s.paging != "keyset" && s.paging != "server") {
        throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "stream " + name + ": paging is keyset or server", "streams");
      }
      if (s.changed_field.empty() && s.paging == "server") {
        throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "stream " + name + ": a stream without changed_field is read in key order (paging keyset)",
                           "streams");
      }
      s.if_match = def.value("if_match", true);
      s.expand = def.value("expand", std::string{});
      s.filter = def.value("filter", std::string{});
      s.create_defaults = def.value("create_defaults", json::object());
      if (!s.create_defaults.is_object()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "stream " + name + ": create_defaults is an object", "streams");
      if (s.service.empty() || s.entity_set.empty() || s.key.empty()) {
        throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "stream " + name + ": service, entity_set and key are required", "streams");
      }
      for (const auto& f : s.key) {
        if (!s.fields.empty() && std::find(s.fields.begin(), s.fields.end(), f) == s.fields.end()) s.fields.push_back(f);
      }
      streams_[name] = s;
    }
  }

  // Reads each service's $metadata, and checks the right to write where that can be done without writing: an
  // update of a row with an ETag that cannot match is answered 412 for a user who may write and 403 for one who
  // may not, and changes nothing either way. Entity sets without ETags (or empty) say that only reading was checked.
  std::string check() override {
    std::set<std::string> services;
    for (const auto& [name, s] : streams_) services.insert(s.service);
    for (const auto& service : services) {
      auto r = request("GET", root_ + service + "/$metadata", "");
      if (r.status != 200) fail_call(r.status, "reading " + service + "/$metadata", r.text);
    }
    std::vector<std::string> writable, unchecked;
    for (const auto& [name, st] : streams_) {
      Response row = request("GET", service_root(st) + st.entity_set + "?$top=1", "");
      if (row.status != 200) fail_call(row.status, "reading " + st.entity_set, row.text);
      json page = parse_exact(row.text);
      json rows = rows_of(page);
      std::string etag = rows.is_array() && !rows.empty() ? etag_of(rows[0]) : "";
      std::string url = etag.empty() ? "" : entity_url(st, remote_id_of(st, clean(rows[0], v2_)));
      if (url.empty()) {
        unchecked.push_back(name);
        continue;
      }
      Response probe = request(v2_ ? "MERGE" : "PATCH", service_root(st) + url, "{}",
                               {{"Content-Type", "application/json"}, {"If-Match", "W/\"annex-write-check\""}});
      if (probe.status == 401 || probe.status == 403) {
        throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, user_ + " may read " + st.entity_set + " but not write it (HTTP " +
                                                            std::to_string(probe.status) + "); stream " + name + " cannot push");
      }
      if (probe.status == 412) writable.push_back(name);
      else unchecked.push_back(name);
    }
    std::string detail = "reached " + std::to_string(services.size()) + " service(s) at " + uri_.toString() + " as " + user_;
    if (!writable.empty()) {
      std::string names;
      for (const auto& n : writable) names += (names.empty() ? "" : ", ") + n;
      detail += "; may write " + names;
    }
    if (!unchecked.empty()) {
      std::string names;
      for (const auto& n : unchecked) names += (names.empty() ? "" : ", ") + n;
      detail += "; only reading was checked for " + names + " (no row with an ETag to test a write against)";
    }
    return json({{"detail", detail}}).dump();
  }

  std::string discover() override {
    json streams = json::array();
    for (const auto& [name, s] : streams_) {
      streams.push_back({{"name", name}, {"entity_set", s.entity_set}, {"key", s.key}, {"cursor_field", s.changed_field},
                         {"fields", s.fields}, {"readable", true}, {"writable", true}});
    }
    return json({{"streams", streams}}).dump();
  }

  std::string read(std::string_view stream_name, std::string_view cursor_json, uint32_t page_size) override {
    const Stream& st = stream(stream_name);
    json cursor = cursor_json.empty() ? json::object() : json::parse(cursor_json, nullptr, false);
    if (!cursor.is_object()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "cursor: not one this connector wrote");
    if (st.paging == "server" && !st.changed_field.empty()) return read_by_links(st, cursor, page_size);
    return read_by_keyset(st, cursor, page_size);
  }

  std::string write(std::string_view stream_name, std::string_view records_json) override {
    const Stream& st = stream(stream_name);
    json items = json::parse(records_json, nullptr, false);
    if (!items.is_array()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "records: a JSON array");
    json results = json::array();
    std::vector<Exchange> ops(items.size());
    std::vector<size_t> sending, rereading;
    for (size_t i = 0; i < items.size(); ++i) {
      results.push_back(nullptr);
      json body = items[i].value("record", json::object());
      for (const char* k : {"_id", "_etag"}) body.erase(k);
      const json& remote_id = items[i].value("remote_id", json(nullptr));
      Exchange& op = ops[i];
      op.update_body = body;
      for (const auto& k : st.key) op.update_body.erase(k);  // keys are the address, never changed by a PATCH
      op.body = std::move(body);
      if (remote_id.is_null()) {
        for (const auto& [field, value] : st.create_defaults.items()) {
          if (!op.body.contains(field) || op.body[field].is_null()) op.body[field] = value;
        }
        op.method = "POST";
        op.url = st.entity_set;
        sending.push_back(i);
        continue;
      }
      std::string id = remote_id.is_string() ? remote_id.get<std::string>() : remote_id.dump();
      op.url = entity_url(st, id);
      if (op.url.empty()) {
        results[i] = {{"status", "rejected"}, {"reason", "remote id " + id + " is not a key of " + st.entity_set}};
        continue;
      }
      op.method = v2_ ? "MERGE" : "PATCH";
      op.body = op.update_body;
      if (!st.if_match) {
        sending.push_back(i);  // configured so: an entity set without ETags, written without optimistic locking
        continue;
      }
      op.if_match = items[i].value("remote_version", json(nullptr)).is_string() ? items[i]["remote_version"].get<std::string>() : "";
      // Without a known ETag (the version was never read) the entity is read first: never a blind overwrite.
      (op.if_match.empty() ? rereading : sending).push_back(i);
    }
    for (int round = 0; (!sending.empty() || !rereading.empty()) && round < 4; ++round) {
      if (!rereading.empty()) reread(st, ops, rereading, sending, results);
      rereading.clear();
      std::vector<size_t> again;
      exchange(st, ops, sending);
      settle_failures(st, ops, sending);
      for (size_t i : sending) {
        Exchange& op = ops[i];
        if (op.status == -1) {  // saved nowhere: its atomicity group failed on another member
          again.push_back(i);
        } else if (op.status >= 200 && op.status < 300) {
          std::string id = op.method == "POST" ? remote_id_of(st, op.answer.is_object() && op.answer.contains(st.key[0]) ? op.answer : op.body)
                                               : items[i]["remote_id"].get<std::string>();
          results[i] = {{"status", op.method == "POST" ? "created" : "updated"}, {"remote_id", id}, {"remote_version", op.etag}};
        } else if (op.status == 412 || op.status == 428) {
          rereading.push_back(i);  // changed in the service since Annex saw it: read its ETag again, send again
        } else if (op.method == "POST" && already_exists(op) && !remote_id_of(st, op.body).empty()) {
          // Sent before, its answer lost: the record is the service's now — written, not created twice.
          items[i]["remote_id"] = remote_id_of(st, op.body);
          op.url = entity_url(st, items[i]["remote_id"].get<std::string>());
          op.method = v2_ ? "MERGE" : "PATCH";
          op.body = op.update_body;
          rereading.push_back(i);
        } else if (op.status == 404 && op.method != "POST") {
          results[i] = {{"status", "rejected"}, {"reason", st.entity_set + " " + items[i]["remote_id"].get<std::string>() + " no longer exists in the service"}};
        } else if (op.status >= 500) {
          // The service failed on this record alone (it answered the others): tried again later, a dead letter
          // after the connection's attempts.
          auto [reason, field] = refusal(op.answer, op.status);
          results[i] = {{"status", "failed"}, {"reason", reason + " (HTTP " + std::to_string(op.status) + ")"}};
          if (!field.empty()) results[i]["field"] = field;
        } else {
          auto [reason, field] = refusal(op.answer, op.status);
          results[i] = {{"status", "rejected"}, {"reason", reason}};
          if (!field.empty()) results[i]["field"] = field;
        }
      }
      sending = std::move(again);
    }
    for (size_t i = 0; i < items.size(); ++i) {
      if (results[i].is_null()) {
        results[i] = {{"status", "rejected"}, {"reason", "changed in the service again on every attempt to write it"}};
      }
    }
    return json({{"results", results}}).dump();
  }

 private:
  using Response = annex_connectors::HttpAnswer;

  // Pages by the service's next links (paging "server"). Deltas by `changed ge <watermark>`; see the top of the file.
  //
  // Such a service pages by offsets (a $skiptoken) in its own order, so a row deleted behind the reader shifts one
  // not yet read onto a page already read, and a row read early may change again before the run ends (its change
  // then older than the newest one seen). So each pass over the rows counts them first and last ($count): a pass
  // is complete when the rows the filter holds at its end are those it held at its start and every one was read.
  // An incomplete pass is followed by another one over the same rows (the engine finds those it holds unchanged
  // and applies what the first pass missed or what changed since). After kChecks incomplete passes the watermark
  // stays where the run began: the next run reads those rows again. And the next run's watermark is never later
  // than the service's clock (its Date header) when the run began.
  static constexpr int kChecks = 3;
  std::string read_by_links(const Stream& st, const json& cursor, uint32_t page_size) {
    const std::string since = cursor.value("since", std::string{});
    const json seen = cursor.value("seen", json::array());  // "key etag" of the rows already taken at `since`
    std::string newest = cursor.value("newest", since);
    json newest_seen = cursor.value("newest_seen", seen);
    const std::string next = cursor.value("next", std::string{});
    const int pass = cursor.value("pass", 0);              // 0: the run's reading; then the checks'
    int64_t expected = cursor.value("expected", int64_t{-1});  // the rows the filter held when this pass began
    int64_t taken = cursor.value("taken", int64_t{0});          // the rows this pass has read
    std::string started = cursor.value("started", std::string{});  // the service's clock when the run began
    const std::map<std::string, std::string> prefer = {{"Prefer", "odata.maxpagesize=" + std::to_string(page_size)}};
    std::string target;
    if (next.empty()) {  // a pass begins: the rows it is to read are counted first
      Count counted = count_rows(st, since);
      expected = counted.rows;
      if (pass == 0) started = counted.clock;
      target = links_target(st, since, false);
    } else {
      target = resolve(st, next);
    }
    std::optional<Response> ahead = read_ahead_.take(target);
    Response r = ahead && ahead->status == 200 ? *ahead : request("GET", target, "", prefer);
    if (r.status != 200) fail_call(r.status, "reading " + st.entity_set, r.text);
    json page = parse_exact(r.text);
    std::string more = next_link_of(page);
    // The next page is asked for now, on a second connection, while this one is turned into records and stored:
    // the service's round trips, not Annex, then set the pace.
    if (!more.empty()) prefetch(resolve(st, more), prefer);
    json rows = rows_of(page);
    if (!rows.is_array()) throw annex::Error(ANNEX_ERR_UNAVAILABLE, "reading " + st.entity_set + ": the answer holds no rows");
    taken += static_cast<int64_t>(rows.size());
    std::set<std::string> skip;
    for (const auto& m : seen) skip.insert(m.is_string() ? m.get<std::string>() : m.dump());
    json records = json::array();
    for (const auto& row : rows) {
      std::string etag = etag_of(row);
      json rec = clean(row, v2_);
      std::string id = remote_id_of(st, rec);
      std::string changed = rec.value(st.changed_field, json("")).is_string() ? rec.value(st.changed_field, std::string{}) : "";
      rec["_id"] = id;
      rec["_etag"] = etag;
      std::string mark = id + " " + etag;
      if (!since.empty() && changed == since && skip.count(mark)) continue;  // taken by the run before, at the watermark
      if (changed > newest) {
        newest = changed;
        newest_seen = json::array();
      }
      if (changed == newest) newest_seen.push_back(mark);
      records.push_back(std::move(rec));
    }
    json next_cursor = {{"since", since}, {"seen", seen}, {"newest", newest}, {"newest_seen", newest_seen}, {"started", started}};
    bool done = false;
    if (!more.empty()) {  // within a pass the cursor follows the service's pages
      next_cursor.update({{"pass", pass}, {"expected", expected}, {"taken", taken}, {"next", more}});
    } else if (int64_t now = count_rows(st, since).rows; now == expected && taken == now) {
      next_cursor = watermark(newest, newest_seen, started);  // complete: the next run starts at the newest change
      done = true;
    } else if (pass < kChecks) {
      next_cursor["pass"] = pass + 1;  // the same rows again, from the first page
    } else {
      next_cursor = {{"since", since}, {"seen", seen}};  // never complete: the next run reads them again
      done = true;
    }
    // A page whose rows were all taken before is no end: the next one is read now rather than answered empty.
    if (!done && records.empty()) return read_by_links(st, next_cursor, page_size);
    json answer = json::object();  // filled by moves: an initializer list would copy every record
    answer["records"] = std::move(records);
    answer["cursor"] = std::move(next_cursor);
    answer["done"] = done;
    return answer.dump();
  }

  // The first page of a link-paged reading, or (`count`) the URL that counts its rows.
  std::string links_target(const Stream& st, const std::string& since, bool count) const {
    std::vector<std::string> options;
    // In the service's own order (its key, usually indexed): the newest change is tracked over the whole run, so
    // the rows need no sorting by time.
    if (!count) {
      if (std::string select = select_option(st); !select.empty()) options.push_back(select);
      if (!st.expand.empty()) options.push_back("$expand=" + pct(st.expand));
    }
    std::string filter = st.filter.empty() ? "" : "(" + st.filter + ")";
    if (!since.empty()) filter += (filter.empty() ? "" : " and ") + st.changed_field + " ge " + time_literal(since);
    if (!filter.empty()) options.push_back("$filter=" + pct(filter));
    std::string query;
    for (const auto& o : options) query += (query.empty() ? "?" : "&") + o;
    return service_root(st) + st.entity_set + (count ? "/$count" : "") + query;
  }

  // How many rows a link-paged reading holds now, and the service's clock when it said so.
  struct Count {
    int64_t rows = 0;
    std::string clock;
  };
  Count count_rows(const Stream& st, const std::string& since) {
    Response r = request("GET", links_target(st, since, true), "");
    if (r.status != 200) fail_call(r.status, "counting " + st.entity_set + " (paging \"server\" checks each run by $count)", r.text);
    std::string text = Poco::trim(r.text);
    if (text.empty() || text.size() > 18 || !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
      throw annex::Error(ANNEX_ERR_UNAVAILABLE, "counting " + st.entity_set + ": the service answered no number to $count");
    }
    return {std::stoll(text), service_clock(r.date, true)};
  }

  // The service's clock from a Date header ("Thu, 03 Dec 2026 03:48:36 GMT": whole seconds, so up to one early),
  // as the services write their change times. Without one: "", or with `fallback` Annex's own clock five minutes
  // early (a margin for the two clocks' difference).
  static std::string service_clock(const std::string& date, bool fallback = false) {
    Poco::DateTime at;
    int tzd = 0;
    if (!date.empty() && Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::HTTP_FORMAT, date, at, tzd)) {
      at.makeUTC(tzd);
    } else if (fallback) {
      at = Poco::DateTime() - Poco::Timespan(300, 0);
    } else {
      return "";
    }
    return Poco::DateTimeFormatter::format(at, "%Y-%m-%dT%H:%M:%S.%iZ");
  }

  // The next run's watermark: the newest change seen, unless the run began before it (a row read early may have
  // changed after, at a time older than the newest one): then the run's beginning, with no row seen at it.
  static json watermark(const std::string& newest, const json& newest_seen, const std::string& started) {
    Poco::DateTime a, b;
    int ta = 0, tb = 0;
    if (!started.empty() && Poco::DateTimeParser::tryParse(started, a, ta) && Poco::DateTimeParser::tryParse(newest, b, tb)) {
      a.makeUTC(ta);
      b.makeUTC(tb);
      if (a < b) return {{"since", started}, {"seen", json::array()}};
    }
    return {{"since", newest}, {"seen", newest_seen}};
  }

  // A page's rows (V4 "value", V2 "d" or "d.results"); null when the answer holds none.
  json rows_of(const json& page) const {
    if (!v2_) return page.value("value", json(nullptr));
    json rows = page.value("d", json(nullptr));
    return rows.is_object() ? rows.value("results", json(nullptr)) : rows;
  }
  // A page's next link (V4 @odata.nextLink, V2 __next), "" on the last page.
  std::string next_link_of(const json& page) const {
    return v2_ ? page.value("d", json::object()).value("__next", std::string{}) : page.value("@odata.nextLink", std::string{});
  }
  // A row's ETag: V4's @odata.etag, V2's __metadata.etag.
  static std::string etag_of(const json& row) {
    if (!row.is_object()) return "";
    std::string etag = row.value("@odata.etag", std::string{});
    if (etag.empty() && row.contains("__metadata") && row["__metadata"].is_object()) etag = row["__metadata"].value("etag", std::string{});
    return etag;
  }

  // The $select of a read: the configured fields, the key's and the change field.
  std::string select_option(const Stream& st) const {
    if (st.fields.empty()) return "";
    std::string select;
    for (const auto& f : st.fields) select += (select.empty() ? "" : ",") + f;
    if (!st.changed_field.empty() && std::find(st.fields.begin(), st.fields.end(), st.changed_field) == st.fields.end()) {
      select += "," + st.changed_field;
    }
    return "$select=" + pct(select);
  }

  // A value as a literal of a $filter (percent-encoded later with the whole filter).
  std::string filter_literal(const json& v) const {
    if (v.is_number() || v.is_boolean()) return v.dump();
    std::string quoted;
    for (char c : text_of(v)) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    return "'" + quoted + "'";
  }
  std::string time_literal(const std::string& t) const { return v2_ ? "datetimeoffset'" + t + "'" : t; }

  // Rows after `after` in the order of `fields` (the change time, then the key's fields):
  // (f0 gt v0) or (f0 eq v0 and f1 gt v1) or …
  std::string after_predicate(const std::vector<std::string>& fields, const std::vector<std::string>& literals) const {
    std::string out;
    for (size_t i = 0; i < fields.size(); ++i) {
      std::string term;
      for (size_t j = 0; j < i; ++j) term += fields[j] + " eq " + literals[j] + " and ";
      term += fields[i] + " gt " + literals[i];
      out += (out.empty() ? "(" : " or (") + term + ")";
    }
    return out;
  }

  // The URL of the page `cursor` stands before: the rows changed since the watermark, in key order, after the
  // last key taken this run.
  std::string keyset_target(const Stream& st, const json& cursor, uint32_t page_size) const {
    const std::string since = cursor.value("since", std::string{});
    const json after = cursor.value("after", json(nullptr));  // {"key": [...]}: the last row taken this run
    std::string filter = st.filter.empty() ? "" : "(" + st.filter + ")";
    if (!st.changed_field.empty() && !since.empty()) filter += (filter.empty() ? "" : " and ") + st.changed_field + " ge " + time_literal(since);
    if (after.is_object()) {
      std::vector<std::string> literals;
      const json keys = after.value("key", json::array());
      for (size_t i = 0; i < st.key.size(); ++i) literals.push_back(filter_literal(i < keys.size() ? keys[i] : json("")));
      filter += (filter.empty() ? "" : " and ") + std::string("(") + after_predicate(st.key, literals) + ")";
    }
    std::string orderby;
    for (const auto& f : st.key) orderby += (orderby.empty() ? "" : ",") + f + " asc";
    std::vector<std::string> options;
    if (std::string select = select_option(st); !select.empty()) options.push_back(select);
    if (!st.expand.empty()) options.push_back("$expand=" + pct(st.expand));
    if (!filter.empty()) options.push_back("$filter=" + pct(filter));
    options.push_back("$orderby=" + pct(orderby));
    options.push_back("$top=" + std::to_string(page_size));
    std::string query;
    for (const auto& o : options) query += (query.empty() ? "?" : "&") + o;
    return service_root(st) + st.entity_set + query;
  }

  // Pages in key order (the service's primary index), each asking for the rows after the last key taken: a run
  // stopped midway resumes after that row, and a row deleted meanwhile shifts nothing. A row already passed that
  // changes during the run is read by the next one, whose watermark is never later than the service's clock
  // when this run began. Without a change field every run reads all rows, and its pages say so ("compare":
  // "content"), so that only what changed is applied.
  std::string read_by_keyset(const Stream& st, const json& cursor, uint32_t page_size) {
    const bool delta = !st.changed_field.empty();
    const std::string since = cursor.value("since", std::string{});
    const json seen = cursor.value("seen", json::array());  // "key etag" of the rows already taken at `since`
    const std::string target = keyset_target(st, cursor, page_size);
    std::optional<Response> ahead = read_ahead_.take(target);
    Response r = ahead && ahead->status == 200 ? *ahead : request("GET", target, "");
    if (r.status != 200) fail_call(r.status, "reading " + st.entity_set, r.text);
    json page = parse_exact(r.text);
    json rows = rows_of(page);
    if (!rows.is_array()) throw annex::Error(ANNEX_ERR_UNAVAILABLE, "reading " + st.entity_set + ": the answer holds no rows");
    // A service that pages below $top says so with a next link: the page is then not the last one.
    const bool more = !next_link_of(page).empty();
    std::set<std::string> skip;
    for (const auto& m : seen) skip.insert(m.is_string() ? m.get<std::string>() : m.dump());
    json records = json::array();
    json last = cursor.value("after", json(nullptr));
    std::string newest = cursor.value("newest", since);
    json newest_seen = cursor.value("newest_seen", seen);
    // The service's clock when the run's first page was asked for (Annex's, five minutes early, if it sends none).
    std::string started = cursor.value("started", std::string{});
    if (delta && !last.is_object() && started.empty()) started = service_clock(r.date, true);
    for (const auto& row : rows) {
      std::string etag = etag_of(row);
      json rec = clean(row, v2_);
      json key = json::array();
      for (const auto& k : st.key) key.push_back(rec.contains(k) ? rec[k] : json(""));
      last = {{"key", key}};
      std::string id = remote_id_of(st, rec);
      rec["_id"] = id;
      rec["_etag"] = etag;
      if (delta) {
        std::string changed = rec.value(st.changed_field, json("")).is_string() ? rec.value(st.changed_field, std::string{}) : "";
        std::string mark = id + " " + etag;
        if (!since.empty() && changed == since && skip.count(mark)) continue;  // taken by the run before, at the watermark
        if (changed > newest) {
          newest = changed;
          newest_seen = json::array();
        }
        if (changed == newest) newest_seen.push_back(mark);
      }
      records.push_back(std::move(rec));
    }
    const bool done = rows.empty() || (rows.size() < page_size && !more);
    json next_cursor = json::object();
    if (!done) {
      next_cursor = {{"after", last}};
      if (delta) next_cursor.update({{"since", since}, {"seen", seen}, {"newest", newest}, {"newest_seen", newest_seen}, {"started", started}});
      // Every row of this page was taken before: the next one is read now rather than answered empty.
      if (records.empty()) return read_by_keyset(st, next_cursor, page_size);
      // The next page is asked for now, on a second connection, while this one is stored.
      prefetch(keyset_target(st, next_cursor, page_size), {});
    } else if (delta) {
      next_cursor = watermark(newest, newest_seen, started);
    }
    json answer = json::object();  // filled by moves: an initializer list would copy every record
    answer["records"] = std::move(records);
    answer["cursor"] = std::move(next_cursor);
    answer["done"] = done;
    if (!delta) answer["compare"] = "content";
    return answer.dump();
  }

  const Stream& stream(std::string_view name) const {
    auto it = streams_.find(std::string(name));
    if (it == streams_.end()) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no stream " + std::string(name) + " in the settings");
    return it->second;
  }

  std::string service_root(const Stream& st) const { return root_ + st.service + "/"; }

  // A next link as a path on this connection's host: V4's are relative to the service root, V2's absolute (and
  // may name another host spelling, such as localhost): only their path and query are used.
  std::string resolve(const Stream& st, const std::string& link) const {
    if (link.rfind("http://", 0) == 0 || link.rfind("https://", 0) == 0) return Poco::URI(link).getPathEtc();
    if (!link.empty() && link[0] == '/') return link;
    return service_root(st) + link;
  }

  static std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

  // The record's key as the engine binds it: the value, or "K1='a',K2='b'" for a composite key, the values
  // percent-encoded so the text is also the key predicate's.
  std::string remote_id_of(const Stream& st, const json& rec) const {
    if (st.key.size() == 1) return rec.contains(st.key[0]) ? text_of(rec[st.key[0]]) : "";
    std::string id;
    for (const auto& k : st.key) id += (id.empty() ? "" : ",") + k + "=" + literal(rec.contains(k) ? rec[k] : json(""));
    return id;
  }

  static std::string literal(const json& v) {
    if (v.is_number() || v.is_boolean()) return v.dump();
    std::string s = text_of(v), quoted;
    for (char c : s) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    return "'" + pct(quoted) + "'";
  }

  // The entity's URL (relative to the service root) for a bound remote id; "" when the id cannot be one.
  std::string entity_url(const Stream& st, const std::string& id) const {
    if (id.empty()) return "";
    if (st.key.size() == 1) return st.entity_set + "(" + literal(json(id)) + ")";
    // A composite id is one this connector wrote: only the characters of a percent-encoded predicate.
    for (char c : id) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && std::string("_.~-%'=,").find(c) == std::string::npos) return "";
    }
    return st.entity_set + "(" + id + ")";
  }

  static bool already_exists(const Exchange& op) {
    if (op.status == 409 || op.exists) return true;
    const json error = op.answer.is_object() ? op.answer.value("error", json(nullptr)) : json(nullptr);
    return op.status == 400 && error.is_object() && error.value("code", std::string{}) == "ENTITY_ALREADY_EXISTS";
  }

  // Reads the entities at `rows` again (their current ETag), and queues their updates in `sending`.
  void reread(const Stream& st, std::vector<Exchange>& ops, const std::vector<size_t>& rows, std::vector<size_t>& sending, json& results) {
    std::vector<Exchange> reads(ops.size());
    for (size_t i : rows) {
      reads[i].method = "GET";
      reads[i].url = ops[i].url;
    }
    exchange(st, reads, rows);
    for (size_t i : rows) {
      if (reads[i].status == 200 && (!reads[i].etag.empty() || !st.if_match)) {
        ops[i].if_match = reads[i].etag;
        sending.push_back(i);
      } else if (reads[i].status == 404) {
        results[i] = {{"status", "rejected"}, {"reason", ops[i].url + " no longer exists in the service"}};
      } else {
        auto [reason, field] = refusal(reads[i].answer, reads[i].status);
        results[i] = {{"status", "rejected"}, {"reason", "reading " + ops[i].url + " again: " + reason}};
      }
    }
  }

  // Sends the requests at `rows` and fills in their answers: JSON $batch in chunks for V4, one request at a time
  // for V2. A member of a failed atomicity group that reported success gets status -1: it was not saved.
  void exchange(const Stream& st, std::vector<Exchange>& ops, const std::vector<size_t>& rows) {
    if (v2_ && !v2_batch_) {
      for (size_t i : rows) {
        Exchange& op = ops[i];
        std::map<std::string, std::string> headers;
        if (!op.if_match.empty()) headers["If-Match"] = op.if_match;
        auto r = request(op.method, service_root(st) + op.url, op.method == "GET" ? "" : op.body.dump(), headers);
        settle(op, r.status, r.text, r.etag);
      }
      return;
    }
    if (v2_) {
      for (size_t at = 0; at < rows.size();) {
        size_t n = std::min(rows.size() - at, static_cast<size_t>(chunk_));
        std::vector<size_t> part(rows.begin() + static_cast<std::ptrdiff_t>(at), rows.begin() + static_cast<std::ptrdiff_t>(at + n));
        if (!exchange_v2_batch(st, ops, part)) return exchange(st, ops, std::vector<size_t>(rows.begin() + static_cast<std::ptrdiff_t>(at), rows.end()));
        at += n;
      }
      return;
    }
    for (size_t at = 0; at < rows.size();) {
      size_t n = std::min(rows.size() - at, static_cast<size_t>(chunk_));
      std::vector<size_t> part(rows.begin() + static_cast<std::ptrdiff_t>(at), rows.begin() + static_cast<std::ptrdiff_t>(at + n));
      json requests = json::array();
      for (size_t i : part) {
        const Exchange& op = ops[i];
        json req = {{"id", std::to_string(i)}, {"method", op.method}, {"url", op.url}};
        json headers = {{"accept", "application/json"}};
        if (op.method != "GET") {
          headers["content-type"] = "application/json";
          req["body"] = op.body;
        }
        if (!op.if_match.empty()) headers["if-match"] = op.if_match;
        req["headers"] = headers;
        if (atomic_ && op.method != "GET") req["atomicityGroup"] = "g";
        requests.push_back(std::move(req));
      }
      auto r = request("POST", service_root(st) + "$batch", json({{"requests", requests}}).dump());
      if (r.status == 413 && chunk_ > 1) {
        chunk_ = std::max(1, static_cast<int>(n / 2));  // the service's body limit: smaller chunks from now on
        continue;
      }
      if (r.status != 200) fail_call(r.status, "$batch on " + st.service, r.text);
      json answer = parse_exact(r.text);
      const json responses = answer.value("responses", json::array());  // named: by_id points into it
      std::map<std::string, const json*> by_id;
      for (const auto& resp : responses) {
        if (resp.is_object() && resp.contains("id")) by_id[text_of(resp["id"])] = &resp;
      }
      bool group_failed = false;
      for (size_t i : part) {
        auto found = by_id.find(std::to_string(i));
        if (found == by_id.end()) throw annex::Error(ANNEX_ERR_UNAVAILABLE, "$batch on " + st.service + ": no answer for request " + std::to_string(i));
        const json& resp = *found->second;
        json headers = resp.value("headers", json::object());
        std::string etag;
        for (const auto& [h, v] : headers.items()) {
          if (Poco::icompare(h, "etag") == 0 && v.is_string()) etag = v.get<std::string>();
        }
        settle(ops[i], resp.value("status", 0), "", etag, resp.value("body", json(nullptr)));
        if (ops[i].status < 200 || ops[i].status >= 300) group_failed = true;
      }
      if (atomic_ && group_failed) {
        for (size_t i : part) {
          if (ops[i].status >= 200 && ops[i].status < 300 && ops[i].method != "GET") ops[i].status = -1;
        }
      }
      at += n;
    }
  }

  // The requests at `rows` the service answered with a 5xx: the connection's failure when the service is not
  // answering reads either (the call ends, the engine retries and its circuit breaker counts it); otherwise each is
  // sent again alone — in a batch a failure may follow another member — and a create that fails again is read
  // back: stock services answer a duplicate key with a 500, and a create whose answer was lost is the service's
  // already. What still fails is that record's failure.
  void settle_failures(const Stream& st, std::vector<Exchange>& ops, const std::vector<size_t>& rows) {
    std::vector<size_t> failed;
    for (size_t i : rows) {
      if (ops[i].status >= 500) failed.push_back(i);
    }
    if (failed.empty()) return;
    const Exchange& first = ops[failed[0]];
    if (failed.size() == rows.size()) {
      Response probe = request("GET", service_root(st) + st.entity_set + "?$top=1&$select=" + pct(st.key[0]), "");
      if (probe.status != 200) fail_call(first.status, first.method + " " + first.url, first.answer.dump());
    }
    if (rows.size() > 1) {
      for (size_t i : failed) exchange(st, ops, {i});
    }
    for (size_t i : failed) {
      Exchange& op = ops[i];
      if (op.status < 500 || op.method != "POST") continue;
      const std::string url = entity_url(st, remote_id_of(st, op.body));
      if (url.empty()) continue;
      Response back = request("GET", service_root(st) + url, "");
      if (back.status == 200) op.exists = true;
    }
  }

  // One V2 $batch in multipart form (OData V2 part 1, 2.2.7.6): each write in a changeset of its own (V2 answers a
  // failed changeset with one error for all of it, which would not say which member failed), reads outside any.
  // Answers come in the requests' order. False when the service takes no $batch (then requests go one by one).
  bool exchange_v2_batch(const Stream& st, std::vector<Exchange>& ops, const std::vector<size_t>& part) {
    const std::string batch = "batch_annex_" + std::to_string(++batches_);
    std::string body;
    for (size_t i : part) {
      const Exchange& op = ops[i];
      std::string http = op.method + " " + op.url + " HTTP/1.1\r\nAccept: application/json\r\n";
      if (!op.if_match.empty()) http += "If-Match: " + op.if_match + "\r\n";
      if (op.method != "GET") {
        const std::string payload = op.body.dump();
        http += "Content-Type: application/json\r\nContent-Length: " + std::to_string(payload.size()) + "\r\n\r\n" + payload + "\r\n";
      } else {
        http += "\r\n";
      }
      const std::string wrapped = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" + http;
      if (op.method == "GET") {
        body += "--" + batch + "\r\n" + wrapped;
      } else {
        const std::string changeset = "changeset_" + std::to_string(i) + "_" + batch;
        body += "--" + batch + "\r\nContent-Type: multipart/mixed; boundary=" + changeset + "\r\n\r\n--" + changeset + "\r\n" + wrapped +
                "--" + changeset + "--\r\n";
      }
    }
    body += "--" + batch + "--\r\n";
    Response r = request("POST", service_root(st) + "$batch", body, {{"Content-Type", "multipart/mixed; boundary=" + batch}});
    if (r.status == 404 || r.status == 405 || r.status == 501) {
      v2_batch_ = false;
      return false;
    }
    if (r.status == 413 && chunk_ > 1) {
      chunk_ = std::max(1, static_cast<int>(part.size() / 2));
      for (size_t at = 0; at < part.size(); at += static_cast<size_t>(chunk_)) {
        std::vector<size_t> half(part.begin() + static_cast<std::ptrdiff_t>(at),
                                 part.begin() + static_cast<std::ptrdiff_t>(std::min(part.size(), at + static_cast<size_t>(chunk_))));
        if (!exchange_v2_batch(st, ops, half)) return false;
      }
      return true;
    }
    if (r.status != 200 && r.status != 202) fail_call(r.status, "$batch on " + st.service, r.text);
    std::vector<Response> answers = multipart_answers(r.content_type, r.text);
    if (answers.size() != part.size()) {
      throw annex::Error(ANNEX_ERR_UNAVAILABLE, "$batch on " + st.service + ": " + std::to_string(answers.size()) + " answers for " +
                                                    std::to_string(part.size()) + " requests");
    }
    for (size_t k = 0; k < part.size(); ++k) settle(ops[part[k]], answers[k].status, answers[k].text, answers[k].etag);
    return true;
  }

  // The HTTP answers inside a multipart/mixed $batch answer, changesets opened, in order.
  static std::vector<Response> multipart_answers(const std::string& content_type, const std::string& text) {
    std::vector<Response> out;
    Poco::Net::MediaType type(content_type);
    if (!type.hasParameter("boundary")) return out;
    std::istringstream in(text);
    Poco::Net::MultipartReader reader(in, type.getParameter("boundary"));
    while (reader.hasNextPart()) {
      Poco::Net::MessageHeader header;
      reader.nextPart(header);
      std::string content;
      Poco::StreamCopier::copyToString(reader.stream(), content);
      Poco::Net::MediaType part_type(header.get("Content-Type", "application/http"));
      if (part_type.matches("multipart", "mixed")) {
        for (auto& a : multipart_answers(header.get("Content-Type"), content)) out.push_back(std::move(a));
        continue;
      }
      std::istringstream http(content);
      Poco::Net::HTTPResponse response;
      response.read(http);
      Response answer;
      answer.status = static_cast<int>(response.getStatus());
      answer.etag = response.get("ETag", "");
      Poco::StreamCopier::copyToString(http, answer.text);
      out.push_back(std::move(answer));
    }
    return out;
  }

  // Takes one answer: the connection's failures (credentials, rights, throttling) end the call; a 5xx is kept
  // for settle_failures to tell the service's failure from one record's.
  void settle(Exchange& op, int status, const std::string& text, std::string etag, json body = nullptr) {
    if (status == 401 || status == 403 || status == 429) {
      fail_call(status, op.method + " " + op.url, body.is_null() ? text : body.dump());
    }
    op.status = status;
    op.answer = body.is_null() && !text.empty() ? parse_exact(text) : body;
    if (v2_ && op.answer.is_object() && op.answer.contains("d")) op.answer = op.answer["d"];
    if (etag.empty()) etag = etag_of(op.answer);
    op.etag = etag;
  }

  [[noreturn]] void fail_call(int status, const std::string& what, const std::string& text) const {
    json body = parse_exact(text);
    std::string detail = body.is_object() ? refusal(body, status).first : std::to_string(status);
    if (status == 401) throw annex::Error(ANNEX_ERR_UNAUTHENTICATED, "the service refused the credentials of " + user_ + " (HTTP 401)");
    if (status == 403) throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, user_ + " may not do this: " + what + " (HTTP 403: " + detail + ")");
    if (status == 429 || status >= 500 || status == 0) {
      throw annex::Error(ANNEX_ERR_UNAVAILABLE, what + ": the service answered HTTP " + std::to_string(status) + " (" + detail + ")");
    }
    throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, what + ": HTTP " + std::to_string(status) + ": " + detail);
  }

  // Starts GET `target` on the read-ahead connection, with the credentials taken here, on the caller's thread.
  // Anything but a 200 in its answer (a token expired meanwhile) is left to the ordinary path.
  void prefetch(const std::string& target, const std::map<std::string, std::string>& headers) {
    std::string authorization = auth_ == "basic" ? basic_ : bearer();
    read_ahead_.start(target, [this, target, headers, authorization] {
      try {
        return send(*prefetch_http_, "GET", target, "", headers, authorization);
      } catch (const std::exception&) {
        return Response{};  // read again on the ordinary path, which reports the failure
      }
    });
  }

  // One HTTP request on the kept-alive connection, with the credentials (a bearer token fetched, and fetched
  // again once when the service no longer takes it).
  Response request(const std::string& method, const std::string& path, const std::string& body,
                   const std::map<std::string, std::string>& headers = {}) {
    for (int attempt = 0;; ++attempt) {
      std::string authorization = auth_ == "basic" ? basic_ : bearer();
      Response r = send(*http_, method, path, body, headers, authorization);
      if (r.status == 401 && auth_ == "oauth2" && attempt == 0) {
        token_.clear();
        continue;
      }
      return r;
    }
  }

  std::string bearer() {
    if (!token_.empty() && std::chrono::steady_clock::now() < token_expires_) return token_;
    std::string form = "grant_type=client_credentials";
    if (!scope_.empty()) form += "&scope=" + pct(scope_);
    // The client authenticates with HTTP Basic (RFC 6749 2.3.1); its id also goes in the form for servers that
    // look there.
    form += "&client_id=" + pct(user_);
    Response r = token_http_->send("POST", token_uri_.getPathEtc(), form,
                                   {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"},
                                    {"Authorization", "Basic " + annex_connectors::base64(pct(user_) + ":" + pct(client_secret_))}},
                                   false);
    json answer = json::parse(r.text, nullptr, false);
    if (r.status == 400 || r.status == 401) {
      throw annex::Error(ANNEX_ERR_UNAUTHENTICATED, "the token endpoint refused client " + user_ + " (HTTP " + std::to_string(r.status) +
                                                        (answer.is_object() ? ": " + answer.value("error", std::string{}) : std::string{}) + ")");
    }
    if (r.status != 200 || !answer.is_object() || !answer.contains("access_token")) {
      throw annex::Error(ANNEX_ERR_UNAVAILABLE, "the token endpoint answered HTTP " + std::to_string(r.status));
    }
    token_ = "Bearer " + answer["access_token"].get<std::string>();
    int64_t lifetime = answer.value("expires_in", json(3600)).is_number() ? answer["expires_in"].get<int64_t>() : 3600;
    // Renewed a little before it ends, so that no request carries a token that expires on the way.
    token_expires_ = std::chrono::steady_clock::now() + std::chrono::seconds(std::max<int64_t>(1, lifetime - std::min<int64_t>(30, lifetime / 10)));
    return token_;
  }

  // One request to the service on `http`, with its headers: JSON, the OData version, the credentials. A
  // request on a kept-alive connection the service closed meanwhile is sent once more on a new one: creates and
  // If-Match updates are safe to repeat (a repeat is adopted or re-read, never doubled).
  Response send(annex_connectors::KeptAliveHttp& http, const std::string& method, const std::string& path, const std::string& body,
                const std::map<std::string, std::string>& headers, const std::string& authorization) {
    std::map<std::string, std::string> all = {{"Accept", "application/json"}, {"Authorization", authorization}};
    if (!v2_) all["OData-Version"] = "4.0";
    for (const auto& [k, v] : headers) all[k] = v;
    return http.send(method, path, body, all, true);
  }

  Poco::URI uri_, token_uri_;
  std::string root_, auth_, user_, basic_, client_secret_, scope_, token_;
  std::chrono::steady_clock::time_point token_expires_{};
  bool v2_ = false, atomic_ = false;
  bool v2_batch_ = true;  // V2 writes go as multipart $batch until the service says it takes none
  int batches_ = 0;
  int timeout_s_ = 30, batch_size_ = 100, chunk_ = 100;
  // The requests', the pages read ahead, and the token endpoint's connections.
  std::unique_ptr<annex_connectors::KeptAliveHttp> http_, prefetch_http_, token_http_;
  annex_connectors::ReadAhead<Response> read_ahead_;  // a pull's next page; after the connection it uses
  std::map<std::string, Stream> streams_;
};

class ODataConnector : public annex::Connector {
 public:
  std::unique_ptr<annex::Connection> open(std::string_view settings_json) override {
    json settings = json::parse(settings_json, nullptr, false);
    if (!settings.is_object()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "settings: a JSON object");
    return std::make_unique<ODataConnection>(settings);
  }
};

}  // namespace

class ODataPlugin : public annex::Plugin {
 public:
  static constexpr const char* kId = "org.annex.connector.odata";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr annex_plugin_kind kKind = ANNEX_KIND_CONNECTOR;
  static constexpr const char* kManifest = R"({
    "name": "OData connector",
    "description": "S/4HANA-style OData V4 (and V2) services: delta pulls by change time, $batch writes with If-Match, the service's refusals per record.",
    "requires": {},
    "uses": ["annex.log@1", "annex.connectors@1"],
    "config_schema": {"type": "object", "properties": {}}
  })";
  using annex::Plugin::Plugin;

  void on_register() override { host().connectors().add("odata", std::make_unique<ODataConnector>()); }
};

}  // namespace odata_connector

ANNEX_PLUGIN(odata_connector::ODataPlugin)
