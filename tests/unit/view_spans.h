/* SPDX-License-Identifier: MIT */
/* Hand-made view spans for the view's unit tests, and a trace rendered to a string. */
#ifndef SOCKSPAN_TEST_VIEW_SPANS_H
#define SOCKSPAN_TEST_VIEW_SPANS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view/view_render.h"
#include "view/view_span.h"

#define T0_US 1795301147123456ULL /* 2026-11-21T22:45:47.123456Z */

/* A span of trace 4bf92f3577b34da6a3ce929d0e0e4736 with id byte `id`, parent byte `parent` (0: none),
 * starting `at` µs after T0_US. */
static inline struct view_span vspan(uint8_t id, uint8_t parent, uint8_t kind, const char *service, const char *name,
				     uint64_t at, uint64_t dur, const char *status, bool error)
{
	static const uint8_t trace[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
					   0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
	struct view_span v;

	memset(&v, 0, sizeof(v));
	memcpy(v.trace_id, trace, 16);
	v.trace_id_len = 16;
	v.id[7] = id;
	v.parent_id[7] = parent;
	v.has_parent = parent != 0;
	v.kind = kind;
	v.start_us = T0_US + at;
	v.duration_us = dur;
	v.grpc_status = -1;
	v.error = error;
	snprintf(v.service, sizeof(v.service), "%s", service);
	snprintf(v.name, sizeof(v.name), "%s", name);
	snprintf(v.status, sizeof(v.status), "%s", status);
	v.http_status = (uint16_t)atoi(status);
	return v;
}

/* The text view_render_trace writes (malloc'd). */
static inline char *render(const struct view_span *spans, size_t n, bool incomplete, unsigned width, bool color)
{
	struct view_style st = { width, color };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert(f);
	cr_assert_eq(view_render_trace(f, spans, n, incomplete, 0, &st), 0);
	fclose(f);
	return text;
}

#endif
