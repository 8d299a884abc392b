#include "calendar/calendar_routes.h"

#include "auth/roles.h"
#include "http/api_error.h"

#include <annex/calendar.hpp>

namespace annex::calendar {

void register_calendar_routes(http::Router& router, const CompanyCalendar& calendar) {
  http::add_route(router, "annex.core", "GET", "/api/v1/calendar", auth::kAuthenticated,
                  "The company calendar of a year: time zone, weekend, holidays, make-up working days, working days "
                  "per month",
                  [&calendar](http::HttpRequest& req, http::HttpResponse& resp) {
                    std::string text;
                    if (!req.query_param("year", &text)) {
                      throw http::ApiError::bad_request("year is required: ?year=YYYY", "year");
                    }
                    int year = detail::digits(text, 0, 4);
                    if (text.size() != 4 || year < 1) {
                      throw http::ApiError::bad_request("year must be a four-digit year, YYYY", "year");
                    }
                    resp.body = calendar.year_json(year);
                  });
}

}  // namespace annex::calendar
