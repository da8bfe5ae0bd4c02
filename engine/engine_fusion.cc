// Engine's judgements and learned fusion (issue 14): reading the features
// of every judged challenge's candidates from the published snapshot, and
// fitting the fusion weights to them (engine/learned_fusion.h).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/internal/query_util.h"

namespace peermatch {
namespace {

// The judgements of one challenge, by solution case id (relevant or not).
struct Judged {
  const v1::Judgement* first = nullptr;  // the challenge's case id or text
  std::map<std::string, bool> solutions;
};

std::string ChallengeKey(const v1::Judgement& j) {
  return j.challenge_case_id().empty() ? absl::StrCat("~", j.challenge_text())
                                       : j.challenge_case_id();
}

}  // namespace

std::shared_ptr<const FusionFit> Engine::fusion() const {
  const std::shared_ptr<const Snapshot> snap = snapshot();
  if (snap != nullptr && snap->fusion != nullptr) return snap->fusion;
  auto defaults = std::make_shared<FusionFit>();
  defaults->weights = options_.weights;
  defaults->reason = "not fitted yet: the default weights are used";
  return defaults;
}

absl::StatusOr<v1::Judgement> Engine::AddJudgement(const v1::Judgement& j) {
  absl::StatusOr<v1::Judgement> stored = store_->AddJudgement(j);
  if (!stored.ok()) return stored;
  // The judgement is durable; a failed fit leaves the previous weights and
  // is not the caller's error.
  RefitFusion().IgnoreError();
  return stored;
}

absl::Status Engine::RefitFusion() {
  absl::MutexLock lock(&fusion_mu_);
  // Pairing rounds' decisions are judgements too, read from the rounds
  // themselves (so a decision changed later counts as it stands now): an
  // accepted pair labels its challenge and solution relevant, a pair
  // declined as not relevant labels them not relevant; other reasons (no
  // capacity, already partners, ...) say nothing about relevance. Explicit
  // judgements (RecordFeedback, eval) come after them and win.
  absl::StatusOr<std::vector<RoundDecision>> decisions = store_->ListRoundDecisions();
  if (!decisions.ok()) return decisions.status();
  std::vector<v1::Judgement> all;
  for (const RoundDecision& d : *decisions) {
    if (d.challenge_id.empty() || d.solution_id.empty()) continue;
    const bool accepted = d.state == v1::PAIR_STATE_ACCEPTED;
    if (!accepted && !(d.state == v1::PAIR_STATE_DECLINED &&
                       d.reason == v1::DECLINE_REASON_NOT_RELEVANT)) {
      continue;
    }
    v1::Judgement& j = all.emplace_back();
    j.set_challenge_case_id(d.challenge_id);
    j.set_solution_case_id(d.solution_id);
    j.set_relevant(accepted);
    j.set_source(v1::Judgement::SOURCE_ROUND_DECISION);
  }
  absl::StatusOr<std::vector<v1::Judgement>> judgements = store_->ListJudgements();
  if (!judgements.ok()) return judgements.status();
  for (v1::Judgement& j : *judgements) all.push_back(std::move(j));
  std::map<std::string, Judged> by_challenge;
  for (const v1::Judgement& j : all) {
    Judged& judged = by_challenge[ChallengeKey(j)];
    if (judged.first == nullptr) judged.first = &j;
    judged.solutions[j.solution_case_id()] = j.relevant();
  }

  const std::shared_ptr<const Snapshot> snap = snapshot();
  const SegmentedIndex& index = *snap->index;
  std::vector<FusionExample> examples;
  std::vector<std::string> solution_ids;  // the solutions' dense numbers
  std::map<std::string, uint32_t> solution_number;
  if (options_.fusion.enabled) {
    for (const auto& [key, judged] : by_challenge) {
      const v1::Judgement& j = *judged.first;
      std::string text = j.challenge_text(), language = j.language(), asking_city;
      StructuredQuery structured;
      if (!j.challenge_case_id().empty()) {
        auto c = store_->GetCase(j.challenge_case_id());
        if (!c.ok()) continue;  // deleted since: its judgements are not usable
        text = internal::CaseQueryText(*c);
        language = CaseAnalysisLanguage(*c);
        asking_city = c->city_id();
        structured = internal::CaseStructure(*c);
      }
      // The candidates Match would rank: other cities' solutions.
      std::vector<bool> keep(index.num_positions(), false);
      for (uint32_t d = 0; d < index.num_positions(); ++d) {
        keep[d] = index.live(d) && index.attributes(d).kind == v1::CASE_KIND_SOLUTION &&
                  (asking_city.empty() || index.doc(d).city_id != asking_city);
      }
      const QueryVector q = snap->model->EmbedQuery(text, language);
      const IndexQuery iq = internal::ToIndexQuery(q, terms_);
      const std::vector<Hit> hits = index.Search(iq, structured, keep, options_.weights,
                                                 static_cast<size_t>(options_.fusion.candidates));
      FusionExample& e = examples.emplace_back();
      e.key = key;
      for (const Hit& h : hits) {
        const std::string& id = index.doc(h.doc).case_id;
        auto [number, added] = solution_number.emplace(id, solution_ids.size());
        if (added) solution_ids.push_back(id);
        e.solutions.push_back(number->second);
        e.features.push_back(FeaturesOf(h));
        auto it = judged.solutions.find(id);
        e.labels.push_back(it == judged.solutions.end() ? 0 : (it->second ? 1 : -1));
      }
    }
  }
  auto fit = std::make_shared<FusionFit>(FitFusion(examples, solution_ids, options_.weights, options_.fusion));
  fit->judgements = static_cast<int64_t>(all.size());
  if (fit->learned) fit->model_version = snap->model->version();
  snapshots_.SetFusion(std::move(fit));
  return absl::OkStatus();
}

}  // namespace peermatch
