/* SPDX-License-Identifier: MIT */
/*
 * view_replay.h - `sockspan view FILE`: Zipkin v2 JSON spans read back
 * (view_json.h) and shown as live spans are (view_out.h), with the same
 * filters. Needs no privilege, no BPF and no kernel support.
 */
#ifndef SOCKSPAN_VIEW_REPLAY_H
#define SOCKSPAN_VIEW_REPLAY_H

#include <stdio.h>

#include "view/view_filter.h"
#include "view/view_render.h"

/* Input read at most: a bigger capture is split first (jq, split -l). */
#define VIEW_REPLAY_MAX_BYTES (64u << 20)
/* Spans read at most; those after are counted, not shown. */
#define VIEW_REPLAY_MAX_SPANS 1000000
/* A replay holds more open traces than a live view: it sees them all at once. */
#define VIEW_REPLAY_MAX_TRACES 16384
#define VIEW_REPLAY_MAX_OPEN_SPANS 262144

/*
 * Read path ("-": stdin), write the traces that pass filter to out, then
 * what was skipped on err. Returns 0, or 1 when the input cannot be read or
 * is too big (said on err).
 */
int view_replay(const char *path, const struct view_filter *filter, const struct view_style *style, FILE *out,
		FILE *err);

#endif
