/* The live view (--live): on a terminal, a screen redrawn in place every
 * 250 ms with the worst blocking spans by culprit, per-worker busy shares and
 * polls per second; q quits (as Ctrl-C: the reports are still written).
 * Elsewhere, one plain line per new culprit. */
#ifndef TG_LIVE_H
#define TG_LIVE_H

#include <stdbool.h>
#include <stdint.h>

struct tg_record;

struct tg_live_opts {
	const char *title; /* what is watched: "blocking-server (pid 1234)" */
	const char *root;  /* source paths are shown from here */
	int pid;           /* the target: its workers' CPU clocks */
	uint64_t t0_ns;
	int tty;           /* -1: isatty(2); 0: plain lines; 1: the screen */
};

/* 0 or -errno. On a terminal it takes the alternate screen until tg_live_stop. */
int tg_live_start(const struct tg_live_opts *o);
/* From the thread that owns REC, after it resolved spans: takes the spans
 * resolved since the last call and a point of every worker. */
void tg_live_feed(struct tg_record *rec, uint64_t total_polls);
/* Gives the terminal back as it was. Safe when not started. */
void tg_live_stop(void);
/* How often the owner of the record should feed it. */
#define TG_LIVE_EVERY_NS 250000000ull

#endif
