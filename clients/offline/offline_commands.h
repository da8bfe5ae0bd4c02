// The `peermatch` commands that open a store in this process: `import` and
// `backup` with --data-dir (without it they call the server, through
// clients/import_backup.h), `restore` and `backups` (backup directories) and
// `eval` (a temporary store). This library links the engine and RocksDB; the
// commands of clients/command.h do not.
#ifndef PEERMATCH_CLIENTS_OFFLINE_OFFLINE_COMMANDS_H_
#define PEERMATCH_CLIENTS_OFFLINE_OFFLINE_COMMANDS_H_

#include <vector>

#include "clients/command.h"

namespace peermatch::cli {

void AddImportCommands(std::vector<Command>* out);  // import_offline.cc: import
void AddBackupCommands(std::vector<Command>* out);  // backup_offline.cc: backup, restore, backups
void AddEvalCommands(std::vector<Command>* out);    // eval_command.cc: eval

}  // namespace peermatch::cli

#endif  // PEERMATCH_CLIENTS_OFFLINE_OFFLINE_COMMANDS_H_
