/* `tokio-guard report` and `tokio-guard diff`: saved runs, no probes, no root. */
#ifndef TG_REPORT_CMD_H
#define TG_REPORT_CMD_H

/* Help texts, for `help report` / `report --help` (and diff's). */
extern const char tg_report_help[];
extern const char tg_diff_help[];

/* ARGV[0] is the command's name. Return the process exit code. */
int tg_report_main(int argc, char **argv);
int tg_diff_main(int argc, char **argv);

#endif
