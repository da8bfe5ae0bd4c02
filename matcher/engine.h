// Engine: the matching engine's door. Every write of a case goes through it so
// that the case's vectors are computed with the current model and written in
// the same batch as the case, and the in-memory index follows the store.
//
// Ownership: borrows the Store, which must outlive the Engine.
// Thread-safety: all methods are safe to call concurrently.
#ifndef PEERMATCH_MATCHER_ENGINE_H_
#define PEERMATCH_MATCHER_ENGINE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "peermatch/v1/model.pb.h"
#include "store/store.h"

namespace peermatch {

class Engine {
 public:
  // Opens the engine over `store`.
  static absl::StatusOr<std::unique_ptr<Engine>> Open(Store* store);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Store& store() const { return *store_; }

  // Writes. Each returns what Store's method of the same name returns.
  absl::StatusOr<PutResult> PutCity(const v1::City& city);
  absl::StatusOr<PutResult> PutCase(const v1::Case& c);
  absl::StatusOr<int> DeleteCity(absl::string_view id, bool cascade);
  absl::Status DeleteCase(absl::string_view id);
  // Applies one import record (a city or a case). INVALID_ARGUMENT
  // ("record: ...") when it holds neither.
  absl::StatusOr<PutResult> Apply(const v1::ImportRecord& record);

 private:
  explicit Engine(Store* store) : store_(store) {}
  Store* store_;  // borrowed
};

}  // namespace peermatch

#endif  // PEERMATCH_MATCHER_ENGINE_H_
