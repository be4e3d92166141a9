/* cordon: a containment runtime for AI agents.  Dispatch only. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"

void cdn_cli_usage(FILE *out)
{
    fputs("usage: cordon COMMAND [OPTIONS]\n"
          "\n"
          "cordon caps the blast radius of an AI agent's commands: the workspace is\n"
          "writable, the rest of the host read-only, secrets out of reach, persistence\n"
          "files protected, and the network closed.\n"
          "\n"
          "commands:\n"
          "  run      run a command in the sandbox\n"
          "  plan     print what `run` would do, without running anything\n"
          "  log      show audit events (JSON lines) for people, filter, follow\n"
          "  radius   measure what a command in the sandbox could still reach\n"
          "  help     this text (`cordon help COMMAND` for a command's options)\n"
          "  version  print the version\n"
          "\n"
          "Settings: docs/settings.md; man page: cordon(1).\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cdn_cli_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("cordon %s\n", CORDON_VERSION);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        cdn_cli_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc > 2) {
            char *sub[] = {argv[2], (char *)(uintptr_t) "--help", NULL};
            if (strcmp(argv[2], "run") == 0)
                return cdn_cmd_run(2, sub);
            if (strcmp(argv[2], "plan") == 0)
                return cdn_cmd_plan(2, sub);
            if (strcmp(argv[2], "log") == 0)
                return cdn_cmd_log(2, sub);
            if (strcmp(argv[2], "radius") == 0)
                return cdn_cmd_radius(2, sub);
        }
        cdn_cli_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cdn_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "plan") == 0)
        return cdn_cmd_plan(argc - 1, argv + 1);
    if (strcmp(cmd, "log") == 0)
        return cdn_cmd_log(argc - 1, argv + 1);
    if (strcmp(cmd, "radius") == 0)
        return cdn_cmd_radius(argc - 1, argv + 1);
    fprintf(stderr, "cordon: unknown command '%s'\n\n", cmd);
    cdn_cli_usage(stderr);
    return 2;
}
