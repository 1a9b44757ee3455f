/* Spec file (YAML) parsing and validation. Contract: ../shared/spec.md. */
#ifndef TG_SPEC_H
#define TG_SPEC_H

#include "model.h" /* the structs and enums a spec is read into */
#include "source_root.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* "max_poll", "p99_latency": the limit's key as the spec writes it. */
const char *tg_limit_name(enum tg_limit_kind kind);
enum tg_limit_unit tg_limit_unit(enum tg_limit_kind kind);
/* True for min_polls and min_throughput: the observed value must reach the limit. */
bool tg_limit_is_min(enum tg_limit_kind kind);
/* True for limits that belong to load selectors. */
bool tg_limit_is_load(enum tg_limit_kind kind);

/* Parses and validates PATH into SPEC. On error returns -EINVAL (or -errno when
 * the file cannot be read) and writes one line to ERR: "file:line:column: field.path: what".
 * (Errors about the file itself have no position: "file: cannot open: No such file or
 * directory".) On error SPEC is left empty; tg_spec_free is safe on it either way. */
int tg_spec_load(const char *path, struct tg_spec *spec, char *err, size_t errlen);

/* `tokio-guard check` reports what is wrong in one pass: every error the walk can
 * reach (it goes on past a wrong field or list item, not past broken YAML). */
#define TG_SPEC_MAX_ERRORS 20
struct tg_spec_errors {
	size_t n;   /* in msg, in the order found; the first is tg_spec_load's */
	bool more;  /* there were more than TG_SPEC_MAX_ERRORS */
	char msg[TG_SPEC_MAX_ERRORS][512];
};

/* tg_spec_load, with every error in ERRS (at least one when it fails). */
int tg_spec_load_all(const char *path, struct tg_spec *spec, struct tg_spec_errors *errs);
/* The same for `tokio-guard attach`: a spec without a target section is no
 * error (attach ignores it; one that is there is still checked). */
int tg_spec_load_all_attach(const char *path, struct tg_spec *spec, struct tg_spec_errors *errs);
/* ERRS from message FROM on, a "tokio-guard: " line each, then how many
 * there were (check and run say them the same way). */
void tg_spec_errors_print(FILE *f, const char *path, const struct tg_spec_errors *errs, size_t from);
void tg_spec_free(struct tg_spec *spec);

/* "250us", "10ms", "1.5s", "2m", "1h", "µs", "ns", also compound "1m30s": 0 and *ns on
 * success, -EINVAL on a bare number, unknown unit, negative value or overflow.
 * Fractions below a nanosecond are truncated. */
int tg_parse_duration(const char *s, uint64_t *ns);
/* The same, writing why S is not a duration to WHY (one line, quoting S), e.g.
 * `a duration needs a unit, got "10" (write 10ms or 10s)`. */
int tg_parse_duration_msg(const char *s, uint64_t *ns, char *why, size_t whylen);

/* Formats NS the way a human reads it back: "23.4ms", "1.50s", "250us", "12ns",
 * "2m03s", "1h02m03s". Three significant digits below a minute. */
void tg_format_duration(uint64_t ns, char *buf, size_t len);

/* "100/s", "6000/m", "0.5/s": requests per second in *PER_S. N is a plain decimal
 * (no sign, no exponent) above 0; the unit is required. 0, or -EINVAL with one line in
 * WHY (quoting S), e.g. `a rate needs a unit (/s or /m), got "100" (write 100/s)`. */
int tg_parse_rate(const char *s, double *per_s, char *why, size_t whylen);
/* "0%", "25%", "0.5%": the number before '%' in *PCT (25 for "25%"). A plain decimal,
 * not negative; the '%' is required; no upper limit (callers check theirs).
 * 0, or -EINVAL with one line in WHY. */
int tg_parse_percent(const char *s, double *pct, char *why, size_t whylen);

/* "SIGTERM", "TERM", "sigterm" or "15": the signal number, or -EINVAL. */
int tg_parse_signal(const char *s);

/* Splits S into words like a POSIX shell would (blanks separate, '...' and "..." quote,
 * backslash escapes) without running one: anything a shell would expand or interpret
 * (unquoted | & ; < > ( ) $ `, # or ~ starting a word) is refused. On success *ARGV is
 * a NULL-terminated malloc'd vector (possibly empty: *ARGV[0] == NULL), free it with
 * tg_strv_free. -EINVAL with one line in ERR, or -ENOMEM. */
int tg_split_command(const char *s, char ***argv, char *err, size_t errlen);
void tg_strv_free(char **v);

/* "exec", "sleep": the kind as the spec names it, used in default step names. */
const char *tg_step_kind_name(enum tg_step_kind kind);

#endif
