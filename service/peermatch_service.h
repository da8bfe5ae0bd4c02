// PeermatchService: the gRPC handlers of peermatch.v1.Peermatch on the
// callback API. Each handler validates the request's shape, calls the
// engine or the store, and maps the result back; no domain logic lives here.
//
// Match and SimilarCases are raw methods (they take and give wire bytes): a
// repeated question is answered from the ReplyCache without parsing,
// searching or serializing; any other is parsed here (INVALID_ARGUMENT when
// its bytes do not parse), answered by the engine and cached.
//
// CreateBackup writes only under HeavyWork::backup_root.
//
// Heavy calls (PairCities, CreateBackup) run on the HeavyWork executor,
// never on a gRPC thread: RESOURCE_EXHAUSTED when it is full; a call whose
// client cancels, or whose deadline passes, cancels its job.
//
// Access: writes (Put*, Update*, Delete*, ImportRecords, CreateBackup, and
// the rounds' CreateRound, DecideRoundPair, RematchRound, CloseRound) need a write token; every
// other call a read or write token (see auth.h).
//
// Ownership: borrows the Engine, the Auth and the executor, which must
// outlive the service.
// Thread-safety: handlers run concurrently on gRPC's threads; the Engine and
// Store are thread-safe.
#ifndef PEERMATCH_SERVICE_PEERMATCH_SERVICE_H_
#define PEERMATCH_SERVICE_PEERMATCH_SERVICE_H_

#include <functional>
#include <string>

#include "common/cancellation.h"
#include "common/executor.h"
#include "engine/engine.h"
#include "peermatch/v1/peermatch.grpc.pb.h"
#include "service/auth.h"
#include "service/reply_cache.h"

namespace peermatch {

// Match and SimilarCases take raw bytes (the reply cache keys on them);
// ImportRecords does too, so that a message that does not parse is
// reported as a bad record instead of ending the stream.
using PeermatchServiceBase = v1::Peermatch::WithRawCallbackMethod_Match<
    v1::Peermatch::WithRawCallbackMethod_SimilarCases<
        v1::Peermatch::WithRawCallbackMethod_ImportRecords<v1::Peermatch::CallbackService>>>;

// Where the service runs its heavy calls.
struct HeavyWork {
  Executor* executor = nullptr;  // borrowed; required
  // CreateBackup writes only under this directory (see ResolveBackupDir);
  // empty: every CreateBackup is refused FAILED_PRECONDITION.
  std::string backup_root;
  // Testing seam: when set, called on a pairing's thread (PairCities, and
  // CreateRoundWithProgress) after each of its progress messages is queued, with the job's Cancellation (a test holds
  // a pairing there, at a known point, until its client has cancelled).
  std::function<void(const Cancellation&)> after_progress;
};

// The directory a CreateBackup with `to_dir` writes into: `to_dir` itself
// when absolute, else `backup_root`/`to_dir`, with ".." and symbolic links
// resolved. Errors name the field:
//   PERMISSION_DENIED   it is outside `backup_root`, or the root itself;
//   FAILED_PRECONDITION it exists and holds anything but peermatch backups
//                       (RocksDB's clean-up could delete such files), or is
//                       not a directory; `backup_root` is empty;
//   INVALID_ARGUMENT    `to_dir` is empty.
// Thread-safe (reads the file system only).
absl::StatusOr<std::string> ResolveBackupDir(const std::string& backup_root,
                                             const std::string& to_dir);

class PeermatchService final : public PeermatchServiceBase {
 public:
  // `reply_cache_bytes`: bytes of replies kept for repeated questions, at
  // most 4,096 replies (0: none).
  PeermatchService(Engine* engine, const Auth* auth, HeavyWork heavy,
                   size_t reply_cache_bytes = size_t{64} << 20)
      : engine_(engine),
        auth_(auth),
        heavy_(std::move(heavy)),
        replies_(reply_cache_bytes == 0 ? 0 : kReplyCacheEntries, reply_cache_bytes) {}
  static constexpr size_t kReplyCacheEntries = 4096;

  grpc::ServerUnaryReactor* PutCity(grpc::CallbackServerContext* ctx,
                                    const v1::PutCityRequest* req,
                                    v1::PutCityResponse* resp) override;
  grpc::ServerUnaryReactor* GetCity(grpc::CallbackServerContext* ctx,
                                    const v1::GetCityRequest* req, v1::City* resp) override;
  grpc::ServerUnaryReactor* ListCities(grpc::CallbackServerContext* ctx,
                                       const v1::ListCitiesRequest* req,
                                       v1::ListCitiesResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteCity(grpc::CallbackServerContext* ctx,
                                       const v1::DeleteCityRequest* req,
                                       v1::DeleteCityResponse* resp) override;
  grpc::ServerUnaryReactor* PutCase(grpc::CallbackServerContext* ctx,
                                    const v1::PutCaseRequest* req,
                                    v1::PutCaseResponse* resp) override;
  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* ctx,
                                    const v1::GetCaseRequest* req, v1::Case* resp) override;
  grpc::ServerUnaryReactor* ListCases(grpc::CallbackServerContext* ctx,
                                      const v1::ListCasesRequest* req,
                                      v1::ListCasesResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteCase(grpc::CallbackServerContext* ctx,
                                       const v1::DeleteCaseRequest* req,
                                       v1::DeleteCaseResponse* resp) override;
  // In update_handler.cc.
  grpc::ServerUnaryReactor* UpdateCity(grpc::CallbackServerContext* ctx,
                                       const v1::UpdateCityRequest* req, v1::City* resp) override;
  grpc::ServerUnaryReactor* UpdateCase(grpc::CallbackServerContext* ctx,
                                       const v1::UpdateCaseRequest* req, v1::Case* resp) override;
  grpc::ServerReadReactor<grpc::ByteBuffer>* ImportRecords(grpc::CallbackServerContext* ctx,
                                                           grpc::ByteBuffer* reply) override;
  grpc::ServerUnaryReactor* Match(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                  grpc::ByteBuffer* resp) override;
  grpc::ServerUnaryReactor* SimilarCases(grpc::CallbackServerContext* ctx,
                                         const grpc::ByteBuffer* req,
                                         grpc::ByteBuffer* resp) override;
  grpc::ServerWriteReactor<v1::PairCitiesResponse>* PairCities(
      grpc::CallbackServerContext* ctx, const v1::PairCitiesRequest* req) override;
  // In backup_handler.cc.
  grpc::ServerUnaryReactor* CreateBackup(grpc::CallbackServerContext* ctx,
                                         const v1::CreateBackupRequest* req,
                                         v1::BackupInfo* resp) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* ctx,
                                     const v1::GetStatsRequest* req, v1::Stats* resp) override;
  // Pairing rounds, in round_handler.cc (issue 14). CreateRound and
  // RematchRound run on the heavy-work executor; writes need a write token
  // and are refused FAILED_PRECONDITION on a read replica.
  grpc::ServerUnaryReactor* CreateRound(grpc::CallbackServerContext* ctx,
                                        const v1::CreateRoundRequest* req,
                                        v1::Round* resp) override;
  // Issue 15: CreateRound streaming the solve's progress, then the round.
  grpc::ServerWriteReactor<v1::CreateRoundProgress>* CreateRoundWithProgress(
      grpc::CallbackServerContext* ctx, const v1::CreateRoundRequest* req) override;
  grpc::ServerUnaryReactor* GetRound(grpc::CallbackServerContext* ctx,
                                     const v1::GetRoundRequest* req, v1::Round* resp) override;
  grpc::ServerUnaryReactor* ListRounds(grpc::CallbackServerContext* ctx,
                                       const v1::ListRoundsRequest* req,
                                       v1::ListRoundsResponse* resp) override;
  grpc::ServerUnaryReactor* DecideRoundPair(grpc::CallbackServerContext* ctx,
                                            const v1::DecideRoundPairRequest* req,
                                            v1::DecideRoundPairResponse* resp) override;
  grpc::ServerUnaryReactor* RematchRound(grpc::CallbackServerContext* ctx,
                                         const v1::RematchRoundRequest* req,
                                         v1::RematchRoundResponse* resp) override;
  grpc::ServerUnaryReactor* CloseRound(grpc::CallbackServerContext* ctx,
                                       const v1::CloseRoundRequest* req, v1::Round* resp) override;
  // In feedback_handler.cc (issue 14).
  grpc::ServerUnaryReactor* RecordFeedback(grpc::CallbackServerContext* ctx,
                                           const v1::RecordFeedbackRequest* req,
                                           v1::RecordFeedbackResponse* resp) override;

 private:
  // OK when the call's `authorization` metadata grants `needed` (auth.h).
  absl::Status Authorize(grpc::CallbackServerContext* ctx, Access needed) const;

  // `stop`: the call's deadline and cancellation, which the engine checks
  // while it scans (DEADLINE_EXCEEDED, CANCELLED).
  absl::Status Match(const v1::MatchRequest& req, const QueryStop& stop,
                     v1::MatchResponse* resp) const;
  absl::Status SimilarCases(const v1::SimilarCasesRequest& req, const QueryStop& stop,
                            v1::SimilarCasesResponse* resp) const;
  // Answers a raw call from the cache, or parses it as a `Request` and
  // calls `answer` with the call's QueryStop, caching its reply.
  template <typename Request, typename Response>
  absl::Status Cached(grpc::CallbackServerContext* ctx, absl::string_view method,
                      const grpc::ByteBuffer& request,
                      absl::Status (PeermatchService::*answer)(const Request&, const QueryStop&,
                                                               Response*) const,
                      grpc::ByteBuffer* reply);

  Engine* engine_;     // borrowed
  const Auth* auth_;   // borrowed
  const HeavyWork heavy_;
  ReplyCache replies_;
};

}  // namespace peermatch

#endif  // PEERMATCH_SERVICE_PEERMATCH_SERVICE_H_
