// The store's encoding helpers, shared by its source files: key layouts,
// record (de)serialization and the one conversion of RocksDB statuses.
// Private to store/.
#ifndef PEERMATCH_STORE_INTERNAL_ROCKS_UTIL_H_
#define PEERMATCH_STORE_INTERNAL_ROCKS_UTIL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message.h"
#include "rocksdb/slice.h"
#include "rocksdb/status.h"

namespace peermatch::internal {

inline std::string Be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

inline uint64_t FromBe64(absl::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

inline std::string CityCaseKey(absl::string_view city_id, absl::string_view case_id) {
  return absl::StrCat(city_id, absl::string_view("\0", 1), case_id);
}

inline std::string VectorKey(uint64_t version, absl::string_view case_id) {
  return absl::StrCat(Be64(version), case_id);
}

inline rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
inline absl::string_view ToView(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

// The one place RocksDB statuses become absl statuses.
inline absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return absl::UnavailableError(
        absl::StrCat(msg, " (is another peermatchd or peermatch using this data directory?)"));
  }
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(absl::StrCat(msg, " (the disk is full)"));
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  return absl::InternalError(msg);
}

template <typename Message>
absl::StatusOr<Message> ParseRecord(absl::string_view bytes, absl::string_view what) {
  Message m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("stored ", what, " does not parse"));
  }
  return m;
}

inline std::string Serialize(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

}  // namespace peermatch::internal

#endif  // PEERMATCH_STORE_INTERNAL_ROCKS_UTIL_H_
