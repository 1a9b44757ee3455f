/* SPDX-License-Identifier: MIT */
/* BPF objects embedded in the binary (the build's clang output, .incbin'd
 * by the .S that tg_bpf_embed in CMakeLists.txt generates), opened without a
 * bpftool skeleton: programs and maps are looked up by name, and global
 * variables (.rodata, .bss) by name through the object's BTF, which gives
 * each one's offset and size. */
#ifndef TG_BPF_OBJECT_H
#define TG_BPF_OBJECT_H

#include <stddef.h>

struct bpf_object;
struct bpf_map;

/* The embedded object NAME: the symbols tg_bpf_NAME and tg_bpf_NAME_end the
 * build's generated .S defines around its bytes. */
#define TG_BPF_EMBEDDED(name) \
	extern const unsigned char tg_bpf_##name[], tg_bpf_##name##_end[]
#define TG_BPF_EMBEDDED_SIZE(name) ((size_t)(tg_bpf_##name##_end - tg_bpf_##name))

/* Opens (does not load) the object in DATA as NAME. NULL with errno set on failure. */
struct bpf_object *tg_bpf_open(const void *data, size_t size, const char *name);

/* The variable VAR of section SEC (".rodata", ".bss", ".data") as the offset
 * into its map's value, checked to be SIZE bytes; -ENOENT if there is no
 * such variable, -EINVAL if its size differs (the object and this binary disagree). */
int tg_bpf_var_offset(struct bpf_object *obj, const char *sec, const char *var, size_t size,
		      size_t *off);

/* Before load: where VAR of SEC's initial value is, to be written (NULL, errno set, if not found). */
void *tg_bpf_var_init(struct bpf_object *obj, const char *sec, const char *var, size_t size);

/* After load: reads VAR of SEC from the kernel's map into OUT (SIZE bytes). 0 or -errno. */
int tg_bpf_var_read(struct bpf_object *obj, const char *sec, const char *var, void *out, size_t size);

/* The map of global section SEC (".rodata", ".bss"), or NULL. */
struct bpf_map *tg_bpf_section_map(struct bpf_object *obj, const char *sec);

#endif
