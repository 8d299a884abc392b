// libFuzzer target for the one parser of dates and instants (annex/calendar.hpp) that every request body,
// query parameter and plugin goes through. Beyond crashes and sanitizer reports it checks the parser's
// promises: what it accepts has the documented shape, lies within years 0001–9999, and its canonical form is
// fixed-width and parses back to the same value.
#include <annex/calendar.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void expect(bool holds) {
  if (!holds) std::abort();
}

bool digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  namespace cal = annex::calendar;

  if (auto day = cal::parse_date(text)) {
    // Only the canonical form is accepted as a date: formatting gives the very same text back.
    expect(cal::format_date(*day) == text);
    expect(text.substr(0, 4) != "0000");
  }

  if (auto t = cal::parse_instant(text)) {
    expect(text.size() >= 20 && text[10] == 'T' && digit(text[0]) && digit(text[3]));
    expect(text.back() == 'Z' || digit(text.back()));
    std::string canonical = cal::format_instant(*t);
    expect(canonical.size() == 20 && canonical[10] == 'T' && canonical[19] == 'Z');
    expect(cal::parse_instant(canonical) == t);
    expect(cal::format_instant(*cal::parse_instant(canonical)) == canonical);
    // An instant given in UTC without a fraction is already canonical.
    if (text.size() == 20) expect(canonical == text);
  }
  return 0;
}
