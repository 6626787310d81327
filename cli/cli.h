/* cli.h — the subcommands of the rasterpool program. */
#ifndef RP_CLI_H
#define RP_CLI_H
#include "rasterpool.h"

#include <signal.h>

/* Set by the first Ctrl-C (SIGINT or SIGTERM); commands poll it through
 * their progress callback and stop cleanly. A second signal quits at once. */
extern volatile sig_atomic_t cli_interrupted;
void cli_catch_interrupts(void);

int cmd_extract(int argc, const char *const *argv);
int cmd_calc(int argc, const char *const *argv);
int cmd_batch(int argc, const char *const *argv);
/* The hidden entry of batch worker processes (not in the command table). */
int cmd_batch_worker(int argc, const char *const *argv);

#endif
