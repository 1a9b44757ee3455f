/* SPDX-License-Identifier: MIT */
/* The CPU profile's sample event (bpf/cpu_profile.bpf.c to probe/cpu_sampler.c, record/cpu_profile.c).
 * In dwarf mode the samples are struct tg_copy_event (poll_probe.h) instead. */
#ifndef TG_CPU_PROFILE_EVENT_H
#define TG_CPU_PROFILE_EVENT_H

#include "poll_probe.h"

#define TG_EV_CPU_SAMPLE 16 /* frame-pointer stack; TG_EV_SAMPLE_COPY for copies */

struct tg_cpu_sample {
	__u32 type;
	__u32 tid;
	__u32 nr; /* frames in ips[]: the interrupted user pc, then return addresses */
	__u32 pad;
	__u64 ips[TG_MAX_STACK_DEPTH];
};

#endif
