#include "bench/faiss_anchor.h"

#include <dlfcn.h>
#include <omp.h>

#include <climits>
#include <cstdlib>
#include <exception>
#include <string>

#include "absl/strings/str_cat.h"
#include "faiss/IndexFlat.h"
#include "faiss/utils/distances.h"

namespace peermatch::bench {

FaissFlatIP::FaissFlatIP() = default;
FaissFlatIP::~FaissFlatIP() = default;

absl::Status FaissFlatIP::Build(const float* x, size_t n, size_t d) {
  try {
    index_ = std::make_unique<faiss::IndexFlatIP>(static_cast<faiss::Index::idx_t>(d));
    index_->add(static_cast<faiss::Index::idx_t>(n), x);
  } catch (const std::exception& e) {
    index_.reset();
    return absl::InternalError(absl::StrCat("faiss IndexFlatIP add: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status FaissFlatIP::Search(const float* queries, size_t nq, size_t k, float* scores,
                                 int64_t* ids) const {
  if (index_ == nullptr) return absl::FailedPreconditionError("faiss index not built");
  try {
    static_assert(sizeof(faiss::Index::idx_t) == sizeof(int64_t));
    index_->search(static_cast<faiss::Index::idx_t>(nq), queries, static_cast<faiss::Index::idx_t>(k), scores,
                   reinterpret_cast<faiss::Index::idx_t*>(ids));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("faiss IndexFlatIP search: ", e.what()));
  }
  return absl::OkStatus();
}

namespace {

std::string EnvOrUnset(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "unset" : v;
}

// Which BLAS serves FAISS's sgemm: OpenBLAS says so through its own symbol;
// otherwise it is whatever libblas.so.3 points to (Debian's alternatives).
std::string BlasDescription() {
  using ConfigFn = const char* (*)();
  if (auto config = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
    return absl::StrCat("OpenBLAS (", config(), ")");
  }
  Dl_info info;
  void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
  if (sgemm != nullptr && dladdr(sgemm, &info) != 0 && info.dli_fname != nullptr) {
    char real[PATH_MAX];
    const char* path = realpath(info.dli_fname, real) != nullptr ? real : info.dli_fname;
    return absl::StrCat("sgemm_ from ", path,
                        " (not OpenBLAS: the reference BLAS unless Debian's alternatives "
                        "point libblas.so.3 elsewhere; single-threaded)");
  }
  return "unknown";
}

}  // namespace

void DescribeFaiss(BenchResults* results) {
  results->SetString("faiss_version", absl::StrCat(FAISS_VERSION_MAJOR, ".", FAISS_VERSION_MINOR,
                                                    ".", FAISS_VERSION_PATCH));
  results->SetInt("faiss_omp_max_threads", omp_get_max_threads());
  results->SetString("faiss_omp_num_threads_env", EnvOrUnset("OMP_NUM_THREADS"));
  results->SetString("faiss_openblas_num_threads_env", EnvOrUnset("OPENBLAS_NUM_THREADS"));
  results->SetString("faiss_blas", BlasDescription());
  results->SetInt("faiss_blas_threshold", faiss::distance_compute_blas_threshold);
}

}  // namespace peermatch::bench
