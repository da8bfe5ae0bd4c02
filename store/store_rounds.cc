// Store's pairing rounds: the `rounds` column family, one record per round
// (store.h documents the layout and the contracts).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
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

// Room left in an id for a "-N" suffix.
constexpr size_t kMaxRoundBaseLength = 56;

absl::Status NoRound(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no round with id \"", id, "\""));
}

}  // namespace

absl::StatusOr<v1::Round> Store::CreateRound(v1::Round round) {
  if (absl::Status s = ValidateId("round.id", round.id()); !s.ok()) return s;
  std::string base = round.id().substr(0, kMaxRoundBaseLength);
  while (!base.empty() && base.back() == '-') base.pop_back();
  absl::MutexLock lock(&write_mu_);
  std::string id = base;
  for (int n = 2;; ++n) {
    std::string ignored;
    rocksdb::Status g = db_->Get(rocksdb::ReadOptions(), rounds_, id, &ignored);
    if (g.IsNotFound()) break;
    if (!g.ok()) return FromRocks(g, "reading round");
    id = absl::StrCat(base, "-", n);
  }
  round.set_id(id);
  rocksdb::WriteBatch batch;
  batch.Put(rounds_, id, Serialize(round));
  if (absl::Status s = Write(&batch); !s.ok()) return s;
  return round;
}

absl::StatusOr<v1::Round> Store::GetRound(absl::string_view id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), rounds_, ToSlice(id), &value);
  if (s.IsNotFound()) return NoRound(id);
  if (!s.ok()) return FromRocks(s, "reading round");
  return ParseRecord<v1::Round>(value, "round");
}

absl::StatusOr<std::vector<v1::Round>> Store::ListRounds(absl::string_view start_after,
                                                        size_t limit, bool* more) const {
  std::vector<v1::Round> out;
  *more = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), rounds_));
  for (it->Seek(ToSlice(start_after)); it->Valid(); it->Next()) {
    if (ToView(it->key()) == start_after) continue;
    if (out.size() == limit) {
      *more = true;
      break;
    }
    auto round = ParseRecord<v1::Round>(ToView(it->value()), "round");
    if (!round.ok()) return round.status();
    out.push_back(*std::move(round));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "listing rounds");
  return out;
}

absl::StatusOr<v1::Round> Store::UpdateRound(
    absl::string_view id, absl::FunctionRef<absl::StatusOr<bool>(v1::Round*)> change) {
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<v1::Round> round = GetRound(id);
  if (!round.ok()) return round.status();
  absl::StatusOr<bool> changed = change(&*round);
  if (!changed.ok()) return changed.status();
  if (!*changed) return round;
  rocksdb::WriteBatch batch;
  batch.Put(rounds_, ToSlice(round->id()), Serialize(*round));
  if (absl::Status s = Write(&batch); !s.ok()) return s;
  return round;
}

absl::StatusOr<std::vector<RoundDecision>> Store::ListRoundDecisions() const {
  std::vector<RoundDecision> out;
  // One iterator is one consistent version, on a writer and on a replica.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), rounds_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto round = ParseRecord<v1::Round>(ToView(it->value()), "round");
    if (!round.ok()) return round.status();
    for (const v1::RoundPair& p : round->pairs()) {
      if (p.state() != v1::PAIR_STATE_ACCEPTED && p.state() != v1::PAIR_STATE_DECLINED) continue;
      RoundDecision d;
      d.round_id = round->id();
      d.asking_city_id = p.pair().asking_city_id();
      d.peer_city_id = p.pair().peer_city_id();
      d.challenge_id = p.pair().challenge_id();
      d.solution_id = p.pair().solution_id();
      d.score = p.pair().score();
      d.state = p.state();
      d.reason = p.reason();
      d.comment = p.comment();
      d.decided_at = p.decided_at();
      out.push_back(std::move(d));
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "listing rounds");
  return out;
}

}  // namespace peermatch
