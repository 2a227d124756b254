/* The subcommands of the dwconv program. Each takes the arguments after its name (argv[0] is
 * the subcommand name) and returns the process exit status (see cli_util.h). */
#ifndef DWCONV_TOOLS_COMMANDS_H
#define DWCONV_TOOLS_COMMANDS_H

int cmd_conv(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);

#endif /* DWCONV_TOOLS_COMMANDS_H */
