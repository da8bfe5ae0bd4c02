// What `peermatch pair` and `peermatch round` share (pair_command.cc): the
// pairing flags, read into a PairCitiesRequest, and the staff's pair table.
#ifndef PEERMATCH_CLIENTS_PAIR_VIEW_H_
#define PEERMATCH_CLIENTS_PAIR_VIEW_H_

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/args.h"
#include "peermatch/v1/peermatch.pb.h"

namespace peermatch::cli {

// The pairing flags (--k, --capacity, --exclude-same-country, --min-score,
// --avoid, --keep, --city, --region, --theme, --mutual, --score-only,
// --candidates-per-city), and those of them that take no value.
const std::set<std::string>& PairingFlags();
const std::set<std::string>& PairingBooleanFlags();
// `own` and the pairing flags.
std::set<std::string> WithPairingFlags(std::set<std::string> own);

// The request the pairing flags of `args` ask for. INVALID_ARGUMENT naming
// the flag ("--avoid: \"a\" is not ASKING_CITY:PEER_CITY", "--k: ...").
absl::StatusOr<v1::PairCitiesRequest> PairRequestFromFlags(const Args& args);

// RFC 4180: `field` quoted when it holds a comma, a quote or a line break.
std::string Csv(const std::string& field);

// The table staff read: one row per pair (asking city named on its first
// row), peer, score, strength and the solution behind it. With `states`
// (one per pair), a STATE column after STRENGTH.
void PrintPairTable(FILE* out, const std::vector<v1::Pair>& pairs,
                    const std::map<std::string, v1::City>& cities,
                    const std::vector<std::string>* states = nullptr);

}  // namespace peermatch::cli

#endif  // PEERMATCH_CLIENTS_PAIR_VIEW_H_
