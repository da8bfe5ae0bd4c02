#include "service/update_mapping.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "records/validate.h"

namespace peermatch {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// The field that names the record: never updated.
constexpr char kIdField[] = "id";

// Issue 13: fields the server sets on every write (Case's detected
// language); an update neither lists nor takes them.
bool ServerOwned(const FieldDescriptor& f) {
  for (const char* name : {"detected_language", "language_confidence", "language_source",
                           "analysis_language"}) {
    if (f.name() == name && f.containing_type()->name() == "Case") return true;
  }
  return false;
}

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// A value a client sent, as an error quotes it: escaped, at most 64 bytes.
std::string Quoted(absl::string_view value) {
  return absl::StrCat("\"", absl::CHexEscape(value.substr(0, 64)), value.size() > 64 ? "..." : "",
                      "\"");
}

// A field by its proto name ("joined_year") or its JSON name ("joinedYear").
const FieldDescriptor* FindField(const Descriptor& type, absl::string_view name) {
  if (const FieldDescriptor* f = type.FindFieldByName(std::string(name))) return f;
  for (int i = 0; i < type.field_count(); ++i) {
    if (type.field(i)->json_name() == name) return type.field(i);
  }
  return nullptr;
}

std::string Updatable(const Descriptor& type) {
  std::vector<std::string> names;
  for (int i = 0; i < type.field_count(); ++i) {
    if (type.field(i)->name() != kIdField && !ServerOwned(*type.field(i))) {
      names.push_back(type.field(i)->name());
    }
  }
  return absl::StrCat("updatable fields: ", absl::StrJoin(names, ", "));
}

// The proto name of the field `name` names, or INVALID_ARGUMENT at `where`.
absl::StatusOr<const FieldDescriptor*> UpdatableField(const Descriptor& type,
                                                      absl::string_view where,
                                                      absl::string_view name) {
  const FieldDescriptor* f = FindField(type, name);
  if (f == nullptr) {
    return Invalid(where, absl::StrCat(Quoted(name), " is not a field of ", type.name(), "; ",
                                       Updatable(type)));
  }
  if (ServerOwned(*f)) {
    return Invalid(where, absl::StrCat(Quoted(name), " is set by the server; ", Updatable(type)));
  }
  if (f->name() == kIdField) {
    return Invalid(where, absl::StrCat("\"id\" cannot change: it names the ",
                                       absl::AsciiStrToLower(type.name()), "; ",
                                       Updatable(type)));
  }
  return f;
}

// The fields a mask names (every updatable one for "*"), or those `values`
// sets when it names none; each once, in field order.
template <typename Record>
absl::StatusOr<std::vector<std::string>> MaskFields(const Record& values,
                                                    const google::protobuf::FieldMask& mask,
                                                    absl::string_view record_field) {
  const Descriptor& type = *Record::descriptor();
  std::vector<const FieldDescriptor*> fields;
  for (int i = 0; i < mask.paths_size(); ++i) {
    const std::string where = absl::StrCat("update_mask.paths[", i, "]");
    if (mask.paths(i) == "*") {
      for (int f = 0; f < type.field_count(); ++f) {
        if (type.field(f)->name() != kIdField && !ServerOwned(*type.field(f))) {
          fields.push_back(type.field(f));
        }
      }
      continue;
    }
    absl::StatusOr<const FieldDescriptor*> f = UpdatableField(type, where, mask.paths(i));
    if (!f.ok()) return f.status();
    fields.push_back(*f);
  }
  if (mask.paths().empty()) {
    std::vector<const FieldDescriptor*> set;
    values.GetReflection()->ListFields(values, &set);
    for (const FieldDescriptor* f : set) {
      if (f->name() != kIdField && !ServerOwned(*f)) fields.push_back(f);
    }
    if (fields.empty()) {
      return Invalid("update_mask", absl::StrCat("is empty and ", record_field,
                                                 " sets no field but its id; name the fields "
                                                 "to change (", Updatable(type), ")"));
    }
  }
  std::sort(fields.begin(), fields.end(), [](const FieldDescriptor* a, const FieldDescriptor* b) {
    return a->index() < b->index();
  });
  fields.erase(std::unique(fields.begin(), fields.end()), fields.end());
  std::vector<std::string> names;
  for (const FieldDescriptor* f : fields) names.push_back(f->name());
  return names;
}

template <typename Record>
absl::StatusOr<RecordUpdate<Record>> ToUpdate(absl::string_view record_field, bool has_record,
                                              const Record& values,
                                              const google::protobuf::FieldMask& mask) {
  if (!has_record) return Invalid(record_field, "is required (its id names the record)");
  if (absl::Status s = ValidateId(absl::StrCat(record_field, ".id"), values.id()); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::vector<std::string>> fields = MaskFields(values, mask, record_field);
  if (!fields.ok()) return fields.status();
  return RecordUpdate<Record>{values.id(), values, *std::move(fields)};
}

template <typename Record>
void Apply(const RecordUpdate<Record>& update, Record* stored) {
  const Descriptor& type = *Record::descriptor();
  std::vector<const FieldDescriptor*> fields;
  for (const std::string& name : update.fields) fields.push_back(type.FindFieldByName(name));
  // Swapping the named fields with a copy of the new values sets them
  // exactly: a value left empty clears, a repeated field is replaced whole.
  Record values = update.values;
  stored->GetReflection()->SwapFields(&values, stored, fields);
}

// The request's record and mask from an HTTP PATCH (see the header).
template <typename Record>
absl::Status FromJson(absl::string_view id, absl::string_view body,
                      absl::string_view update_mask, Record* record,
                      google::protobuf::FieldMask* mask) {
  const Descriptor& type = *Record::descriptor();
  google::protobuf::Struct object;
  google::protobuf::util::JsonParseOptions options;
  const std::string json(body);
  if (!google::protobuf::util::JsonStringToMessage(json, &object, options).ok()) {
    return Invalid("body", absl::StrCat("must be a JSON object with the ", type.name(),
                                        " fields to change"));
  }
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.fields()) {
    const FieldDescriptor* f = FindField(type, key);
    if (f != nullptr && f->name() == kIdField) continue;  // checked below
    // A record as GET returns it carries the server's fields: not an update.
    if (f != nullptr && ServerOwned(*f)) continue;
    absl::StatusOr<const FieldDescriptor*> updatable = UpdatableField(type, "body", key);
    if (!updatable.ok()) return updatable.status();
    keys.push_back((*updatable)->name());
  }
  const google::protobuf::util::Status parsed =
      google::protobuf::util::JsonStringToMessage(json, record, options);
  if (!parsed.ok()) {
    return Invalid("body", absl::StrCat("is not a ", type.name(), " in JSON: ",
                                        parsed.message().as_string()));
  }
  if (!record->id().empty() && record->id() != id) {
    return Invalid("id", absl::StrCat("the body's id ", Quoted(record->id()),
                                      " differs from the path's ", Quoted(id),
                                      "; an id cannot change"));
  }
  record->set_id(std::string(id));
  mask->Clear();
  if (update_mask.empty()) {
    for (const std::string& key : keys) mask->add_paths(key);
    return absl::OkStatus();
  }
  for (absl::string_view path : absl::StrSplit(update_mask, ',')) {
    path = absl::StripAsciiWhitespace(path);
    if (path.empty()) return Invalid("updateMask", "has an empty path (a comma too many?)");
    mask->add_paths(std::string(path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CityUpdate> ToCityUpdate(const v1::UpdateCityRequest& request) {
  return ToUpdate("city", request.has_city(), request.city(), request.update_mask());
}

absl::StatusOr<CaseUpdate> ToCaseUpdate(const v1::UpdateCaseRequest& request) {
  return ToUpdate("case", request.has_case_(), request.case_(), request.update_mask());
}

void ApplyUpdate(const CityUpdate& update, v1::City* stored) { Apply(update, stored); }
void ApplyUpdate(const CaseUpdate& update, v1::Case* stored) { Apply(update, stored); }

absl::StatusOr<v1::UpdateCityRequest> UpdateCityRequestFromJson(absl::string_view id,
                                                                absl::string_view body,
                                                                absl::string_view update_mask) {
  v1::UpdateCityRequest request;
  absl::Status s =
      FromJson(id, body, update_mask, request.mutable_city(), request.mutable_update_mask());
  if (!s.ok()) return s;
  return request;
}

absl::StatusOr<v1::UpdateCaseRequest> UpdateCaseRequestFromJson(absl::string_view id,
                                                                absl::string_view body,
                                                                absl::string_view update_mask) {
  v1::UpdateCaseRequest request;
  absl::Status s =
      FromJson(id, body, update_mask, request.mutable_case_(), request.mutable_update_mask());
  if (!s.ok()) return s;
  return request;
}

}  // namespace peermatch
