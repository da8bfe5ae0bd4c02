// The staff console's built files (issue 15), embedded in the program at
// build time: web/src bundled by web/build.mjs (esbuild, from the npm
// packages of web/package-lock.json), then turned into this library by
// cmake/embed_files.py. Nothing is read from disk or the network at run
// time.
//
//   ServerOptions options;
//   options.console = ConsoleFiles();   // served at / (service/console.h)
//
// Thread-safety: the files are immutable; call from any thread.
#ifndef PEERMATCH_WEB_CONSOLE_FILES_H_
#define PEERMATCH_WEB_CONSOLE_FILES_H_

#include <vector>

#include "service/console.h"

namespace peermatch {

// index.html at "/", and each asset at "/console/NAME".
const std::vector<StaticFile>& ConsoleFiles();

}  // namespace peermatch

#endif  // PEERMATCH_WEB_CONSOLE_FILES_H_
