/* Writing every report of a run: shared by `run` (session.c) and `report`
 * (report_cmd.c), so a re-check writes exactly what a run writes. */
#ifndef TG_REPORTS_H
#define TG_REPORTS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct tg_results;
struct tg_identity;

struct tg_reports {
	/* In: */
	const struct tg_identity *id; /* who the output belongs to, or NULL: stays ours */
	bool quiet;
	/* A trace.json to copy instead of drawing one from the record (`report`:
	 * the trace cannot be rebuilt from results.json); NULL: none. */
	const char *trace_src;
	const char *html_name;   /* report.html's name in the folder; NULL or "": none */
	/* The run's first failure: a report that cannot be written sets it (exit 3). */
	int *status;
	char *error;
	size_t errlen;
	/* Out: the folder and each report's path (tg_reports_paths). */
	char dir[PATH_MAX];
	char results[PATH_MAX], junit[PATH_MAX], trace[PATH_MAX], html[PATH_MAX];
};

/* Creates DIR (and its parents) and sets W's paths: a FILE given on the
 * command line as is, else NAME inside DIR. 0 or -errno (errno set too). */
int tg_reports_paths(struct tg_reports *w, const char *dir, const char *results_file,
		     const char *results_name, const char *junit_file, const char *junit_name,
		     const char *trace_file, const char *trace_name);

/* Hands PATH to W->id's user when we are root (sudo runs); no-op otherwise. */
void tg_reports_give(const struct tg_reports *w, const char *path);

/* junit.xml, trace.json, results.json (last: it names the others' outcome),
 * report.html. RES's *_path fields say what was written. */
void tg_reports_write(struct tg_reports *w, struct tg_results *res);

/* Under GitHub Actions: annotations on stdout and the step summary. */
void tg_reports_github(const struct tg_results *res);

#endif
