/* What the probes need of the kernel's privileges, said in an error: root,
 * or the capabilities themselves on the binary (setcap), which keeps the
 * user's environment and file ownership. */
#ifndef TG_PRIVILEGES_H
#define TG_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>

/* The capabilities this process lacks for the probes, "CAP_BPF and
 * CAP_PERFMON" style, into BUF ("" when it has them). SINGLE: single
 * perf-event uprobes (kernels without uprobe_multi), which need
 * CAP_SYS_ADMIN as well. */
void tg_missing_caps(bool single, char *buf, size_t len);

/* One line for a permission error on WHAT: the missing capabilities and
 * the two ways to grant them (root, or setcap on this binary). */
void tg_permission_error(const char *what, bool single, char *err, size_t errlen);

#endif
