// Store's judgements (issue 14): labelled (challenge, solution) pairs kept in
// the meta column family under "judgement/" (layout in store.h), so that
// backups, restores and replicas carry them like every other record.
#include <cstdint>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/stable_hash.h"
#include "records/limits.h"
#include "records/validate.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "store/internal/rocks_util.h"
#include "store/store.h"

namespace peermatch {
namespace {

using internal::FromRocks;
using internal::ParseRecord;
using internal::Serialize;
using internal::ToSlice;
using internal::ToView;

constexpr absl::string_view kPrefix = "judgement/";

std::string JudgementKey(const v1::Judgement& j) {
  const std::string challenge =
      j.challenge_case_id().empty()
          ? absl::StrFormat("~%016x", StableHash64(j.challenge_text()))
          : j.challenge_case_id();
  return absl::StrCat(kPrefix, challenge, absl::string_view("\0", 1), j.solution_case_id());
}

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// The checks that need no read.
absl::Status CheckShape(const v1::Judgement& j) {
  if (j.challenge_case_id().empty() == j.challenge_text().empty()) {
    return Invalid("challenge_case_id", "set exactly one of challenge_case_id and challenge_text");
  }
  if (!j.challenge_case_id().empty()) {
    if (absl::Status s = ValidateId("challenge_case_id", j.challenge_case_id()); !s.ok()) return s;
  } else {
    const std::string& text = j.challenge_text();
    if (!IsValidUtf8(text)) return Invalid("challenge_text", "is not valid UTF-8");
    if (IsBlank(text)) return Invalid("challenge_text", "is only white space");
    if (text.size() > kMaxQueryBytes) {
      return Invalid("challenge_text",
                     absl::StrCat(text.size(), " bytes, at most ", kMaxQueryBytes));
    }
    if (!j.language().empty() && !IsIsoLanguage(j.language())) {
      return Invalid("language", absl::StrCat("\"", j.language(), "\" is not an ISO 639-1 code"));
    }
  }
  if (absl::Status s = ValidateId("solution_case_id", j.solution_case_id()); !s.ok()) return s;
  if (!v1::Judgement::Source_IsValid(j.source())) {
    return Invalid("source", absl::StrCat(j.source(), " is not a known source"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Judgement> Store::AddJudgement(const v1::Judgement& j) {
  if (absl::Status s = CheckShape(j); !s.ok()) return s;
  // Under the write lock: a case deleted between the check and the write
  // would leave a judgement of nothing.
  absl::MutexLock lock(&write_mu_);
  if (!j.challenge_case_id().empty()) {
    auto c = GetCase(j.challenge_case_id());
    if (absl::IsNotFound(c.status())) {
      return absl::NotFoundError(
          absl::StrCat("challenge_case_id: no case with id \"", j.challenge_case_id(), "\""));
    }
    if (!c.ok()) return c.status();
  }
  auto solution = GetCase(j.solution_case_id());
  if (absl::IsNotFound(solution.status())) {
    return absl::NotFoundError(
        absl::StrCat("solution_case_id: no case with id \"", j.solution_case_id(), "\""));
  }
  if (!solution.ok()) return solution.status();
  if (solution->kind() != v1::CASE_KIND_SOLUTION) {
    return Invalid("solution_case_id",
                   absl::StrCat("case \"", j.solution_case_id(), "\" is not a solution"));
  }
  v1::Judgement stored = j;
  if (stored.time_micros() == 0) stored.set_time_micros(absl::ToUnixMicros(absl::Now()));
  rocksdb::WriteBatch batch;
  batch.Put(meta_, JudgementKey(stored), Serialize(stored));
  if (absl::Status s = Write(&batch); !s.ok()) return s;
  return stored;
}

absl::StatusOr<std::vector<v1::Judgement>> Store::ListJudgements() const {
  // One iterator reads one consistent version of the database.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  std::vector<v1::Judgement> out;
  for (it->Seek(ToSlice(kPrefix)); it->Valid() && it->key().starts_with(ToSlice(kPrefix));
       it->Next()) {
    auto j = ParseRecord<v1::Judgement>(ToView(it->value()), "judgement");
    if (!j.ok()) return j.status();
    out.push_back(*std::move(j));
  }
  if (absl::Status s = FromRocks(it->status(), "listing judgements"); !s.ok()) return s;
  return out;
}

}  // namespace peermatch
