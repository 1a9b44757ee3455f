// SPDX-License-Identifier: MIT
/* Opening poll_probe from the bytes the build embedded (tg_bpf_embed in
 * CMakeLists.txt). A name missing from the object is a build mismatch
 * between bpf/ and probe/: open fails saying which. */
#include <errno.h>
#include <stdlib.h>
#include <bpf/libbpf.h>

#include "bpf_object.h"
#include "poll_probe_obj.h"

TG_BPF_EMBEDDED(poll_probe);

static int find_all(struct tg_poll_probe *s, const char **what)
{
	struct bpf_object *o = s->obj;

#define TG_PP_PROG(n) \
	if (!(s->progs.n = bpf_object__find_program_by_name(o, #n))) \
		return *what = "program " #n, -ENOENT;
#define TG_PP_MAP(n) \
	if (!(s->maps.n = bpf_object__find_map_by_name(o, #n))) \
		return *what = "map " #n, -ENOENT;
#define TG_PP_VAR(t, n) \
	if (!(s->rodata.n = tg_bpf_var_init(o, ".rodata", #n, sizeof(t)))) \
		return *what = "constant " #n, -errno;
	TG_POLL_PROBE_PROGS(TG_PP_PROG)
	TG_POLL_PROBE_MAPS(TG_PP_MAP)
	TG_POLL_PROBE_RODATA(TG_PP_VAR)
#undef TG_PP_PROG
#undef TG_PP_MAP
#undef TG_PP_VAR
	return 0;
}

struct tg_poll_probe *tg_poll_probe_open(const char **what)
{
	struct tg_poll_probe *s = calloc(1, sizeof(*s));
	const char *unused;
	int r;

	if (!what)
		what = &unused;
	*what = NULL;
	if (!s)
		return NULL;
	s->obj = tg_bpf_open(tg_bpf_poll_probe, TG_BPF_EMBEDDED_SIZE(poll_probe), "poll_probe");
	if (!s->obj) {
		r = -errno;
		free(s);
		errno = -r;
		return NULL;
	}
	if ((r = find_all(s, what))) {
		tg_poll_probe_destroy(s);
		errno = -r;
		return NULL;
	}
	return s;
}

int tg_poll_probe_load(struct tg_poll_probe *s)
{
	return bpf_object__load(s->obj);
}

void tg_poll_probe_destroy(struct tg_poll_probe *s)
{
	if (!s)
		return;
	bpf_object__close(s->obj);
	free(s);
}
