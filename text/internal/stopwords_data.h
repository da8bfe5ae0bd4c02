// The vendored stopword lists (text/internal/stopwords/*.txt, origins and
// licences in stopwords/SOURCES), embedded in the library at configure time.
#ifndef PEERMATCH_TEXT_INTERNAL_STOPWORDS_DATA_H_
#define PEERMATCH_TEXT_INTERNAL_STOPWORDS_DATA_H_

#include <cstddef>

namespace peermatch::text_internal {

struct StopwordList {
  const char* language;  // ISO 639-1
  const char* words;     // one per line, UTF-8
};

extern const StopwordList kStopwordLists[];
extern const size_t kStopwordListCount;

}  // namespace peermatch::text_internal

#endif  // PEERMATCH_TEXT_INTERNAL_STOPWORDS_DATA_H_
