/* GitHub Actions: workflow-command annotations and the job step summary. */
#ifndef TG_GITHUB_H
#define TG_GITHUB_H

#include <stddef.h>
#include <stdio.h>

struct tg_results;

#define TG_GITHUB_MAX_ANNOTATIONS 10
#define TG_GITHUB_SUMMARY_MAX (1000u * 1024) /* GitHub's limit is 1 MiB per step */

/* True when GITHUB_ACTIONS=true. */
int tg_github_active(void);

/* ::error / ::warning annotations for failed / warned checks, worst first,
 * at most TG_GITHUB_MAX_ANNOTATIONS, to OUT (stdout in a run). */
void tg_github_annotate(FILE *out, const struct tg_results *r);

/* Appends the Markdown summary to PATH ($GITHUB_STEP_SUMMARY), kept under
 * TG_GITHUB_SUMMARY_MAX. 0, or -errno with one line in ERR. */
int tg_github_summary(const char *path, const struct tg_results *r, char *err, size_t errlen);

/* GitHub's escaping for a workflow command's message (% \r \n) and for a
 * property value (also : and ,). Write at most LEN bytes to BUF; return BUF. */
const char *tg_github_escape_data(const char *s, char *buf, size_t len);
const char *tg_github_escape_property(const char *s, char *buf, size_t len);

#endif
