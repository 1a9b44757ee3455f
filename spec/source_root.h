// SPDX-License-Identifier: MIT
/* The folder every report's source paths are relative to (spec.md, "Additions"). */
#ifndef TG_SOURCE_ROOT_H
#define TG_SOURCE_ROOT_H

/* GITHUB_WORKSPACE when set, else the git top level above SPEC_DIR, else
 * SPEC_DIR: a newly allocated absolute path without trailing slash, or NULL
 * when out of memory. */
char *tg_source_root(const char *spec_dir);

struct tg_spec;
/* SPEC's source root; its folder for a spec built by hand without one. */
const char *tg_spec_root(const struct tg_spec *spec);

#endif
