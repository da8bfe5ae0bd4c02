#include "embed/term_dictionary.h"

namespace peermatch {

uint32_t TermDictionary::Intern(absl::string_view term) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = ids_.find(term);
    if (it != ids_.end()) return it->second;
  }
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = ids_.emplace(term, static_cast<uint32_t>(terms_.size()));
  if (inserted) terms_.emplace_back(term);
  return it->second;
}

int64_t TermDictionary::Find(absl::string_view term) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = ids_.find(term);
  return it == ids_.end() ? -1 : static_cast<int64_t>(it->second);
}

const std::string& TermDictionary::Term(uint32_t id) const {
  absl::ReaderMutexLock lock(&mu_);
  return terms_[id];
}

void TermDictionary::FindAll(absl::Span<const absl::string_view> terms, uint32_t* ids) const {
  absl::ReaderMutexLock lock(&mu_);
  for (size_t i = 0; i < terms.size(); ++i) {
    auto it = ids_.find(terms[i]);
    ids[i] = it == ids_.end() ? kUnknown : it->second;
  }
}

void TermDictionary::InternAll(absl::Span<const absl::string_view> terms, uint32_t* ids) {
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < terms.size(); ++i) {
    auto [it, inserted] = ids_.emplace(terms[i], static_cast<uint32_t>(terms_.size()));
    if (inserted) terms_.emplace_back(terms[i]);
    ids[i] = it->second;
  }
}

uint32_t TermDictionary::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return static_cast<uint32_t>(terms_.size());
}

}  // namespace peermatch
