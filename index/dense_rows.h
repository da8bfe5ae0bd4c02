// DenseRows: the row-major float matrix behind an index's dense vectors, in
// one anonymous memory mapping reserved up front. Pages cost memory only
// once written (a reservation larger than needed is free), unwritten rows
// read as zero, and rows do not move while the capacity holds, so several
// threads can fill different rows at once. An Index takes the matrix over
// without a copy.
//
// Ownership: owns its mapping (move-only).
// Thread-safety: thread-compatible; different rows may be written
// concurrently, Reserve() needs exclusive access.
#ifndef PEERMATCH_INDEX_DENSE_ROWS_H_
#define PEERMATCH_INDEX_DENSE_ROWS_H_

#include <cstddef>

namespace peermatch {

class DenseRows {
 public:
  DenseRows() = default;
  // rows() == 0; room for `capacity` rows of `cols` floats.
  DenseRows(size_t cols, size_t capacity);
  ~DenseRows();
  DenseRows(DenseRows&& other) noexcept;
  DenseRows& operator=(DenseRows&& other) noexcept;
  DenseRows(const DenseRows&) = delete;
  DenseRows& operator=(const DenseRows&) = delete;

  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  size_t capacity() const { return capacity_; }
  // Row i (i < capacity()): cols() floats. Null when cols() == 0.
  float* row(size_t i) { return data_ == nullptr ? nullptr : data_ + i * cols_; }
  const float* row(size_t i) const { return data_ == nullptr ? nullptr : data_ + i * cols_; }
  const float* data() const { return data_; }
  // Grows the capacity to at least `capacity` rows; rows may move.
  void Reserve(size_t capacity);
  // Sets rows() (<= capacity()); rows past the old end that were never
  // written are zero.
  void SetRows(size_t rows);
  // Bytes of the rows in use.
  size_t Bytes() const { return rows_ * cols_ * sizeof(float); }

 private:
  void Release();

  float* data_ = nullptr;
  size_t rows_ = 0, cols_ = 0, capacity_ = 0;
  size_t mapped_bytes_ = 0;
};

}  // namespace peermatch

#endif  // PEERMATCH_INDEX_DENSE_ROWS_H_
