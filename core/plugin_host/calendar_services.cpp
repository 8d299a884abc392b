// The host service "annex.calendar" behind annex/plugin.h: working days and the host clock, in the company's time
// zone, from the one CompanyCalendar the daemon configured.
#include "calendar/company_calendar.h"
#include "plugin_host/service_support.h"

#include <annex/calendar.hpp>

namespace annex::plugin_host {
namespace {

using calendar::Day;

const calendar::CompanyCalendar* calendar_of(annex_host_ctx* ctx, annex_buffer* err) {
  const calendar::CompanyCalendar* c = ctx->host->parts().calendar;
  if (c == nullptr) put(err, "this host keeps no company calendar here (an offline check)");
  return c;
}

// The day `number` names, when it lies in years 0001–9999.
std::optional<Day> day_of(int32_t number, const char* field, annex_buffer* err) {
  Day day{std::chrono::days{number}};
  if (day < Day{std::chrono::year{1} / 1 / 1} || day > Day{std::chrono::year{9999} / 12 / 31}) {
    put(err, std::string("field=") + field + "\n" + field + " must be a date in years 0001 to 9999");
    return std::nullopt;
  }
  return day;
}

int32_t number_of(Day day) { return static_cast<int32_t>(day.time_since_epoch().count()); }

// Runs `fn` with the calendar, or answers UNSUPPORTED when the host keeps none.
template <typename Fn>
annex_status with_calendar(annex_host_ctx* ctx, annex_buffer* err, Fn&& fn) {
  if (ctx == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
  return guarded(err, [&] {
    const calendar::CompanyCalendar* c = calendar_of(ctx, err);
    if (c == nullptr) return ANNEX_ERR_UNSUPPORTED;
    return fn(*c);
  });
}

annex_status calendar_is_working_day(annex_host_ctx* ctx, int32_t day, int32_t* out_working, annex_buffer* err) {
  return with_calendar(ctx, err, [&](const calendar::CompanyCalendar& c) {
    auto d = day_of(day, "day", err);
    if (!d || out_working == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
    *out_working = c.is_working_day(*d) ? 1 : 0;
    return ANNEX_OK;
  });
}

annex_status calendar_nth_working_day(annex_host_ctx* ctx, int32_t year, int32_t month, int32_t n, int32_t* out_day,
                                      annex_buffer* err) {
  return with_calendar(ctx, err, [&](const calendar::CompanyCalendar& c) {
    if (out_day == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
    const char* field = year < 1 || year > 9999 ? "year" : month < 1 || month > 12 ? "month" : n < 1 ? "n" : nullptr;
    if (field != nullptr) {
      put(err, std::string("field=") + field + "\n" + field +
                   (field[0] == 'y' ? " must be 1 to 9999" : field[0] == 'm' ? " must be 1 to 12" : " must be at least 1"));
      return ANNEX_ERR_INVALID_ARGUMENT;
    }
    std::chrono::year_month ym{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)}};
    auto d = c.nth_working_day(ym, n);
    if (!d) {
      put(err, "field=n\n" + std::to_string(year) + "-" + (month < 10 ? "0" : "") + std::to_string(month) +
                   " has fewer than " + std::to_string(n) + " working days");
      return ANNEX_ERR_NOT_FOUND;
    }
    *out_day = number_of(*d);
    return ANNEX_OK;
  });
}

annex_status calendar_working_days_between(annex_host_ctx* ctx, int32_t from, int32_t to, int32_t* out_count,
                                           annex_buffer* err) {
  return with_calendar(ctx, err, [&](const calendar::CompanyCalendar& c) {
    auto a = day_of(from, "from", err);
    if (!a) return ANNEX_ERR_INVALID_ARGUMENT;
    auto b = day_of(to, "to", err);
    if (!b || out_count == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
    *out_count = c.working_days_between(*a, *b);
    return ANNEX_OK;
  });
}

annex_status calendar_today(annex_host_ctx* ctx, int32_t* out_day, annex_buffer* err) {
  return with_calendar(ctx, err, [&](const calendar::CompanyCalendar& c) {
    if (out_day == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
    *out_day = number_of(c.today());
    return ANNEX_OK;
  });
}

annex_status calendar_now(annex_host_ctx* ctx, int64_t* out_instant, int32_t* out_offset, annex_buffer* err) {
  return with_calendar(ctx, err, [&](const calendar::CompanyCalendar& c) {
    calendar::Instant now = c.now();
    if (out_instant != nullptr) *out_instant = now.time_since_epoch().count();
    if (out_offset != nullptr) *out_offset = static_cast<int32_t>(c.utc_offset(now).count());
    return ANNEX_OK;
  });
}

annex_status calendar_midnight(annex_host_ctx* ctx, int32_t day, int64_t* out_instant, annex_buffer* err) {
  return with_calendar(ctx, err, [&](const calendar::CompanyCalendar& c) {
    auto d = day_of(day, "day", err);
    if (!d || out_instant == nullptr) return ANNEX_ERR_INVALID_ARGUMENT;
    *out_instant = c.midnight(*d).time_since_epoch().count();
    return ANNEX_OK;
  });
}

annex_status calendar_year_json(annex_host_ctx* ctx, int32_t year, annex_buffer* out, annex_buffer* err) {
  return with_calendar(ctx, err, [&](const calendar::CompanyCalendar& c) {
    if (year < 1 || year > 9999) {
      put(err, "field=year\nyear must be 1 to 9999");
      return ANNEX_ERR_INVALID_ARGUMENT;
    }
    put(out, c.year_json(year));
    return ANNEX_OK;
  });
}

const annex_calendar_v1 kCalendar = {sizeof(annex_calendar_v1), 0,
                                     &calendar_is_working_day, &calendar_nth_working_day,
                                     &calendar_working_days_between, &calendar_today,
                                     &calendar_now, &calendar_midnight,
                                     &calendar_year_json};

}  // namespace

const annex_calendar_v1& calendar_v1() { return kCalendar; }

}  // namespace annex::plugin_host
