/* The checks that are not limits: the probe's health (polls seen, events lost,
 * processes not probed) and one check per load step (ran, errors, exit). */
#include "checks_parts.h"
#include "hist.h"
#include "load.h"
#include "names.h"
#include "requests.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ probe and load checks */

/* Forks of the target (a pre-fork server) or the daemon it became run the
 * same program unseen: the run measured one process of several. */
void unprobed_check(const struct tg_assert_input *in, struct tg_check *c)
{
	char pids[160] = "";
	size_t o = 0, shown = in->nunprobed < 8 ? in->nunprobed : 8;

	for (size_t i = 0; i < shown && o < sizeof pids; i++)
		o += (size_t)snprintf(pids + o, sizeof pids - o, "%s%d", i ? ", " : "", (int)in->unprobed[i]);
	c->group = TG_GROUP_PROBE;
	c->status = TG_CHECK_WARNED;
	snprintf(c->classname, sizeof c->classname, "probe");
	snprintf(c->name, sizeof c->name, "probe: every process of the program probed");
	snprintf(c->observed, sizeof c->observed, "%zu", in->nunprobed);
	snprintf(c->message, sizeof c->message,
		 "%zu other process%s of the target's program (pid %s%s) ran unprobed: only pid %d, "
		 "the one tokio-guard started, is measured", in->nunprobed,
		 in->nunprobed == 1 ? "" : "es", pids, shown < in->nunprobed ? ", ..." : "",
		 (int)in->target_pid);
}

void probe_checks(const struct tg_assert_input *in, struct tg_check *c)
{
	for (int i = 0; i < 2; i++) {
		c[i].group = TG_GROUP_PROBE;
		snprintf(c[i].classname, sizeof c[i].classname, "probe");
		if (!in->probed) {
			c[i].status = TG_CHECK_SKIPPED;
			snprintf(c[i].message, sizeof c[i].message, "the probes did not run");
		}
	}
	snprintf(c[0].name, sizeof c[0].name, "probe: polls observed");
	snprintf(c[1].name, sizeof c[1].name, "probe: events lost");
	if (!in->probed && in->run_error) {
		/* a CI's test view must show why there is nothing else to see */
		c[0].status = TG_CHECK_FAILED;
		c[0].severity = 1;
		snprintf(c[0].message, sizeof c[0].message, "the probes did not run: %s", in->run_error);
	}
	if (!in->probed)
		return;
	snprintf(c[0].observed, sizeof c[0].observed, "%" PRIu64, in->polls);
	if (in->polls) {
		snprintf(c[0].message, sizeof c[0].message, "%" PRIu64 " runtime polls observed", in->polls);
	} else {
		c[0].status = TG_CHECK_FAILED;
		c[0].severity = 1;
		if (in->run_error) /* why the target ran no task: the run ended early */
			snprintf(c[0].message, sizeof c[0].message, "no runtime polls observed: %.400s",
				 in->run_error);
		else
			snprintf(c[0].message, sizeof c[0].message,
				 "no runtime polls observed: the probes saw no Tokio task run");
	}
	snprintf(c[1].observed, sizeof c[1].observed, "%" PRIu64, in->lost_events);
	if (in->lost_events) {
		c[1].status = TG_CHECK_WARNED;
		/* the reader fell behind the probes: a bigger ring holds a longer
		 * burst, a higher trace floor makes fewer polls events at all */
		snprintf(c[1].message, sizeof c[1].message,
			 "%" PRIu64 " events lost: spans may be missing; raise probe.ring_buffer "
			 "(default 16MB) or report.trace_min_poll (default 100us)", in->lost_events);
	} else {
		snprintf(c[1].message, sizeof c[1].message, "no events lost");
	}
}

size_t count_steps(const struct tg_step_result *r, size_t n)
{
	size_t total = n;

	for (size_t i = 0; i < n; i++)
		total += count_steps(r[i].children, r[i].nchildren);
	return total;
}

/* The last LINES lines of OUT, at most BYTES of them (a whole line when it can). */
static const char *output_tail(const char *out, size_t lines, size_t bytes)
{
	size_t len = out ? strlen(out) : 0;
	const char *p;

	while (len && (out[len - 1] == '\n' || out[len - 1] == '\r' || out[len - 1] == ' '))
		len--;
	if (!len)
		return NULL;
	for (p = out + len; p > out && lines; p--)
		if (p[-1] == '\n' && --lines == 0)
			break;
	if ((size_t)(out + len - p) > bytes) {
		const char *nl;

		p = out + len - bytes;
		if ((nl = memchr(p, '\n', bytes)) && nl + 1 < out + len)
			p = nl + 1;
	}
	return p;
}

/* ": <the output's last non-empty line>", cut to fit one message line. */
static void last_line(const char *out, char *msg, size_t len)
{
	const char *tail = output_tail(out, 1, 200);
	size_t n = 0;

	if (!tail)
		return;
	while (tail[n] && tail[n] != '\n' && tail[n] != '\r')
		n++;
	tg_cat(msg, len, ": %.*s", (int)n, tail);
}

static void step_message(const struct tg_step_result *r, bool errors_fail, char *msg, size_t len)
{
	struct load_agg *a;
	char d[32], kinds[256];

	if (!r->ok) {
		snprintf(msg, len, "%s", r->error[0] ? r->error : "the step could not run");
		if (r->kind == TG_STEP_EXEC)
			last_line(r->output, msg, len);
		return;
	}
	if (r->kind == TG_STEP_EXEC) {
		if (r->signal)
			snprintf(msg, len, "killed by signal %d", r->signal);
		else
			snprintf(msg, len, "exit %d", r->exit_code);
		return;
	}
	if (r->kind == TG_STEP_SLEEP) {
		tg_format_duration(r->end_ns > r->start_ns ? r->end_ns - r->start_ns : 0, d, sizeof d);
		snprintf(msg, len, "slept %s", d);
		return;
	}
	if (r->kind == TG_STEP_PARALLEL && !r->requests) {
		snprintf(msg, len, "ran %zu steps", r->nchildren);
		return;
	}
	if (!(a = calloc(1, sizeof *a))) {
		snprintf(msg, len, "%" PRIu64 " requests, %" PRIu64 " errors", r->requests, r->errors);
		return;
	}
	load_walk(a, "*", r, 1, false);
	tg_format_duration(tg_hist_quantile(a->hist, a->hist_count, 0.99, a->max_ns), d, sizeof d);
	snprintf(msg, len, "%" PRIu64 " request%s, %" PRIu64 " error%s, p99 %s, %.1f/s", a->requests,
		 a->requests == 1 ? "" : "s", a->errors, a->errors == 1 ? "" : "s",
		 a->hist_count ? d : "-", a->throughput);
	if (a->errors) {
		tg_load_errors_text(r, kinds, sizeof kinds);
		tg_cat(msg, len, " (%s)%s", kinds,
			      errors_fail ? ": errors fail the step unless an assertion "
					    "on it sets max_errors or max_error_rate" : "");
	}
	free(a);
}

/* An assertion on the step (or on its parent) limits its errors: then they
 * are that assertion's to judge, not the step's. */
static bool errors_limited(const struct tg_spec *spec, const char *name)
{
	for (size_t i = 0; spec && name && i < spec->nassertions; i++) {
		const struct tg_assertion *e = &spec->assertions[i];
		if (e->sel != TG_SEL_LOAD || !e->pattern || !tg_glob_match(e->pattern, name))
			continue;
		for (size_t j = 0; j < e->nlimits; j++)
			if (e->limits[j].kind == TG_LIM_MAX_ERRORS || e->limits[j].kind == TG_LIM_MAX_ERROR_RATE)
				return true;
	}
	return false;
}

/* LIMITED: an assertion on a parent limits the errors of its children. */
size_t load_checks(const struct tg_spec *spec, const struct tg_step_result *r, size_t n,
		   const char *parent, bool limited, struct tg_check *c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct tg_check *ch = &c[k++];
		bool lim = limited || errors_limited(spec, r[i].name);
		/* a parallel step's errors are its children's: failed there, once */
		bool counted = r[i].errors && !lim && r[i].kind != TG_STEP_PARALLEL;
		bool failed = !r[i].ok || counted;
		char path[320];

		snprintf(path, sizeof path, "%s%s%.300s", parent ? parent : "", parent ? "/" : "",
			 r[i].name ? r[i].name : "?");
		ch->group = TG_GROUP_LOAD;
		ch->status = failed ? TG_CHECK_FAILED : TG_CHECK_PASSED;
		ch->severity = failed ? 1 : 0;
		ch->time_s = r[i].end_ns > r[i].start_ns ? (double)(r[i].end_ns - r[i].start_ns) / 1e9 : 0;
		snprintf(ch->name, sizeof ch->name, "load: %s", path);
		snprintf(ch->classname, sizeof ch->classname, "load");
		step_message(&r[i], r[i].ok && counted, ch->message, sizeof ch->message);
		if (!r[i].ok && r[i].kind == TG_STEP_EXEC)
			ch->output = output_tail(r[i].output, TG_CHECK_OUTPUT_LINES, TG_CHECK_OUTPUT_BYTES);
		k += load_checks(spec, r[i].children, r[i].nchildren, path, lim, c + k);
	}
	return k;
}
