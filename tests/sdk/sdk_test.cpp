// The header-only SDK layer on its own: JSON text, values, and the trampolines' error translation.
#include <annex/sdk.hpp>

#include <gtest/gtest.h>

namespace {

TEST(JsonText, EscapesControlCharactersAndQuotes) {
  EXPECT_EQ(annex::json_quote("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
}

TEST(JsonText, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(annex::json_escape("客情费 Grüße"), "客情费 Grüße");
  EXPECT_EQ(annex::json_escape("a\x8e" "b"), "a\\ufffdb");
  EXPECT_EQ(annex::json_escape("\xc0\xaf"), "\\ufffd\\ufffd") << "overlong encodings are not UTF-8";
  EXPECT_EQ(annex::json_escape("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd") << "surrogates are not UTF-8";
  EXPECT_EQ(annex::json_escape("\xe4\xbd"), "\\ufffd\\ufffd") << "a truncated sequence is not UTF-8";
}

TEST(Values, IntegersStayIntegersAndTextIsBorrowed) {
  annex::Value big(int64_t{9007199254740993});
  EXPECT_EQ(big.raw().type, ANNEX_VALUE_INT);
  EXPECT_EQ(big.raw().i, 9007199254740993);
  std::string s = "text";
  annex::Value t(s);
  EXPECT_EQ(t.raw().type, ANNEX_VALUE_TEXT);
  EXPECT_EQ(t.raw().s.data, s.data());
  EXPECT_EQ(annex::Value(nullptr).raw().type, ANNEX_VALUE_NULL);
  EXPECT_EQ(annex::Value(std::optional<int>{}).raw().type, ANNEX_VALUE_NULL);
  EXPECT_EQ(annex::Value(std::optional<int>{4}).raw().i, 4);
  EXPECT_EQ(annex::Value(true).raw().i, 1);
}

TEST(Trampolines, TurnExceptionsIntoStatusesWithField) {
  std::string err;
  annex::StringSink sink(err);
  annex_status s = annex::detail::guarded(sink.get(), [] {
    throw annex::Error(ANNEX_ERR_UNPROCESSABLE, "amount must be positive", "amount_minor");
  });
  EXPECT_EQ(s, ANNEX_ERR_UNPROCESSABLE);
  EXPECT_EQ(err, "field=amount_minor\namount must be positive");
  err.clear();
  EXPECT_EQ(annex::detail::guarded(sink.get(), [] { throw std::runtime_error("boom"); }), ANNEX_ERR_INTERNAL);
  EXPECT_EQ(err, "boom");
  EXPECT_EQ(annex::detail::guarded(sink.get(), [] { throw 42; }), ANNEX_ERR_INTERNAL);
  EXPECT_EQ(annex::detail::guarded(sink.get(), [] {}), ANNEX_OK);
}

TEST(Requests, AnIntegerPathParameterThatIsNotOneIsABadRequestNamingIt) {
  static std::string id;
  annex_http_request raw{};
  raw.struct_size = sizeof raw;
  raw.path_param = [](const annex_http_request*, annex_str) { return annex_str{id.data(), id.size()}; };
  annex::Request req(&raw);
  id = "42";
  EXPECT_EQ(req.path_param_int("id"), 42);
  for (const char* bad : {"abc", "", "12x", "99999999999999999999"}) {
    id = bad;
    try {
      req.path_param_int("id");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const annex::Error& e) {
      EXPECT_EQ(e.code(), ANNEX_ERR_INVALID_ARGUMENT) << bad;
      EXPECT_EQ(e.field(), "id") << bad;
    }
  }
}

// The field at fault goes to the host's set_error_field (ABI 1.3) apart from the message; a buffer the host did
// not make for it gets the older "field=" prefix.
TEST(Trampolines, HandTheFieldToTheHostApartFromTheMessage) {
  static std::string recorded;
  static annex_buffer* hosts = nullptr;
  annex::detail::ErrorFieldSetter fake = [](annex_buffer* err, annex_str field) -> int32_t {
    if (err != hosts) return 0;
    recorded.assign(field.data, field.len);
    return 1;
  };
  auto previous = annex::detail::error_field_setter().exchange(fake);
  std::string err, other;
  annex::StringSink sink(err), other_sink(other);
  hosts = sink.get();
  annex_status s = annex::detail::guarded(sink.get(), [] {
    throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "severities must not be empty", "severities");
  });
  EXPECT_EQ(s, ANNEX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(err, "severities must not be empty");
  EXPECT_EQ(recorded, "severities");
  annex::detail::guarded(other_sink.get(), [] { throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "bad", "x"); });
  EXPECT_EQ(other, "field=x\nbad");
  annex::detail::error_field_setter().store(previous);
}

TEST(HostErrors, AFieldTheHostNamesComesBackApartFromTheMessageFromEveryService) {
  try {
    annex::check(ANNEX_ERR_UNPROCESSABLE, "field=approver_id\nthe submitter may not approve");
    ADD_FAILURE() << "no throw";
  } catch (const annex::Error& e) {
    EXPECT_EQ(e.code(), ANNEX_ERR_UNPROCESSABLE);
    EXPECT_EQ(e.field(), "approver_id");
    EXPECT_EQ(e.message(), "the submitter may not approve");
  }
  try {
    annex::check(ANNEX_ERR_NOT_FOUND, "no such approval");
    ADD_FAILURE() << "no throw";
  } catch (const annex::Error& e) {
    EXPECT_EQ(e.field(), "");
    EXPECT_EQ(e.message(), "no such approval");
  }
}

TEST(Abi, AnEvidencePackFromAHostBeforeAbi15IsUnsupportedNotACrash) {
  annex_audit_v1 old{};
  old.struct_size = offsetof(annex_audit_v1, evidence_pack);  // the table a host built for ABI 1.4 hands out
  annex::Audit audit(nullptr, &old);
  try {
    audit.evidence_pack("", "Statement", {{"t", "1"}}, {});
    ADD_FAILURE() << "no throw";
  } catch (const annex::Error& e) {
    EXPECT_EQ(e.code(), ANNEX_ERR_UNSUPPORTED);
  }
}

TEST(Abi, StructsOnlyGrowAndFieldPresenceIsTestable) {
  annex_route route{};
  route.struct_size = offsetof(annex_route, handler);  // as if built by a host that knew fewer fields
  EXPECT_FALSE(ANNEX_HAS_FIELD(&route, annex_route, handler));
  route.struct_size = sizeof route;
  EXPECT_TRUE(ANNEX_HAS_FIELD(&route, annex_route, handler_plugin_ptr));
}

}  // namespace
