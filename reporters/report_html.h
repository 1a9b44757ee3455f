/* report.html: one self-contained page (no network) that draws a run from its
 * saved results.json and trace.json, so `tokio-guard report` can rebuild it
 * from the files alone. The page's HTML, CSS and JS live in reporters/report_html/
 * and are built into the binary; the run's data goes into one JSON script tag. */
#ifndef TG_REPORT_HTML_H
#define TG_REPORT_HTML_H

#include <stddef.h>

/* Trace slices the page embeds at most: the longest, every blocking span and
 * load step among them; a browser keeps a page this size responsive. */
#define TG_HTML_MAX_SLICES 50000

/* Writes PATH from the texts of RESULTS_JSON and TRACE_JSON (file paths;
 * TRACE_JSON may be NULL or "" when there is no trace). 0, or -errno with one
 * line in ERR. */
int tg_report_html_write(const char *path, const char *results_json, const char *trace_json,
			 char *err, size_t errlen);

/* The same, from texts in memory (TRACE may be NULL). */
int tg_report_html_write_text(const char *path, const char *results, size_t results_len,
			      const char *trace, size_t trace_len, char *err, size_t errlen);

#endif
