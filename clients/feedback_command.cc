// `peermatch feedback` (issue 14): tells the server whether a solution shown
// by Match was useful evidence for a challenge (RecordFeedback).
#include <cstdio>

#include "absl/strings/str_join.h"
#include "clients/command.h"
#include "records/records.h"
#include "grpcpp/client_context.h"

namespace peermatch::cli {
namespace {

absl::Status RunFeedback(Context& ctx) {
  const Args& args = ctx.args;
  v1::RecordFeedbackRequest req;
  const auto& words = args.positional();
  if (args.Has("case")) {
    if (!words.empty()) return absl::InvalidArgumentError("give either TEXT or --case ID, not both");
    req.set_query_case_id(args.Get("case"));
  } else if (!words.empty()) {
    req.set_query_text(absl::StrJoin(words, " "));
  } else {
    return absl::InvalidArgumentError("give the challenge: TEXT or --case ID");
  }
  if (!args.Has("solution")) return absl::InvalidArgumentError("--solution ID is required");
  req.set_solution_case_id(args.Get("solution"));
  req.set_city_id(args.Get("city"));
  if (args.Has("useful") == args.Has("not-useful")) {
    return absl::InvalidArgumentError("give exactly one of --useful and --not-useful");
  }
  req.set_useful(args.Has("useful"));
  v1::RecordFeedbackResponse resp;
  grpc::ClientContext call;
  ctx.Prepare(&call);
  if (auto s = FromGrpc(ctx.Stub().RecordFeedback(&call, req, &resp), ctx.server); !s.ok()) {
    return s;
  }
  if (ctx.json) {
    std::printf("%s\n", ToJson(resp).c_str());
    return absl::OkStatus();
  }
  std::printf("recorded: %s %s for %s\n", resp.judgement().solution_case_id().c_str(),
              resp.judgement().relevant() ? "useful" : "not useful",
              req.query_case_id().empty() ? "the text" : req.query_case_id().c_str());
  std::printf("fusion: %s\n", resp.fusion().reason().c_str());
  return absl::OkStatus();
}

}  // namespace

void AddFeedbackCommands(std::vector<Command>* out) {
  out->push_back(Command{
      "feedback", "say whether a solution Match showed was useful (learned fusion)",
      "Usage: peermatch feedback (TEXT | --case ID) --solution ID [--city ID]\n"
      "                          (--useful | --not-useful)\n"
      "\n"
      "Records that the solution --solution, shown by `peermatch match` for the\n"
      "challenge (the same TEXT, or the stored challenge --case ID), was useful\n"
      "evidence or not. Judging the same challenge and solution again replaces the\n"
      "earlier feedback. Once there are enough judgements the server fits the\n"
      "weights of its score parts to them (`peermatch stats` says whether it does\n"
      "and why). Needs a write token.\n"
      "\n"
      "  --case ID       the stored challenge Match was asked about\n"
      "  --solution ID   the solution case the feedback is about\n"
      "  --city ID       the peer city shown (checked: must be the solution's city)\n"
      "  --useful        it was useful evidence\n"
      "  --not-useful    it was not\n",
      {"case", "solution", "city", "useful", "not-useful"},
      {"useful", "not-useful"},
      RunFeedback});
}

}  // namespace peermatch::cli
