#include "app/demo.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/URI.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <stdexcept>
#include <thread>

namespace annex::app {
namespace {

using nlohmann::json;

struct Sector {
  const char* id;
  const char* name;
};
// Ten sectors (版块), as the CRM regulation's example has.
const Sector kSectors[] = {{"north", "North China"},          {"east", "East China"},       {"south", "South China"},
                           {"central", "Central China"},      {"southwest", "Southwest"},   {"northwest", "Northwest"},
                           {"northeast", "Northeast"},        {"key-accounts", "Key accounts"}, {"government", "Government and SOE"},
                           {"online", "Online channel"}};

// The client of the daemon being filled: one bearer token per person.
class Api {
 public:
  Api(const std::string& base_url, std::function<std::string(const std::string&)> token_for)
      : uri_(base_url), token_for_(std::move(token_for)) {}

  json call(const std::string& as, const std::string& method, const std::string& path, const json& body = nullptr,
            const std::map<std::string, std::string>& headers = {}) {
    std::string& token = tokens_[as];
    if (token.empty()) token = token_for_(as);
    Poco::Net::HTTPClientSession session(uri_.getHost(), uri_.getPort());
    session.setTimeout(Poco::Timespan(60, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", "Bearer " + token);
    for (const auto& [name, value] : headers) request.set(name, value);
    std::string text = body.is_null() ? "" : body.dump();
    if (!text.empty()) {
      request.setContentType("application/json");
      request.setContentLength(static_cast<std::streamsize>(text.size()));
    }
    session.sendRequest(request) << text;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    std::string answer((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (response.getStatus() >= 300) {
      throw std::runtime_error(method + " " + path + " as " + as + " answered " + std::to_string(response.getStatus()) + ": " + answer);
    }
    return answer.empty() ? json::object() : json::parse(answer);
  }
  json post(const std::string& as, const std::string& path, const json& body) { return call(as, "POST", path, body); }
  json patch(const std::string& as, const std::string& path, const json& body) { return call(as, "PATCH", path, body); }
  json get(const std::string& as, const std::string& path) { return call(as, "GET", path); }

 private:
  Poco::URI uri_;
  std::function<std::string(const std::string&)> token_for_;
  std::map<std::string, std::string> tokens_;
};

json money(int64_t amount) { return {{"amount", amount}, {"currency", "CNY"}}; }

// Dates relative to today (UTC): the demo is always "last month" and "this month", whenever it is loaded.
struct Dates {
  std::chrono::year_month_day today{std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
  std::chrono::year_month last_month() const {
    auto ym = today.year() / today.month();
    return ym - std::chrono::months(1);
  }
  static std::string text(std::chrono::year_month_day d) {
    char out[32];
    std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()));
    return out;
  }
  std::string last_month_day(unsigned day) const { return text(last_month() / std::chrono::day(day)); }
  // The first weekday from that day on: spending on a weekend needs a justification.
  std::string last_month_weekday(unsigned day) const {
    std::chrono::sys_days d{last_month() / std::chrono::day(day)};
    while (std::chrono::weekday(d) == std::chrono::Saturday || std::chrono::weekday(d) == std::chrono::Sunday) d += std::chrono::days(1);
    return text(std::chrono::year_month_day(d));
  }
  std::string period() const { return last_month_day(1).substr(0, 7); }
  std::string in_days(int days) const { return text(std::chrono::sys_days(today) + std::chrono::days(days)); }
};

// Waits, for a minute at most, until `done` holds for what GET `path` answers (an approval's outcome reaches its
// plugin by an event; on a busy machine, with a second process writing the same SQLite file, that can take seconds).
template <typename Pred>
json until(Api& api, const std::string& as, const std::string& path, Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  json now;
  do {
    now = api.get(as, path);
    if (done(now)) return now;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  } while (std::chrono::steady_clock::now() < deadline);
  throw std::runtime_error("GET " + path + " did not reach the expected state within a minute: " + now.dump());
}

}  // namespace

const std::vector<DemoPerson>& demo_people() {
  static const std::vector<DemoPerson> people = [] {
    std::vector<DemoPerson> p = {
        {"chen.exec", "陈建国 Chen Jianguo", "group-executive", ""},
        {"liu.finance", "刘芳 Liu Fang", "finance", ""},
        {"zhou.finance", "周敏 Zhou Min", "finance", ""},
        {"sun.audit", "孙丽 Sun Li", "auditor", ""},
        {"he.admin", "何伟 He Wei", "sector-admin", "north"},
    };
    const char* heads[] = {"wang.head", "zhao.head", "huang.head", "xu.head", "ma.head",
                           "hu.head",   "guo.head",  "lin.head",   "luo.head", "song.head"};
    const char* head_names[] = {"王强 Wang Qiang", "赵磊 Zhao Lei", "黄海 Huang Hai", "徐静 Xu Jing", "马超 Ma Chao",
                                "胡斌 Hu Bin",     "郭涛 Guo Tao",  "林琳 Lin Lin",   "罗洋 Luo Yang", "宋佳 Song Jia"};
    for (size_t i = 0; i < std::size(kSectors); ++i) p.push_back({heads[i], head_names[i], "sector-head", kSectors[i].id});
    // Reps and clerks in the three sectors the demo's statements come from.
    p.push_back({"li.rep", "李娜 Li Na", "sales-rep", "north"});
    p.push_back({"zhang.rep", "张伟 Zhang Wei", "sales-rep", "north"});
    p.push_back({"yang.rep", "杨洋 Yang Yang", "sales-rep", "east"});
    p.push_back({"wu.rep", "吴敏 Wu Min", "sales-rep", "east"});
    p.push_back({"zheng.rep", "郑凯 Zheng Kai", "sales-rep", "south"});
    p.push_back({"feng.clerk", "冯雪 Feng Xue", "sales-clerk", "north"});
    p.push_back({"cao.clerk", "曹颖 Cao Ying", "sales-clerk", "east"});
    p.push_back({"deng.clerk", "邓晨 Deng Chen", "sales-clerk", "south"});
    return p;
  }();
  return people;
}

void load_demo(const std::string& base_url, const std::function<std::string(const std::string&)>& token_for, std::ostream& progress) {
  Api api(base_url, token_for);
  Dates when;
  const std::string admin = "admin";

  progress << "sectors and people\n";
  for (const Sector& s : kSectors) api.post(admin, "/api/v1/sectors", {{"id", s.id}, {"name", s.name}});
  std::map<std::string, std::string> user_id;  // login → id
  for (const DemoPerson& p : demo_people()) {
    json body = {{"login", p.login}, {"display_name", p.display_name}, {"password", kDemoPassword}};
    if (!p.sector.empty()) body["sector_id"] = p.sector;
    json u = api.post(admin, "/api/v1/users", body);
    user_id[p.login] = u["id"];
    api.post(admin, "/api/v1/users/" + u["id"].get<std::string>() + "/roles", {{"role", p.role}, {"sector_id", p.sector.empty() ? "*" : p.sector}});
  }

  progress << "master data: cost centres, employees, products, customers\n";
  for (const Sector& s : kSectors) {
    api.post(admin, "/api/v1/masterdata/cost_centres", {{"code", std::string("CC-") + s.id}, {"name", std::string("Sales ") + s.name}});
  }
  int number = 1000;
  for (const DemoPerson& p : demo_people()) {
    json e = {{"number", "E" + std::to_string(++number)}, {"name", p.display_name}, {"user_id", user_id[p.login]},
              {"grade", p.role == "sector-head" ? "M2" : "P3"}};
    if (!p.sector.empty()) e["cost_centre"] = "CC-" + p.sector;
    api.post(admin, "/api/v1/masterdata/employees", e);
  }
  struct Product {
    const char* code;
    const char* name;
    const char* group;
    int64_t price;
  };
  const Product products[] = {{"TN-200", "Toner cartridge TN-200", "supplies", 45000},  {"DR-50", "Drum unit DR-50", "supplies", 98000},
                              {"MFP-7", "Multifunction printer MFP-7", "devices", 2380000}, {"SC-3", "Document scanner SC-3", "devices", 860000},
                              {"SV-1Y", "Service contract, one year", "services", 1200000}};
  std::map<std::string, std::string> product_id;
  for (const Product& p : products) {
    product_id[p.code] = api.post(admin, "/api/v1/masterdata/products", {{"code", p.code}, {"name", p.name}, {"product_group", p.group}})["id"];
  }
  struct Customer {
    const char* code;
    const char* name;
    const char* sector;
    const char* owner;
  };
  const Customer customers[] = {{"C-1001", "北方重工 Northern Heavy Industry", "north", "li.rep"},
                                {"C-1002", "京津物流 Jingjin Logistics", "north", "li.rep"},
                                {"C-1003", "华北医药 Huabei Pharma", "north", "zhang.rep"},
                                {"C-2001", "江南纺织 Jiangnan Textiles", "east", "yang.rep"},
                                {"C-2002", "沪东电子 Hudong Electronics", "east", "wu.rep"},
                                {"C-3001", "粤海食品 Yuehai Foods", "south", "zheng.rep"},
                                {"C-3002", "深南科技 Shennan Technology", "south", "zheng.rep"}};
  std::map<std::string, std::string> party_id;
  for (const Customer& c : customers) {
    party_id[c.code] = api.post(admin, "/api/v1/masterdata/parties",
                                {{"code", c.code}, {"name", c.name}, {"sector_id", c.sector}, {"owner_id", user_id[c.owner]}})["id"];
  }

  progress << "opportunities in every stage\n";
  const char* path_to[] = {"prospecting", "qualification", "proposal", "negotiation", "won"};
  int at = 0;
  for (const Customer& c : customers) {
    for (int stage = 0; stage < 6; ++stage) {
      json o = api.post(c.owner, "/api/v1/pipeline/opportunities",
                        {{"name", std::string(c.name).substr(std::string(c.name).find(' ') + 1) + " — " + products[(at + stage) % 5].name},
                         {"party_id", party_id[c.code]},
                         {"amount", money(products[(at + stage) % 5].price * (3 + stage))},
                         {"expected_close", when.in_days(20 + 9 * stage + at)}});
      std::string path = "/api/v1/pipeline/opportunities/" + o["id"].get<std::string>();
      int target = (stage + at) % 6;  // 0..4 along the path, 5: lost
      for (int step = 1; step <= (target == 5 ? 1 : target); ++step) api.patch(c.owner, path, {{"stage", path_to[step]}});
      if (target == 5) api.patch(c.owner, path, {{"stage", "lost"}, {"lost_reason", "price"}});
    }
    ++at;
  }

  progress << "fee standards, contracts signed last month and their collections\n";
  api.post("liu.finance", "/api/v1/relationship-spending/standards",
           {{"product_group", "supplies"}, {"rate_bp", 300}, {"gl_account", "660101"}, {"effective_from", "2026-01-01"}});
  api.post("liu.finance", "/api/v1/relationship-spending/standards",
           {{"product_group", "devices"}, {"rate_bp", 200}, {"gl_account", "660102"}, {"effective_from", "2026-01-01"}});
  api.post("liu.finance", "/api/v1/relationship-spending/standards",
           {{"product_group", "services"}, {"rate_bp", 150}, {"gl_account", "660103"}, {"effective_from", "2026-01-01"}});
  int contract_no = 0;
  for (const Customer& c : customers) {
    for (int k = 0; k < 2; ++k) {
      const Product& a = products[(contract_no + 2) % 5];
      const Product& b = products[contract_no % 2];
      std::string number = "HT-" + when.period().substr(0, 4) + "-" + std::to_string(101 + contract_no);
      json contract = api.post(c.owner, "/api/v1/contracts",
                               {{"number", number},
                                {"party_id", party_id[c.code]},
                                {"currency", "CNY"},
                                {"lines", {{{"product_id", product_id[a.code]}, {"quantity", 2 + k}, {"unit_price", money(a.price)}},
                                           {{"product_id", product_id[b.code]}, {"quantity", 20}, {"unit_price", money(b.price)}}}}});
      std::string path = "/api/v1/contracts/" + contract["id"].get<std::string>();
      api.patch(c.owner, path, {{"status", "awaiting_signature"}});
      contract = api.patch(c.owner, path, {{"status", "signed"}, {"signed_on", when.last_month_day(3 + 4 * k + contract_no % 3)}});
      int64_t total = contract["total"]["amount"];
      // Paid in full, in part, or not yet: fees follow the payment (R2).
      int64_t paid = contract_no % 3 == 0 ? total : contract_no % 3 == 1 ? total / 2 : 0;
      if (paid > 0) {
        api.post("zhou.finance", path + "/collections",
                 {{"received_on", when.last_month_day(20 + contract_no % 5)}, {"amount", money(paid)}, {"reference", "BANK-" + number}});
      }
      ++contract_no;
    }
  }

  progress << "expense claims and cash advances in every state\n";
  struct Claim {
    const char* rep;
    const char* head;
    const char* outcome;  // draft, submitted, approve, reject, return
  };
  const Claim claims[] = {{"li.rep", "wang.head", "approve"},    {"li.rep", "wang.head", "submitted"}, {"zhang.rep", "wang.head", "reject"},
                          {"zhang.rep", "wang.head", "return"},  {"yang.rep", "zhao.head", "approve"}, {"wu.rep", "zhao.head", "submitted"},
                          {"zheng.rep", "huang.head", "draft"},  {"zheng.rep", "huang.head", "submitted"}};
  int n = 0;
  for (const Claim& c : claims) {
    json body = {{"purpose", n % 2 ? "customer" : "travel"},
                 {"lines",
                  {{{"date", when.last_month_weekday(3 + 3 * n)}, {"category", "transport"}, {"merchant", "滴滴出行 DiDi"}, {"amount", money(4600 + 500 * n)}},
                   {{"date", when.last_month_weekday(3 + 3 * n)}, {"category", "meals"}, {"merchant", "老北京炸酱面 Lao Beijing"}, {"amount", money(12800 + 700 * n)}}}}};
    json claim = api.post(c.rep, "/api/v1/expenses/claims", body);
    std::string path = "/api/v1/expenses/claims/" + claim["id"].get<std::string>();
    if (std::string(c.outcome) != "draft") {
      json submitted = api.post(c.rep, path + "/submit", json::object());
      std::string outcome = c.outcome;
      if (outcome != "submitted") {
        api.post(c.head, "/api/v1/approvals/" + submitted["approval_id"].get<std::string>() + "/decisions",
                 {{"decision", outcome}, {"comment", outcome == "approve" ? "OK" : outcome == "reject" ? "不符合制度 Not within policy" : "请补充发票 Add the receipts"}});
        const char* state = outcome == "approve" ? "approved" : outcome == "reject" ? "rejected" : "returned";
        until(api, c.rep, path, [state](const json& x) { return x["status"] == state; });
      }
    }
    ++n;
  }
  struct Advance {
    const char* rep;
    int64_t amount;
    const char* purpose;
    int state;  // 0 requested, 1 approved, 2 paid
  };
  const Advance advances[] = {{"li.rep", 120000, "Trade fair in Shanghai", 2}, {"yang.rep", 80000, "Customer visits in Suzhou", 1},
                              {"zheng.rep", 50000, "Client dinner budget", 0}};
  for (const Advance& a : advances) {
    json advance = api.post(a.rep, "/api/v1/expenses/advances", {{"amount", money(a.amount)}, {"purpose", a.purpose}});
    if (a.state == 0) continue;
    std::string path = "/api/v1/expenses/advances/" + advance["id"].get<std::string>();
    api.post("liu.finance", "/api/v1/approvals/" + advance["approval"]["id"].get<std::string>() + "/decisions",
             {{"decision", "approve"}, {"comment", "OK"}});
    until(api, "liu.finance", path, [](const json& x) { return x["status"] == "approved"; });
    if (a.state == 2) api.post("zhou.finance", path + "/paid", {{"paid_on", when.text(when.today)}});
  }

  progress << "last month's relationship-spending statements, in every state\n";
  api.post("liu.finance", "/api/v1/relationship-spending/statements/draft", {{"period", when.period()}});
  struct Flow {
    const char* rep;
    const char* clerk;
    const char* head;
    int signatures;       // -1 stays a draft; 0 submitted; 1..3 signed so far
    bool returned = false;
  };
  const Flow flows[] = {{"li.rep", "feng.clerk", "wang.head", 3},
                        {"zhang.rep", "feng.clerk", "wang.head", 1},
                        {"yang.rep", "cao.clerk", "zhao.head", 0},
                        {"wu.rep", "cao.clerk", "zhao.head", 1, true},
                        {"zheng.rep", "deng.clerk", "huang.head", -1}};
  for (const Flow& f : flows) {
    json list = api.get("liu.finance", "/api/v1/relationship-spending/statements?period=" + when.period() + "&rep_id=" + user_id[f.rep]);
    if (list["items"].empty()) continue;  // nothing to show for this rep
    std::string path = "/api/v1/relationship-spending/statements/" + list["items"][0]["id"].get<std::string>();
    json st = api.get("liu.finance", path);
    if (f.signatures < 0) continue;
    st = api.call(f.rep, "POST", path + "/submit", json::object(), {{"If-Match", "\"v" + std::to_string(st["version"].get<int64_t>()) + "\""}});
    std::string approval = "/api/v1/approvals/" + st["approval_id"].get<std::string>() + "/decisions";
    const char* signers[] = {f.clerk, f.head, "liu.finance"};
    for (int s = 0; s < f.signatures; ++s) api.post(signers[s], approval, {{"decision", "approve"}, {"comment", "已核对 Checked"}});
    if (f.returned) {
      api.post(f.head, approval, {{"decision", "return"}, {"comment", "请核对回款 Check the collections"}});
    }
    // A decision reaches the statement by an event: the load ends once every statement shows its state.
    const char* state = f.returned ? "returned" : f.signatures == 3 ? "signed" : "submitted";
    until(api, "liu.finance", path, [state](const json& x) { return x["status"] == state; });
  }
  progress << "done\n";
}

}  // namespace annex::app
