// Writes rpc_fuzz's seeds into the directory given as argv[1]: for every
// method, requests like the tests' (in protobuf text format, for the
// method's own request type), encoded as rpc_fuzz_input.h says. Fails when
// a seed no longer parses as its request type (the proto changed: update
// the seed) or a method here no longer exists.
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "service/rpc_fuzz_input.h"

namespace {

struct Seed {
  const char* method;
  peermatch::fuzz::Credentials credentials;
  std::vector<const char*> messages;  // text format, of the method's request type
};

const Seed kSeeds[] = {
    {"PutCity", peermatch::fuzz::Credentials::kWrite,
     {R"(city { id: "example-town" name: "Example Town" country: "IT"
             region: REGION_EUROPE_NORTH_AMERICA population: 12000 languages: "it" })"}},
    {"PutCity", peermatch::fuzz::Credentials::kRead, {R"(city { id: "x" name: "X" country: "ZZ" })"}},
    {"GetCity", peermatch::fuzz::Credentials::kRead, {R"(id: "wuhan")"}},
    {"GetCity", peermatch::fuzz::Credentials::kNone, {R"(id: "atlantis")"}},
    {"ListCities", peermatch::fuzz::Credentials::kRead, {R"(page_size: 5 region: REGION_AFRICA)"}},
    {"DeleteCity", peermatch::fuzz::Credentials::kWrite, {R"(id: "example-town" cascade: true)"}},
    {"PutCase", peermatch::fuzz::Credentials::kWrite,
     {R"(case { id: "example-town-radio" city_id: "example-town" kind: CASE_KIND_SOLUTION
             title: "Radio lessons" description: "Lessons by radio reach pupils at home."
             themes: THEME_LEARNING_TECHNOLOGIES sdgs: 4 target_groups: "pupils"
             year: 2021 language: "en" })"}},
    {"PutCase", peermatch::fuzz::Credentials::kWrite,
     {R"(case { id: "wuhan-x" city_id: "wuhan" kind: CASE_KIND_CHALLENGE title: "T"
             description: "Scuole chiuse, alunni senza internet." sdgs: 18 language: "it" })"}},
    {"GetCase", peermatch::fuzz::Credentials::kRead, {R"(id: "wuhan-covid-air-classroom")"}},
    {"ListCases", peermatch::fuzz::Credentials::kRead,
     {R"(page_size: 3 city_id: "wuhan" kind: CASE_KIND_SOLUTION)"}},
    {"DeleteCase", peermatch::fuzz::Credentials::kWrite, {R"(id: "example-town-radio")"}},
    {"ImportRecords", peermatch::fuzz::Credentials::kWrite,
     {R"(city { id: "example-town" name: "Example Town" country: "IT" })",
      R"(case { id: "example-town-tablets" city_id: "example-town" kind: CASE_KIND_SOLUTION
              title: "Tablets" description: "Families borrow tablets from the library." })",
      R"(case { id: "bad" city_id: "atlantis" })"}},
    {"Match", peermatch::fuzz::Credentials::kRead,
     {R"(text: "pupils without internet during school closures" k: 5 evidence_per_city: 2
         filters { regions: REGION_AFRICA countries: "ET" } max_per_country: 1)"}},
    {"Match", peermatch::fuzz::Credentials::kRead,
     {R"(case_id: "bahir-dar-covid-pupils-offline" k: 3 themes: THEME_LEARNING_TECHNOLOGIES
         sdgs: 4 target_groups: "pupils" asking_city_id: "bahir-dar" language: "en")"}},
    {"SimilarCases", peermatch::fuzz::Credentials::kRead,
     {R"(text: "radio lessons for rural pupils" k: 4 language: "en")"}},
    {"PairCities", peermatch::fuzz::Credentials::kRead,
     {R"(regions: REGION_AFRICA k: 2 capacity: 3 exclude_same_country: true mutual: true)"}},
    {"GetStats", peermatch::fuzz::Credentials::kRead, {""}},
    {"CreateBackup", peermatch::fuzz::Credentials::kWrite, {R"(to_dir: "/backups" keep_last: 2)"}},
    {"Check", peermatch::fuzz::Credentials::kNone, {""}},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: rpc_fuzz_seeds DIR\n";
    return 2;
  }
  const auto methods = peermatch::fuzz::FuzzedMethods();
  int n = 0;
  for (const Seed& seed : kSeeds) {
    const google::protobuf::MethodDescriptor* method = nullptr;
    for (const auto* m : methods) {
      if (m->name() == seed.method) method = m;
    }
    if (method == nullptr) {
      std::cerr << "rpc_fuzz_seeds: no method " << seed.method << "\n";
      return 1;
    }
    const google::protobuf::Message* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(method->input_type());
    std::vector<std::string> messages;
    for (const char* text : seed.messages) {
      std::unique_ptr<google::protobuf::Message> m(prototype->New());
      if (!google::protobuf::TextFormat::ParseFromString(text, m.get())) {
        std::cerr << "rpc_fuzz_seeds: a " << seed.method << " seed does not parse as "
                  << method->input_type()->full_name() << ": " << text << "\n";
        return 1;
      }
      messages.push_back(m->SerializeAsString());
    }
    std::ofstream(std::string(argv[1]) + "/" + std::to_string(n++) + "-" + seed.method,
                  std::ios::binary)
        << peermatch::fuzz::EncodeInput(seed.method, seed.credentials, messages);
  }
  return 0;
}
