#pragma once
// The RocksDB tuning a store opens with, shared with the storage benchmark so that its raw
// baseline runs on the same settings.

#include <rocksdb/cache.h>
#include <rocksdb/options.h>

#include <memory>

namespace chainmesh::store::detail {

// Database-wide options; `create` for a new store (and only then).
rocksdb::DBOptions db_options(bool create);

// Options of every column family, sharing one block cache.
rocksdb::ColumnFamilyOptions cf_options(const std::shared_ptr<rocksdb::Cache>& cache);

}  // namespace chainmesh::store::detail
