/* The probe and report sections' tables, with the handlers of their sizes
 * (probe.ring_buffer) and of the unwinding mode. */
#define _GNU_SOURCE
#include "spec_parse.h"

#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

/* A size in bytes from F->min (at least a page) to F->max, into *X. */
static int size_in_range(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
			 uint64_t *x)
{
	char q[QUOTE_LEN], lo[32], hi[32];
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), min = page > f->min ? page : f->min;
	const char *s;
	int rc = scalar(c, v, path, "a size like 64KB or 16MB", &s);

	if (rc)
		return rc;
	if (!(*x = parse_bytes(s)))
		return fail(c, v, path, "expected a size like 64KB or 16MB, got %s", describe(v, q, sizeof q));
	format_bytes(min, lo, sizeof lo);
	format_bytes(f->max, hi, sizeof hi);
	if (*x < min || *x > f->max)
		return fail(c, v, path, "must be from %s to %s, got %s", lo, hi, describe(v, q, sizeof q));
	return 0;
}

/* A uint32_t size: probe.stack_copy. */
static int h_size32(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	uint64_t x;
	int rc = size_in_range(c, f, v, path, &x);

	if (!rc)
		*(uint32_t *)((char *)obj + f->off) = (uint32_t)x;
	return rc;
}

/* The BPF ring buffer's size: the kernel takes only a power of two that is a
 * multiple of the page size, so anything else is refused with the two
 * nearest sizes that work. */
static int h_ring_buffer(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
			 void *obj)
{
	char q[QUOTE_LEN], lo[32], hi[32];
	uint64_t x;
	int rc = size_in_range(c, f, v, path, &x);

	if (rc)
		return rc;
	if (x & (x - 1)) {
		uint64_t down = 1ull << (63 - __builtin_clzll(x));

		format_bytes(down, lo, sizeof lo);
		format_bytes(down << 1, hi, sizeof hi);
		return fail(c, v, path, "must be a power of two (a BPF ring buffer rule), got %s: use %s or %s",
			    describe(v, q, sizeof q), lo, hi);
	}
	*(uint64_t *)((char *)obj + f->off) = x;
	return 0;
}

/* probe.unwind: auto, fp or dwarf. */
static int h_unwind(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	static const char *const names[] = { [TG_UNWIND_AUTO] = "auto", [TG_UNWIND_FP] = "fp",
					     [TG_UNWIND_DWARF] = "dwarf" };
	char q[QUOTE_LEN];
	const char *s;
	int rc = scalar(c, v, path, "auto, fp or dwarf", &s);

	(void)f;
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i]) == 0) {
			((struct tg_spec *)obj)->probe.unwind = (enum tg_unwind)i;
			return 0;
		}
	return fail(c, v, path, "expected auto, fp or dwarf (how user stacks are walked), got %s",
		    describe(v, q, sizeof q));
}

/* probe.scheduling_delay: on or off (YAML's booleans too). */
static int h_sched_delay(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	static const char *const on[] = { "on", "true", "yes" }, *const off[] = { "off", "false", "no" };
	char q[QUOTE_LEN];
	const char *s;
	int rc = scalar(c, v, path, "on or off", &s);

	(void)f;
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof on / sizeof on[0]; i++)
		if (strcasecmp(s, on[i]) == 0 || strcasecmp(s, off[i]) == 0) {
			((struct tg_spec *)obj)->probe.scheduling_delay = strcasecmp(s, on[i]) == 0;
			return 0;
		}
	return fail(c, v, path, "expected on or off (wake-to-poll time and the tasks each span delayed), got %s",
		    describe(v, q, sizeof q));
}

/* probe.heap: true or false (allocation tracking is opt-in: it costs a trap per allocation). */
static int h_heap(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	char q[QUOTE_LEN];
	const char *s;
	int rc = scalar(c, v, path, "true or false", &s);

	(void)f;
	if (rc)
		return rc;
	if (strcmp(s, "true") && strcmp(s, "false"))
		return fail(c, v, path, "expected true or false (allocation tracking), got %s",
			    describe(v, q, sizeof q));
	((struct tg_spec *)obj)->probe.heap = strcmp(s, "true") == 0;
	return 0;
}

/* report.html is a view, not a contract file: `html: false` leaves it out. */
static int h_html(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	char **dst = &((struct tg_spec *)obj)->report.html;
	const char *s;
	int rc = scalar(c, v, path, "a file name, or false", &s);

	(void)f;
	if (rc)
		return rc;
	if (!*s)
		return fail(c, v, path, "must not be empty (html: false leaves report.html out)");
	free(*dst);
	*dst = strdup(strcmp(s, "false") == 0 ? "" : s);
	return *dst ? 0 : oom(c);
}

/* ------------------------------------------------------------ probe, report */

static const struct field probe_fields[] = {
	DUR("blocking_threshold", struct tg_spec, probe.blocking_threshold_ns, 1),
	U32("sample_rate", struct tg_spec, probe.sample_rate, 0, 100000),
	U32("stack_depth", struct tg_spec, probe.stack_depth, 1, 127),
	{ "ring_buffer", h_ring_buffer, offsetof(struct tg_spec, probe.ring_buffer_bytes), 4096, 1u << 30,
	  NULL },
	FIELD("unwind", h_unwind),
	{ "stack_copy", h_size32, offsetof(struct tg_spec, probe.stack_copy_bytes), 4096,
	  TG_SPEC_STACK_COPY_MAX, NULL },
	FIELD("scheduling_delay", h_sched_delay),
	U32("cpu_profile", struct tg_spec, probe.cpu_profile_hz, 0, 10000),
	FIELD("heap", h_heap),
};
const struct table probe_table = TABLE(probe_fields, NULL);

static const struct field report_fields[] = {
	STR("dir", struct tg_spec, report.dir),
	STR("junit", struct tg_spec, report.junit),
	STR("trace", struct tg_spec, report.trace),
	STR("results", struct tg_spec, report.results),
	FIELD("html", h_html),
	DUR("trace_min_poll", struct tg_spec, report.trace_min_poll_ns, 0),
	U32("trace_max_polls", struct tg_spec, report.trace_max_polls, 1024, 1u << 24),
};
const struct table report_table = TABLE(report_fields, NULL);

/* walk_map keeps the keys it saw in an array of MAX_FIELDS */
_Static_assert(N(probe_fields) <= MAX_FIELDS &&
		       N(report_fields) <= MAX_FIELDS,
	       "raise MAX_FIELDS");
