/* Subcommands: each takes the arguments after its name (argv[0] is the
 * subcommand's name) and returns the process exit status. */
#pragma once

int cdn_cmd_log(int argc, char **argv);
