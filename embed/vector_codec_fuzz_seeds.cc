// Writes vector_codec_fuzz's seeds into the directory given as argv[1]:
// vectors as Model::EncodeVector writes them (with and without a dense
// part, grams, non-ASCII terms) and models as Model::Serialize writes them
// (the empty model and one fitted to a few cases).
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "embed/model.h"
#include "peermatch/v1/model.pb.h"

namespace {

void Write(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

peermatch::v1::Case MakeCase(const std::string& id, const std::string& title,
                             const std::string& description) {
  peermatch::v1::Case c;
  c.set_id(id);
  c.set_city_id("example-town");
  c.set_title(title);
  c.set_description(description);
  c.set_language("en");
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: vector_codec_fuzz_seeds DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  const std::vector<peermatch::v1::Case> cases = {
      MakeCase("a", "Pupils without internet", "Since schools closed, pupils have no internet."),
      MakeCase("b", "Radio lessons", "Lessons broadcast by radio reach rural pupils at home."),
      MakeCase("c", "Tablets for families", "Families borrow tablets and data from the library."),
      MakeCase("d", "Adult literacy", "Evening literacy classes for adults in community halls."),
  };
  std::vector<const peermatch::v1::Case*> pointers;
  for (const auto& c : cases) pointers.push_back(&c);
  const auto fitted = peermatch::Model::Fit(pointers, 7, peermatch::ModelOptions());
  const auto empty = peermatch::Model::Empty();

  Write(dir, "model-empty", empty->Serialize());
  Write(dir, "model-fitted", fitted.model->Serialize());
  for (size_t i = 0; i < fitted.embeddings.size(); ++i) {
    Write(dir, "vector-fitted-" + std::to_string(i), fitted.model->EncodeVector(fitted.embeddings[i]));
  }
  peermatch::Embedding sparse;
  sparse.words = {{"\xc3\xa9" "cole", 1.5f}, {"school", 0.25f}};
  sparse.grams = {{std::string(1, peermatch::kGramPrefix) + "scho", 0.5f}};
  Write(dir, "vector-sparse", empty->EncodeVector(sparse));
  Write(dir, "vector-empty", empty->EncodeVector(peermatch::Embedding()));
  return 0;
}
