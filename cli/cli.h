/* cli.h — the subcommands of the rasterpool program. */
#ifndef RP_CLI_H
#define RP_CLI_H
#include "rasterpool.h"

int cmd_extract(int argc, const char *const *argv);

#endif
