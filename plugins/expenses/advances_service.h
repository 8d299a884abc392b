// The function table of org.annex.expenses.advances@1, bound to one Advances.
#pragma once

#include "advances.h"

#include <annex/services/cash_advances.h>

namespace expenses {

annex_expenses_advances_v1 advances_service(Advances& advances);

}  // namespace expenses
