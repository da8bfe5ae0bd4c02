// TestEngine: a store over a temporary directory (no fsync: a test's crash
// safety is tested elsewhere) and an engine over it that refits inline (no
// background thread).
#ifndef PEERMATCH_TESTS_TESTING_TEST_ENGINE_H_
#define PEERMATCH_TESTS_TESTING_TEST_ENGINE_H_

#include <functional>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "gtest/gtest.h"
#include "store/store.h"

namespace peermatch::testing {

struct TestEngine {
  // Opens both over `db_dir` (created when missing); failures are test
  // failures, and leave the pointers null. `before_publish`:
  // EngineOptions::before_publish_for_test; `at_query_check`:
  // EngineOptions::at_query_check_for_test; `fusion`: EngineOptions::fusion.
  explicit TestEngine(const std::string& db_dir, std::function<void()> before_publish = nullptr,
                      std::function<void(const QueryStop&)> at_query_check = nullptr,
                      const FusionOptions& fusion = {}) {
    StoreOptions so;
    so.sync = false;
    auto opened_store = Store::Open(db_dir, so);
    EXPECT_TRUE(opened_store.ok()) << opened_store.status();
    if (!opened_store.ok()) return;
    store = *std::move(opened_store);
    EngineOptions eo;
    eo.background_refit = false;
    eo.before_publish_for_test = std::move(before_publish);
    eo.at_query_check_for_test = std::move(at_query_check);
    eo.fusion = fusion;
    auto opened_engine = Engine::Open(store.get(), eo);
    EXPECT_TRUE(opened_engine.ok()) << opened_engine.status();
    if (opened_engine.ok()) engine = *std::move(opened_engine);
  }
  ~TestEngine() { engine.reset(); }  // before the store it borrows

  std::unique_ptr<Store> store;
  std::unique_ptr<Engine> engine;
};

}  // namespace peermatch::testing

#endif  // PEERMATCH_TESTS_TESTING_TEST_ENGINE_H_
