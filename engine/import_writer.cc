#include "engine/import_writer.h"

#include <algorithm>
#include <utility>

#include "engine/engine.h"

namespace peermatch {

ImportWriter::ImportWriter(Engine* engine, ImportGroupOptions options, Acknowledge acknowledge)
    : engine_(engine),
      options_{std::max(options.max_records, 1), options.max_wait},
      acknowledge_(std::move(acknowledge)) {}

ImportWriter::~ImportWriter() = default;

void ImportWriter::Add(int index, v1::ImportRecord record) {
  const absl::Time now = absl::Now();
  if (records_.empty()) first_added_ = now;
  records_.push_back(std::move(record));
  indexes_.push_back(index);
  if (static_cast<int>(records_.size()) >= options_.max_records ||
      now - first_added_ >= options_.max_wait) {
    Flush();
  }
}

void ImportWriter::Flush() {
  if (records_.empty()) return;
  absl::StatusOr<Store::BatchOutcome> outcome =
      engine_->ImportEach(records_, Visibility::kDeferred);
  ++commits_;
  for (size_t i = 0; i < records_.size(); ++i) {
    acknowledge_(indexes_[i], records_[i],
                 outcome.ok() ? outcome->results[i] : absl::StatusOr<PutResult>(outcome.status()));
  }
  acknowledged_ += static_cast<int64_t>(records_.size());
  records_.clear();
  indexes_.clear();
}

}  // namespace peermatch
