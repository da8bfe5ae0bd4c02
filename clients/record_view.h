// How `peermatch cities get` and `cases get` show one record: an aligned
// "key  value" view for people, or one import record for `import --file`.
//
// Thread-safety: pure functions.
#ifndef PEERMATCH_CLIENTS_RECORD_VIEW_H_
#define PEERMATCH_CLIENTS_RECORD_VIEW_H_

#include <string>

#include "peermatch/v1/model.pb.h"

namespace peermatch::cli {

// Lines of "key         value", long text wrapped under its value.
// `city_label` names the case's city ("Wuhan (CN)"); empty prints its id.
std::string CityView(const v1::City& city);
std::string CaseView(const v1::Case& c, const std::string& city_label);

// One line of JSON that `peermatch import --file` reads back as is:
// {"city": {...}} or {"case": {...}}, numbers as JSON numbers.
std::string CityRecordJson(const v1::City& city);
std::string CaseRecordJson(const v1::Case& c);

}  // namespace peermatch::cli

#endif  // PEERMATCH_CLIENTS_RECORD_VIEW_H_
