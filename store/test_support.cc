// Test-only access to raw RocksDB state that the Store API does not offer.
#include <string>
#include <vector>

#include "rocksdb/db.h"

namespace peermatch {

void SetSchemaVersionForTest(const std::string& path, const std::string& v) {
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  std::vector<std::string> names;
  rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::Open(rocksdb::DBOptions(), path, families, &handles, &db).ok()) abort();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "meta") db->Put(rocksdb::WriteOptions(), handles[i], "schema_version", v);
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  delete db;
}

}  // namespace peermatch
