/* SPDX-License-Identifier: MIT */
/* bpf/poll_probe.bpf.c as embedded in the binary, its programs, maps and
 * constants found by name once, at open: what a bpftool skeleton gave,
 * without bpftool at build time. */
#ifndef TG_POLL_PROBE_OBJ_H
#define TG_POLL_PROBE_OBJ_H

#include <stdbool.h>
#include <stdint.h>

struct bpf_object;
struct bpf_program;
struct bpf_map;

/* X(name): every program, map and .rodata constant (X(type, name)) probe.c uses */
#define TG_POLL_PROBE_PROGS(X) X(poll_enter) X(poll_exit) X(park_enter) X(park_exit) \
	X(fn_enter) X(task_wake) X(on_switch) X(on_wakeup) X(on_tick) X(on_sample) \
	X(on_exit) X(worker_totals)
#define TG_POLL_PROBE_MAPS(X) X(events) X(stats) X(site_stats) X(fn_stats) X(sched_stats) \
	X(wake_slots) X(samplers)
#define TG_POLL_PROBE_RODATA(X) X(uint32_t, target_tgid) X(uint64_t, trace_min_ns) \
	X(uint64_t, blocking_ns) X(uint64_t, stack_floor_ns) X(uint32_t, stack_bytes) \
	X(uint64_t, wakeup_bytes) X(uint64_t, sample_period_ns) X(uint64_t, boost_after_ns) \
	X(bool, sched_delay) X(bool, timer_sampler) X(uint32_t, block_on_main_site) \
	X(uint32_t, block_on_other_site) X(bool, unwind_dwarf) X(uint32_t, copy_pages) \
	X(uint32_t, wake_slot_bits)

#define TG_PP_PROG(n) struct bpf_program *n;
#define TG_PP_MAP(n) struct bpf_map *n;
#define TG_PP_VAR(t, n) t *n;
struct tg_poll_probe {
	struct bpf_object *obj;
	struct { TG_POLL_PROBE_PROGS(TG_PP_PROG) } progs;
	struct { TG_POLL_PROBE_MAPS(TG_PP_MAP) } maps;
	/* the constants' initial values: set them before tg_poll_probe_load */
	struct { TG_POLL_PROBE_RODATA(TG_PP_VAR) } rodata;
};
#undef TG_PP_PROG
#undef TG_PP_MAP
#undef TG_PP_VAR

/* Opens the embedded object. NULL with errno set; WHAT (if not NULL) then
 * names what was missing from it. */
struct tg_poll_probe *tg_poll_probe_open(const char **what);
/* Loads the programs and creates the maps: 0 or -errno. */
int tg_poll_probe_load(struct tg_poll_probe *s);
/* Unloads and frees (NULL is fine). */
void tg_poll_probe_destroy(struct tg_poll_probe *s);

#endif
