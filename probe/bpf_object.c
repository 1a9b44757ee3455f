// SPDX-License-Identifier: MIT
/* Opening an embedded BPF object and finding its variables by name. Only
 * libbpf 1.0's API: bpf_map__initial_value points at the value libbpf
 * creates the map with, so writes to it before load are what the programs
 * see as constants. After load, older libbpf still points it at that copy
 * (not the kernel's map): reads go through the map fd. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf_object.h"

struct bpf_object *tg_bpf_open(const void *data, size_t size, const char *name)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = name);

	/* NULL and errno on failure: libbpf 1.0's default */
	return bpf_object__open_mem(data, size, &oo);
}

struct bpf_map *tg_bpf_section_map(struct bpf_object *obj, const char *sec)
{
	/* internal maps are named "<obj>.rodata" (truncated), but found by section name */
	struct bpf_map *m = bpf_object__find_map_by_name(obj, sec);

	return m && bpf_map__is_internal(m) ? m : NULL;
}

int tg_bpf_var_offset(struct bpf_object *obj, const char *sec, const char *var, size_t size,
		      size_t *off)
{
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vi;
	const struct btf_type *ds;
	int id;

	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	ds = btf__type_by_id(btf, (__u32)id);
	vi = btf_var_secinfos(ds);
	for (__u16 i = 0; i < btf_vlen(ds); i++, vi++) {
		const struct btf_type *v = btf__type_by_id(btf, vi->type);

		if (!v || strcmp(btf__name_by_offset(btf, v->name_off), var))
			continue;
		if (vi->size != size)
			return -EINVAL;
		*off = vi->offset;
		return 0;
	}
	return -ENOENT;
}

void *tg_bpf_var_init(struct bpf_object *obj, const char *sec, const char *var, size_t size)
{
	struct bpf_map *m = tg_bpf_section_map(obj, sec);
	size_t off, msize = 0;
	char *base;
	int r;

	if (!m) {
		errno = ENOENT;
		return NULL;
	}
	if ((r = tg_bpf_var_offset(obj, sec, var, size, &off))) {
		errno = -r;
		return NULL;
	}
	/* const before libbpf 1.5, but it is the writable copy a skeleton writes to as well */
	base = (char *)(uintptr_t)bpf_map__initial_value(m, &msize);
	if (!base || off + size > msize) {
		errno = EINVAL;
		return NULL;
	}
	return base + off;
}

int tg_bpf_var_read(struct bpf_object *obj, const char *sec, const char *var, void *out, size_t size)
{
	struct bpf_map *m = tg_bpf_section_map(obj, sec);
	__u32 zero = 0;
	size_t off;
	char *val;
	int r;

	if (!m)
		return -ENOENT;
	if ((r = tg_bpf_var_offset(obj, sec, var, size, &off)))
		return r;
	if (off + size > bpf_map__value_size(m) || !(val = malloc(bpf_map__value_size(m))))
		return -ENOMEM;
	r = bpf_map_lookup_elem(bpf_map__fd(m), &zero, val) ? -errno : 0;
	if (!r)
		memcpy(out, val + off, size);
	free(val);
	return r;
}
