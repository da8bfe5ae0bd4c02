#include "store/store.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/table.h"
#include "rocksdb/cache.h"
#include "rocksdb/write_batch.h"
#include "records/validate.h"
#include "store/internal/rocks_util.h"

namespace peermatch {
namespace {

using internal::Be64;
using internal::CityCaseKey;
using internal::FromBe64;
using internal::FromRocks;
using internal::ParseRecord;
using internal::Serialize;
using internal::ToSlice;
using internal::ToView;
using internal::VectorKey;

constexpr char kSchemaKey[] = "schema_version";
constexpr char kModelVersionKey[] = "model_version";
const char* const kFamilies[] = {"default", "meta", "cities", "cases",
                                 "city_cases", "vectors", "models", "rounds"};

// One descriptor per column family (kFamilies), sharing a block cache.
std::vector<rocksdb::ColumnFamilyDescriptor> Families(const rocksdb::Options& db_options,
                                                      const StoreOptions& options) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::ColumnFamilyOptions cf_options(db_options);
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : kFamilies) families.emplace_back(name, cf_options);
  return families;
}

}  // namespace

void Store::Adopt(rocksdb::DB* db) {
  db_.reset(db);
  meta_ = handles_[1];
  cities_ = handles_[2];
  cases_ = handles_[3];
  city_cases_ = handles_[4];
  vectors_ = handles_[5];
  models_ = handles_[6];
  rounds_ = handles_[7];
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                                   const StoreOptions& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 5;
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = Families(db_options, options);
  auto store = std::unique_ptr<Store>(new Store());
  store->options_ = options;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, families, &store->handles_, &raw);
  if (!s.ok()) {
    if (s.IsInvalidArgument() && s.ToString().find("does not exist") != std::string::npos) {
      return absl::NotFoundError(absl::StrCat("no peermatch database at ", path));
    }
    return FromRocks(s, absl::StrCat("opening ", path));
  }
  store->Adopt(raw);

  std::string version;
  s = raw->Get(rocksdb::ReadOptions(), store->meta_, kSchemaKey, &version);
  if (s.IsNotFound()) {
    rocksdb::WriteBatch batch;
    batch.Put(store->meta_, kSchemaKey, std::to_string(kSchemaVersion));
    absl::Status w = store->Write(&batch);
    if (!w.ok()) return w;
  } else if (!s.ok()) {
    return FromRocks(s, "reading the schema version");
  } else {
    int v = 0;
    if (!absl::SimpleAtoi(version, &v) || v != kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the database at ", path, " has schema version \"", version, "\"; this build reads only ",
          kSchemaVersion, ". Use the peermatch release that wrote it, or restore a backup."));
    }
  }
  return store;
}

absl::StatusOr<std::unique_ptr<Store>> Store::OpenReplica(const std::string& primary_path,
                                                         const std::string& replica_path,
                                                         const StoreOptions& options) {
  rocksdb::Options db_options;
  db_options.max_open_files = -1;  // required for secondary instances
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = Families(db_options, options);
  auto store = std::unique_ptr<Store>(new Store());
  store->options_ = options;
  store->read_only_ = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenAsSecondary(db_options, primary_path, replica_path,
                                                   families, &store->handles_, &raw);
  if (!s.ok()) {
    return FromRocks(s, absl::StrCat("opening a replica of ", primary_path,
                                     " (has a writer created it yet?)"));
  }
  store->Adopt(raw);
  std::string version;
  s = raw->Get(rocksdb::ReadOptions(), store->meta_, kSchemaKey, &version);
  int v = 0;
  if (!s.ok() || !absl::SimpleAtoi(version, &v) || v != kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database at ", primary_path, " has schema version \"", version,
        "\"; this build reads only ", kSchemaVersion));
  }
  return store;
}

absl::Status Store::CatchUp() {
  if (!read_only_) return absl::OkStatus();
  return FromRocks(db_->TryCatchUpWithPrimary(), "catching up with the writer");
}

uint64_t Store::LatestSequence() const { return db_->GetLatestSequenceNumber(); }

Store::~Store() {
  if (db_ == nullptr) return;
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

absl::Status Store::Write(rocksdb::WriteBatch* batch) {
  if (read_only_) {
    return absl::FailedPreconditionError(
        "this server is a read replica: send writes to the writer");
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  return FromRocks(db_->Write(wo, batch), "writing");
}

absl::StatusOr<PutResult> Store::PutCity(const v1::City& city) {
  absl::MutexLock lock(&write_mu_);
  Staged staged;
  rocksdb::WriteBatch batch;
  auto r = StageCity(city, &staged, &batch);
  if (!r.ok() || *r == PutResult::kUnchanged) return r;
  if (absl::Status s = Write(&batch); !s.ok()) return s;
  return r;
}

absl::StatusOr<v1::City> Store::GetCity(absl::string_view id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cities_, ToSlice(id), &value);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("no city with id \"", id, "\""));
  if (!s.ok()) return FromRocks(s, "reading city");
  return ParseRecord<v1::City>(value, "city");
}

absl::StatusOr<std::vector<v1::City>> Store::ListCities(
    absl::string_view start_after, size_t limit,
    const std::function<bool(const v1::City&)>& keep, bool* more) const {
  std::vector<v1::City> out;
  *more = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cities_));
  for (it->Seek(ToSlice(start_after)); it->Valid(); it->Next()) {
    if (ToView(it->key()) == start_after) continue;
    auto city = ParseRecord<v1::City>(ToView(it->value()), "city");
    if (!city.ok()) return city.status();
    if (keep && !keep(*city)) continue;
    if (out.size() == limit) {
      *more = true;
      break;
    }
    out.push_back(*std::move(city));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "listing cities");
  return out;
}

absl::StatusOr<int> Store::DeleteCity(absl::string_view id, bool cascade) {
  absl::MutexLock lock(&write_mu_);
  std::string value;
  rocksdb::Status g = db_->Get(rocksdb::ReadOptions(), cities_, ToSlice(id), &value);
  if (g.IsNotFound()) return absl::NotFoundError(absl::StrCat("no city with id \"", id, "\""));
  if (!g.ok()) return FromRocks(g, "reading city");

  std::vector<std::string> case_ids;
  const std::string prefix = CityCaseKey(id, "");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), city_cases_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    case_ids.emplace_back(ToView(it->key()).substr(prefix.size()));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "listing the city's cases");
  if (!case_ids.empty() && !cascade) {
    return absl::FailedPreconditionError(absl::StrCat(
        "city \"", id, "\" still has ", case_ids.size(),
        " cases; delete them first or ask for a cascade delete"));
  }
  rocksdb::WriteBatch batch;
  for (const std::string& case_id : case_ids) {
    auto c = GetCase(case_id);
    if (!c.ok()) return c.status();
    if (auto d = DeleteCaseLocked(*c, &batch); !d.ok()) return d.status();
  }
  batch.Delete(cities_, ToSlice(id));
  if (absl::Status s = Write(&batch); !s.ok()) return s;
  return static_cast<int>(case_ids.size());
}

absl::StatusOr<int> Store::DeleteCaseLocked(const v1::Case& c, rocksdb::WriteBatch* batch) const {
  batch->Delete(cases_, c.id());
  batch->Delete(city_cases_, CityCaseKey(c.city_id(), c.id()));
  // Vectors of every model version; there are at most a few versions.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), models_));
  std::vector<uint64_t> versions;
  for (it->SeekToFirst(); it->Valid(); it->Next()) versions.push_back(FromBe64(ToView(it->key())));
  if (!it->status().ok()) return FromRocks(it->status(), "listing models");
  std::string current;
  if (db_->Get(rocksdb::ReadOptions(), meta_, kModelVersionKey, &current).ok()) {
    versions.push_back(FromBe64(current));
  }
  versions.push_back(0);  // vectors written before any model was committed
  for (uint64_t v : versions) batch->Delete(vectors_, VectorKey(v, c.id()));
  return 1;
}

absl::StatusOr<PutResult> Store::PutCase(const v1::Case& c, const CaseVector* vector) {
  absl::MutexLock lock(&write_mu_);
  Staged staged;
  rocksdb::WriteBatch batch;
  auto r = StageCase(c, vector, &staged, &batch);
  if (!r.ok() || *r == PutResult::kUnchanged) return r;
  if (absl::Status s = Write(&batch); !s.ok()) return s;
  return r;
}

absl::StatusOr<v1::Case> Store::GetCase(absl::string_view id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cases_, ToSlice(id), &value);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("no case with id \"", id, "\""));
  if (!s.ok()) return FromRocks(s, "reading case");
  return ParseRecord<v1::Case>(value, "case");
}

absl::StatusOr<std::vector<v1::Case>> Store::ListCases(
    absl::string_view city_id, absl::string_view start_after, size_t limit,
    const std::function<bool(const v1::Case&)>& keep, bool* more) const {
  std::vector<v1::Case> out;
  *more = false;
  auto take = [&](absl::StatusOr<v1::Case> c) -> bool {  // false: stop
    if (keep && !keep(*c)) return true;
    if (out.size() == limit) {
      *more = true;
      return false;
    }
    out.push_back(*std::move(c));
    return true;
  };
  if (city_id.empty()) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cases_));
    for (it->Seek(ToSlice(start_after)); it->Valid(); it->Next()) {
      if (ToView(it->key()) == start_after) continue;
      auto c = ParseRecord<v1::Case>(ToView(it->value()), "case");
      if (!c.ok()) return c.status();
      if (!take(std::move(c))) break;
    }
    if (!it->status().ok()) return FromRocks(it->status(), "listing cases");
    return out;
  }
  // One snapshot, so that the index and the records agree.
  rocksdb::ReadOptions ro;
  // Replicas have no snapshots; an iterator still sees one consistent version.
  if (!read_only_) ro.snapshot = db_->GetSnapshot();
  const std::string prefix = CityCaseKey(city_id, "");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, city_cases_));
  absl::Status status;
  for (it->Seek(CityCaseKey(city_id, start_after)); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    const absl::string_view case_id = ToView(it->key()).substr(prefix.size());
    if (case_id == start_after) continue;
    std::string value;
    rocksdb::Status g = db_->Get(ro, cases_, ToSlice(case_id), &value);
    if (!g.ok()) {
      status = FromRocks(g, "reading an indexed case");
      break;
    }
    auto c = ParseRecord<v1::Case>(value, "case");
    if (!c.ok()) {
      status = c.status();
      break;
    }
    if (!take(std::move(c))) break;
  }
  if (status.ok() && !it->status().ok()) status = FromRocks(it->status(), "listing cases");
  it.reset();
  if (ro.snapshot != nullptr) db_->ReleaseSnapshot(ro.snapshot);
  if (!status.ok()) return status;
  return out;
}

absl::Status Store::DeleteCase(absl::string_view id) {
  absl::MutexLock lock(&write_mu_);
  auto c = GetCase(id);
  if (!c.ok()) return c.status();
  rocksdb::WriteBatch batch;
  if (auto d = DeleteCaseLocked(*c, &batch); !d.ok()) return d.status();
  return Write(&batch);
}

absl::Status Store::ForEachCase(const std::function<absl::Status(const v1::Case&)>& fn) const {
  rocksdb::ReadOptions ro;
  // Replicas have no snapshots; an iterator still sees one consistent version.
  if (!read_only_) ro.snapshot = db_->GetSnapshot();
  absl::Status status;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cases_));
    for (it->SeekToFirst(); it->Valid() && status.ok(); it->Next()) {
      auto c = ParseRecord<v1::Case>(ToView(it->value()), "case");
      status = c.ok() ? fn(*c) : c.status();
    }
    if (status.ok() && !it->status().ok()) status = FromRocks(it->status(), "scanning cases");
  }
  if (ro.snapshot != nullptr) db_->ReleaseSnapshot(ro.snapshot);
  return status;
}

uint64_t Store::EstimateCaseCount() const {
  uint64_t n = 0;
  if (!db_->GetIntProperty(cases_, rocksdb::DB::Properties::kEstimateNumKeys, &n)) return 0;
  return n;
}

absl::StatusOr<Store::Counts> Store::Count() const {
  Counts counts;
  rocksdb::ReadOptions ro;
  // Replicas have no snapshots; an iterator still sees one consistent version.
  if (!read_only_) ro.snapshot = db_->GetSnapshot();
  absl::Status status;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cities_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++counts.cities;
    std::unique_ptr<rocksdb::Iterator> ct(db_->NewIterator(ro, cases_));
    for (ct->SeekToFirst(); ct->Valid() && status.ok(); ct->Next()) {
      auto c = ParseRecord<v1::Case>(ToView(ct->value()), "case");
      if (!c.ok()) {
        status = c.status();
        break;
      }
      ++counts.cases;
      if (c->kind() == v1::CASE_KIND_CHALLENGE) ++counts.challenges;
      if (c->kind() == v1::CASE_KIND_SOLUTION) ++counts.solutions;
    }
  }
  if (ro.snapshot != nullptr) db_->ReleaseSnapshot(ro.snapshot);
  if (!status.ok()) return status;
  return counts;
}

absl::StatusOr<std::string> Store::GetVector(uint64_t model_version,
                                             absl::string_view case_id) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), vectors_, VectorKey(model_version, case_id), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("case \"", case_id, "\" has no vector for model ", model_version));
  }
  if (!s.ok()) return FromRocks(s, "reading vector");
  return value;
}

absl::Status Store::ForEachCaseWithVector(
    uint64_t model_version,
    const std::function<absl::Status(v1::Case&, const absl::string_view*)>& fn) const {
  rocksdb::ReadOptions ro;
  // Replicas have no snapshots; an iterator still sees one consistent version.
  if (!read_only_) ro.snapshot = db_->GetSnapshot();
  ro.fill_cache = false;  // one pass over everything: keep the cache for queries
  const std::string prefix = Be64(model_version);
  absl::Status status;
  {
    // Both column families are in case-id order (vector keys are the
    // version's 8 bytes, then the case id): a merge join.
    std::unique_ptr<rocksdb::Iterator> ct(db_->NewIterator(ro, cases_));
    std::unique_ptr<rocksdb::Iterator> vt(db_->NewIterator(ro, vectors_));
    vt->Seek(prefix);
    auto vector_valid = [&] { return vt->Valid() && vt->key().starts_with(prefix); };
    v1::Case c;
    for (ct->SeekToFirst(); ct->Valid() && status.ok(); ct->Next()) {
      const absl::string_view id = ToView(ct->key());
      const absl::string_view value = ToView(ct->value());
      if (!c.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        status = absl::DataLossError("stored case does not parse");
        break;
      }
      // Vectors of cases that no longer exist (none should) are skipped.
      while (vector_valid() && ToView(vt->key()).substr(8) < id) vt->Next();
      absl::string_view blob;
      const bool has_vector = vector_valid() && ToView(vt->key()).substr(8) == id;
      if (has_vector) blob = ToView(vt->value());
      status = fn(c, has_vector ? &blob : nullptr);
    }
    if (status.ok() && !ct->status().ok()) status = FromRocks(ct->status(), "scanning cases");
    if (status.ok() && !vt->status().ok()) status = FromRocks(vt->status(), "scanning vectors");
  }
  if (ro.snapshot != nullptr) db_->ReleaseSnapshot(ro.snapshot);
  return status;
}

absl::Status Store::ForEachVector(
    uint64_t model_version,
    const std::function<absl::Status(absl::string_view, absl::string_view)>& fn) const {
  const std::string prefix = Be64(model_version);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), vectors_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    absl::Status s = fn(ToView(it->key()).substr(8), ToView(it->value()));
    if (!s.ok()) return s;
  }
  return FromRocks(it->status(), "scanning vectors");
}

absl::Status Store::PutStagedVectors(
    uint64_t model_version, const std::vector<std::pair<std::string, std::string>>& blobs) {
  absl::MutexLock lock(&write_mu_);
  rocksdb::WriteBatch batch;
  for (const auto& [case_id, blob] : blobs) {
    std::string ignored;
    if (!db_->Get(rocksdb::ReadOptions(), cases_, case_id, &ignored).ok()) continue;
    batch.Put(vectors_, VectorKey(model_version, case_id), blob);
  }
  return Write(&batch);
}

absl::Status Store::CommitModel(uint64_t model_version, absl::string_view model_blob,
                               const std::vector<std::string>& dropped_case_ids) {
  absl::MutexLock lock(&write_mu_);
  rocksdb::WriteBatch batch;
  for (const std::string& id : dropped_case_ids) batch.Delete(vectors_, VectorKey(model_version, id));
  if (!model_blob.empty()) batch.Put(models_, Be64(model_version), ToSlice(model_blob));
  batch.Put(meta_, kModelVersionKey, Be64(model_version));
  // Everything before and after this version goes.
  batch.DeleteRange(vectors_, Be64(0), Be64(model_version));
  batch.DeleteRange(models_, Be64(0), Be64(model_version));
  if (model_version != UINT64_MAX) {
    batch.DeleteRange(vectors_, Be64(model_version + 1), std::string(9, '\xff'));
    batch.DeleteRange(models_, Be64(model_version + 1), std::string(9, '\xff'));
  }
  if (absl::Status s = Write(&batch); !s.ok()) return s;
  // The staged vectors are all live now; written out, the memtable holding
  // them (a whole corpus's worth after a refit) is freed.
  return Flush();
}

absl::StatusOr<uint64_t> Store::CurrentModelVersion() const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, kModelVersionKey, &value);
  if (s.IsNotFound()) return 0;
  if (!s.ok()) return FromRocks(s, "reading model version");
  return FromBe64(value);
}

absl::StatusOr<std::string> Store::GetModel(uint64_t model_version) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), models_, Be64(model_version), &value);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("no model ", model_version));
  if (!s.ok()) return FromRocks(s, "reading model");
  return value;
}

uint64_t Store::ApproximateBytes() const {
  uint64_t total = 0;
  for (auto* h : handles_) {
    uint64_t v = 0;
    if (db_->GetIntProperty(h, rocksdb::DB::Properties::kTotalSstFilesSize, &v)) total += v;
    if (db_->GetIntProperty(h, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) total += v;
  }
  return total;
}

uint64_t Store::MemtableBytes() const {
  uint64_t total = 0;
  for (auto* h : handles_) {
    uint64_t v = 0;
    if (db_->GetIntProperty(h, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) total += v;
  }
  return total;
}

absl::Status Store::Flush() {
  rocksdb::FlushOptions fo;
  return FromRocks(db_->Flush(fo, handles_), "flushing");
}

}  // namespace peermatch
