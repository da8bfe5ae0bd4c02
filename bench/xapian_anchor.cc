#include "bench/xapian_anchor.h"

#include <filesystem>
#include <xapian.h>

#include "absl/strings/str_cat.h"

namespace peermatch::bench {

struct XapianAnchor::State {
  std::string dir;
  std::unique_ptr<Xapian::WritableDatabase> writer;
  Xapian::TermGenerator generator;
  std::unique_ptr<Xapian::Database> reader;
  std::unique_ptr<Xapian::Enquire> enquire;
  Xapian::QueryParser parser;
  Xapian::Stem stem{"en"};
};

XapianAnchor::XapianAnchor(std::unique_ptr<State> state) : state_(std::move(state)) {}
XapianAnchor::~XapianAnchor() = default;

absl::StatusOr<std::unique_ptr<XapianAnchor>> XapianAnchor::Create(const std::string& dir) {
  try {
    std::filesystem::remove_all(dir);
    auto state = std::make_unique<State>();
    state->dir = dir;
    state->writer = std::make_unique<Xapian::WritableDatabase>(dir, Xapian::DB_CREATE_OR_OVERWRITE);
    state->generator.set_stemmer(state->stem);
    state->generator.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    return std::unique_ptr<XapianAnchor>(new XapianAnchor(std::move(state)));
  } catch (const Xapian::Error& e) {
    return absl::InternalError(absl::StrCat("xapian: ", e.get_description()));
  }
}

absl::Status XapianAnchor::Add(const std::string& title, const std::string& description) {
  try {
    Xapian::Document doc;
    state_->generator.set_document(doc);
    state_->generator.index_text(title, 2);
    state_->generator.increase_termpos();
    state_->generator.index_text(description);
    state_->writer->add_document(doc);
    return absl::OkStatus();
  } catch (const Xapian::Error& e) {
    return absl::InternalError(absl::StrCat("xapian: ", e.get_description()));
  }
}

absl::Status XapianAnchor::Finish() {
  try {
    state_->writer->commit();
    state_->writer.reset();
    state_->reader = std::make_unique<Xapian::Database>(state_->dir);
    state_->enquire = std::make_unique<Xapian::Enquire>(*state_->reader);
    state_->enquire->set_weighting_scheme(Xapian::BM25Weight());
    state_->parser.set_stemmer(state_->stem);
    state_->parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    state_->parser.set_default_op(Xapian::Query::OP_OR);
    state_->parser.set_database(*state_->reader);
    return absl::OkStatus();
  } catch (const Xapian::Error& e) {
    return absl::InternalError(absl::StrCat("xapian: ", e.get_description()));
  }
}

absl::StatusOr<int> XapianAnchor::Search(const std::string& text, int k) {
  try {
    state_->enquire->set_query(state_->parser.parse_query(text));
    Xapian::MSet mset = state_->enquire->get_mset(0, k);
    return static_cast<int>(mset.size());
  } catch (const Xapian::Error& e) {
    return absl::InternalError(absl::StrCat("xapian: ", e.get_description()));
  }
}

std::string XapianAnchor::Version() { return Xapian::version_string(); }

}  // namespace peermatch::bench
