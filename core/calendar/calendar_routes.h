// The company calendar over HTTP.
#pragma once

#include "calendar/company_calendar.h"
#include "http/router.h"

namespace annex::calendar {

// Registers, owned by "annex.core", for any signed-in user:
//   GET /api/v1/calendar?year=YYYY   the time zone, the weekend, the year's holidays and make-up working days, and
//                                    per month its working days (CompanyCalendar::year_json)
void register_calendar_routes(http::Router& router, const CompanyCalendar& calendar);

}  // namespace annex::calendar
