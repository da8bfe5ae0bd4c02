// Engine's judgements and learned fusion (issue 14): reading the features
// of every judged challenge's candidates from the published snapshot, and
// fitting the fusion weights to them (engine/learned_fusion.h).
#include <map>
#include <string>
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
  absl::StatusOr<std::vector<v1::Judgement>> judgements = store_->ListJudgements();
  if (!judgements.ok()) return judgements.status();
  std::map<std::string, Judged> by_challenge;
  for (const v1::Judgement& j : *judgements) {
    Judged& judged = by_challenge[ChallengeKey(j)];
    if (judged.first == nullptr) judged.first = &j;
    judged.solutions[j.solution_case_id()] = j.relevant();
  }

  const std::shared_ptr<const Snapshot> snap = snapshot();
  const Index& index = *snap->index;
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
        language = c->language();
        asking_city = c->city_id();
        structured = internal::CaseStructure(*c);
      }
      // The candidates Match would rank: other cities' solutions.
      std::vector<bool> keep(index.size(), false);
      for (uint32_t d = 0; d < index.size(); ++d) {
        keep[d] = index.attributes(d).kind == v1::CASE_KIND_SOLUTION &&
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
  fit->judgements = static_cast<int64_t>(judgements->size());
  if (fit->learned) fit->model_version = snap->model->version();
  snapshots_.SetFusion(std::move(fit));
  return absl::OkStatus();
}

}  // namespace peermatch
