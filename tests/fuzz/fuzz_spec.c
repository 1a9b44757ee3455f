/* libFuzzer harness for the spec parser (spec/): any input must load or fail
 * with one positioned line, never crash, hang or leak; `check`'s walk past errors
 * (tg_spec_load_all) must agree with it and give at most 20 such lines.
 *
 * Build (clang only; the parser is compiled into the harness with the sanitizers):
 *   CC=clang cmake -S . -B build-fuzz -DTG_FUZZ=ON -DTG_BUILD_EXAMPLES=OFF
 *   cmake --build build-fuzz --target fuzz_spec
 * Run (the seeds are the example specs and tests/fuzz/seeds; new inputs go to CORPUS):
 *   mkdir -p /tmp/tg-corpus
 *   ./build-fuzz/tests/fuzz_spec -dict=tests/fuzz/spec.dict -max_len=8192 \
 *       -max_total_time=600 -timeout=10 -rss_limit_mb=2048 -jobs=1 \
 *       /tmp/tg-corpus tests/fuzz/seeds examples/blocking-server examples/blocking-tasks
 * Reproduce a crash: ./build-fuzz/tests/fuzz_spec crash-<sha1>
 *
 * Each input is written to guard.yaml in a private temporary folder that also holds
 * payload.json, so body_file: payload.json resolves. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec.h"
#include "test_files.h"

static char dir[64], spec_path[128];

static void cleanup(void)
{
	char p[160];
	unlink(spec_path);
	snprintf(p, sizeof p, "%s/payload.json", dir);
	unlink(p);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char p[160];
	snprintf(dir, sizeof dir, "/tmp/tg-fuzz-spec-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(spec_path, sizeof spec_path, "%s/guard.yaml", dir);
	snprintf(p, sizeof p, "%s/payload.json", dir);
	FILE *f = fopen(p, "w");
	if (!f)
		abort();
	fputs("{\"data\":\"test\"}\n", f);
	fclose(f);
	atexit(cleanup);
	return 0;
}

/* A line of an error message: names the file, no control character. */
static void check_line(const char *msg)
{
	if (strncmp(msg, spec_path, strlen(spec_path)) || msg[strlen(spec_path)] != ':')
		abort();
	for (const char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20)
			abort();
}

/* `tokio-guard check`'s walk past errors: the same verdict as tg_spec_load, whose
 * message comes first, then at most TG_SPEC_MAX_ERRORS more lines of the same form. */
static void check_all(int rc_load, const char *err_load)
{
	static struct tg_spec_errors errs;
	struct tg_spec s;
	int rc = tg_spec_load_all(spec_path, &s, &errs);

	if (rc != rc_load)
		abort();
	if (rc == 0) {
		if (errs.n || errs.more)
			abort();
	} else {
		if (!errs.n || errs.n > TG_SPEC_MAX_ERRORS || strcmp(errs.msg[0], err_load))
			abort();
		for (size_t i = 0; i < errs.n; i++)
			check_line(errs.msg[i]);
		if (s.path || s.steps || s.target.argv)
			abort();
	}
	tg_spec_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!tg_test_write_bytes(spec_path, data, size))
		abort();

	struct tg_spec s;
	char err[512];
	int rc = tg_spec_load(spec_path, &s, err, sizeof err);
	if (rc == 0) {
		/* what a caller relies on after a successful load */
		if (!s.target.argv || !s.target.argv[0] || !s.name || !s.target.cwd || !s.target.env)
			abort();
		for (size_t i = 0; i < s.nsteps; i++)
			if (!s.steps[i].name || !s.steps[i].env)
				abort();
	} else {
		/* one line, naming the file; positioned unless out of memory */
		if (rc != -EINVAL && rc != -ENOMEM)
			abort();
		if (strncmp(err, spec_path, strlen(spec_path)) || err[strlen(spec_path)] != ':')
			abort();
		for (const char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20)
				abort();
		if (s.path || s.steps || s.target.argv)
			abort(); /* left empty on error */
	}
	tg_spec_free(&s);
	check_all(rc, err);
	return 0;
}
