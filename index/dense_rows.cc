#include "index/dense_rows.h"

#include <sys/mman.h>

#include <cstring>
#include <new>
#include <utility>

namespace peermatch {
namespace {

// Maps `bytes` of zeroed memory (reserved, not committed: MAP_NORESERVE).
float* Map(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<float*>(p);
}

}  // namespace

DenseRows::DenseRows(size_t cols, size_t capacity) : cols_(cols) { Reserve(capacity); }

DenseRows::~DenseRows() { Release(); }

DenseRows::DenseRows(DenseRows&& other) noexcept { *this = std::move(other); }

DenseRows& DenseRows::operator=(DenseRows&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    rows_ = std::exchange(other.rows_, 0);
    cols_ = std::exchange(other.cols_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    mapped_bytes_ = std::exchange(other.mapped_bytes_, 0);
  }
  return *this;
}

void DenseRows::Release() {
  if (data_ != nullptr) munmap(data_, mapped_bytes_);
  data_ = nullptr;
  mapped_bytes_ = 0;
}

void DenseRows::Reserve(size_t capacity) {
  if (capacity <= capacity_) return;
  if (cols_ == 0) {
    capacity_ = capacity;
    return;
  }
  const size_t bytes = capacity * cols_ * sizeof(float);
  if (data_ == nullptr) {
    data_ = Map(bytes);
  } else {
    // The kernel moves the pages; nothing is copied.
    void* p = mremap(data_, mapped_bytes_, bytes, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = static_cast<float*>(p);
  }
  // Huge pages where the kernel allows them: filling the rows then faults
  // (and zeroes) 2 MB at a time instead of 4 KB, which was a large part of
  // loading a store.
  madvise(data_, bytes, MADV_HUGEPAGE);
  mapped_bytes_ = bytes;
  capacity_ = capacity;
}

void DenseRows::SetRows(size_t rows) {
  Reserve(rows);
  if (rows < rows_ && data_ != nullptr) {
    // Rows dropped now read as zero if they come back.
    std::memset(row(rows), 0, (rows_ - rows) * cols_ * sizeof(float));
  }
  rows_ = rows;
}

}  // namespace peermatch
