/* The spec of a run without a spec file: `tokio-guard run -- CMD ARGS` and
 * `tokio-guard attach PID` without SPEC.yaml. */
#ifndef TG_ADHOC_H
#define TG_ADHOC_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* What reports say the spec file was. */
#define TG_ADHOC_SPEC_PATH "(ad hoc)"

/* SPEC with every default (shared/spec.md): target.command ARGV (copied),
 * cwd the current folder, no ready condition, no load, no assertions key (so
 * the default check, max_blocking_spans: 0, applies), the blocking threshold
 * THRESHOLD_NS (0: the default 10ms), named after ARGV[0]'s base name.
 * 0, or -errno with one line in ERR; tg_spec_free SPEC either way. */
int tg_spec_adhoc(char *const *argv, uint64_t threshold_ns, struct tg_spec *spec, char *err,
		  size_t errlen);

#endif
