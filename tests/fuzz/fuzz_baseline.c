/* libFuzzer harness for the --baseline reader (assertions/baseline.c, tg_baseline_load):
 * any file given as --baseline must load or fail with one line naming it, never crash,
 * hang or leak. It is the only file tokio-guard reads back besides the spec.
 *
 * Build (clang only; baseline.c is compiled into the harness with the sanitizers,
 * libcjson is the system's, uninstrumented):
 *   CC=clang cmake -S . -B build-fuzz -DTG_FUZZ=ON -DTG_BUILD_EXAMPLES=OFF
 *   cmake --build build-fuzz --target fuzz_baseline
 * Run (seeds: tests/fuzz/seeds-baseline, results.json files of real runs and edge cases):
 *   mkdir -p /tmp/tg-corpus-baseline
 *   ./build-fuzz/tests/fuzz_baseline -dict=tests/fuzz/baseline.dict -max_len=65536 \
 *       -max_total_time=600 -timeout=10 -rss_limit_mb=2048 -jobs=1 \
 *       /tmp/tg-corpus-baseline tests/fuzz/seeds-baseline
 * Reproduce a crash: ./build-fuzz/tests/fuzz_baseline crash-<sha1> */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "test_files.h"

static char dir[64], path[128];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(dir, sizeof dir, "/tmp/tg-fuzz-baseline-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof path, "%s/results.json", dir);
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!tg_test_write_bytes(path, data, size))
		abort();

	struct tg_baseline b;
	char err[512];
	int rc = tg_baseline_load(path, &b, err, sizeof err);
	if (rc == 0) {
		/* what max_poll_regression relies on */
		if (!b.path || strcmp(b.path, path) || (b.ntasks && !b.tasks))
			abort();
		for (size_t i = 0; i < b.ntasks; i++)
			if (!b.tasks[i].name)
				abort();
	} else {
		/* one line naming the file; a readable file is only ever invalid or too big */
		if (rc != -EINVAL && rc != -ENOMEM && rc != -EFBIG)
			abort();
		if (!strstr(err, path))
			abort();
		for (const char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20)
				abort();
		if (b.path || b.tasks || b.ntasks)
			abort(); /* left empty on error */
	}
	tg_baseline_free(&b);
	return 0;
}
