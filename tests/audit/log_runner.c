/* `cordon log` without the rest of the CLI: the lead's main.c dispatches
 * to the same cdn_cmd_log(). */
#include "cli/commands.h"

int main(int argc, char **argv)
{
    return cdn_cmd_log(argc, argv); /* argv[0] stands for "log" */
}
