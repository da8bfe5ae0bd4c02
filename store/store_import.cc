// Store: staging cities and cases into a WriteBatch (the one path PutCity,
// PutCase and PutBatch share) and load markers.
#include <utility>

#include "absl/strings/str_cat.h"
#include "records/validate.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "store/internal/rocks_util.h"
#include "store/store.h"

namespace peermatch {
namespace {

using internal::CityCaseKey;
using internal::FromRocks;
using internal::ParseRecord;
using internal::Serialize;
using internal::ToSlice;
using internal::VectorKey;

constexpr char kLoadMarkerPrefix[] = "load_marker/";

// A record's own fault, as opposed to the store's (I/O).
bool Rejected(const absl::Status& s) {
  return absl::IsInvalidArgument(s) || absl::IsNotFound(s);
}

}  // namespace

absl::StatusOr<PutResult> Store::StageCity(const v1::City& city, Staged* staged,
                                           rocksdb::WriteBatch* batch) const {
  if (absl::Status s = ValidateCity(city); !s.ok()) return s;
  std::string value = Serialize(city);
  bool exists = false;
  if (auto it = staged->cities.find(city.id()); it != staged->cities.end()) {
    exists = true;
    if (it->second == value) return PutResult::kUnchanged;
  } else {
    std::string old;
    rocksdb::Status g = db_->Get(rocksdb::ReadOptions(), cities_, city.id(), &old);
    if (!g.ok() && !g.IsNotFound()) return FromRocks(g, "reading city");
    exists = g.ok();
    if (exists && old == value) return PutResult::kUnchanged;
  }
  batch->Put(cities_, city.id(), value);
  staged->cities[city.id()] = std::move(value);
  return exists ? PutResult::kUpdated : PutResult::kCreated;
}

absl::StatusOr<PutResult> Store::StageCase(const v1::Case& c, const CaseVector* vector,
                                           Staged* staged, rocksdb::WriteBatch* batch) const {
  if (absl::Status s = ValidateCase(c); !s.ok()) return s;
  std::string value = Serialize(c);
  if (staged->cities.count(c.city_id()) == 0) {
    std::string city;
    rocksdb::Status g = db_->Get(rocksdb::ReadOptions(), cities_, c.city_id(), &city);
    if (g.IsNotFound()) {
      return absl::NotFoundError(absl::StrCat("case.city_id: no city with id \"", c.city_id(),
                                              "\"; put the city first"));
    }
    if (!g.ok()) return FromRocks(g, "reading city");
  }

  std::string old_value;
  bool exists = false;
  if (auto it = staged->cases.find(c.id()); it != staged->cases.end()) {
    exists = true;
    old_value = it->second;
  } else {
    rocksdb::Status g = db_->Get(rocksdb::ReadOptions(), cases_, c.id(), &old_value);
    if (!g.ok() && !g.IsNotFound()) return FromRocks(g, "reading case");
    exists = g.ok();
  }
  const std::string vector_key =
      vector == nullptr ? std::string() : VectorKey(vector->model_version, c.id());
  if (exists && old_value == value) {
    std::string ignored;
    if (vector == nullptr || staged->vectors.count(vector_key) > 0 ||
        db_->Get(rocksdb::ReadOptions(), vectors_, vector_key, &ignored).ok()) {
      return PutResult::kUnchanged;
    }
  }
  if (exists && old_value != value) {
    auto old = ParseRecord<v1::Case>(old_value, "case");
    if (!old.ok()) return old.status();
    if (auto d = DeleteCaseLocked(*old, batch); !d.ok()) return d.status();
    for (auto it = staged->vectors.begin(); it != staged->vectors.end();) {
      it = it->size() >= 8 && absl::string_view(*it).substr(8) == c.id() ? staged->vectors.erase(it)
                                                                          : std::next(it);
    }
  }
  batch->Put(cases_, c.id(), value);
  batch->Put(city_cases_, CityCaseKey(c.city_id(), c.id()), "");
  if (vector != nullptr) {
    batch->Put(vectors_, vector_key, vector->blob);
    staged->vectors.insert(vector_key);
  }
  staged->cases[c.id()] = std::move(value);
  return exists ? PutResult::kUpdated : PutResult::kCreated;
}

absl::StatusOr<Store::BatchOutcome> Store::PutRecords(const std::vector<BatchRecord>& records,
                                                      bool dry_run, bool each) {
  BatchOutcome out;
  out.results.reserve(records.size());
  absl::MutexLock lock(&write_mu_);
  Staged staged;
  rocksdb::WriteBatch batch;
  bool rejected = false;
  for (const BatchRecord& r : records) {
    absl::StatusOr<PutResult> result =
        r.city != nullptr ? StageCity(*r.city, &staged, &batch)
        : r.c != nullptr  ? StageCase(*r.c, r.vector, &staged, &batch)
                          : absl::InvalidArgumentError("record: holds neither a city nor a case");
    if (!result.ok()) {
      if (!Rejected(result.status())) return result.status();
      rejected = true;  // it staged nothing (StageCity, StageCase)
    }
    out.results.push_back(std::move(result));
  }
  if (dry_run || (rejected && !each)) return out;
  if (batch.Count() > 0) {
    if (absl::Status s = Write(&batch); !s.ok()) return s;
  }
  out.written = true;
  return out;
}

absl::StatusOr<Store::BatchOutcome> Store::PutBatch(const std::vector<BatchRecord>& records,
                                                    bool dry_run) {
  return PutRecords(records, dry_run, /*each=*/false);
}

absl::StatusOr<Store::BatchOutcome> Store::PutEach(const std::vector<BatchRecord>& records) {
  return PutRecords(records, /*dry_run=*/false, /*each=*/true);
}

absl::StatusOr<std::string> Store::GetLoadMarker(absl::string_view name) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_,
                               absl::StrCat(kLoadMarkerPrefix, name), &value);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("no load marker \"", name, "\""));
  if (!s.ok()) return FromRocks(s, "reading a load marker");
  return value;
}

absl::Status Store::PutLoadMarker(absl::string_view name, absl::string_view value) {
  rocksdb::WriteBatch batch;
  batch.Put(meta_, absl::StrCat(kLoadMarkerPrefix, name), ToSlice(value));
  return Write(&batch);
}

}  // namespace peermatch
