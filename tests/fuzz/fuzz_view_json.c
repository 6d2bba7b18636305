// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the replay path of user/view/: any bytes as a file of
 * Zipkin JSON spans (view_json.c), gathered into traces (view_store.c, with
 * small caps so eviction and per-trace drops happen) and rendered
 * (view_tree.c, view_render.c). Byte 0 picks the width (30..285) and the
 * colour. Besides memory errors (the input is an exact-size heap copy, not
 * NUL-terminated), it checks the contract: every line the view writes is
 * valid UTF-8 with no control character but its colour codes, and takes no
 * more columns than the width (at least VIEW_MIN_WIDTH).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "span/span.h"
#include "view/view_json.h"
#include "view/view_out.h"
#include "view/view_text.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

static void add_span(void *ctx, const struct view_span *s)
{
	view_out_add(ctx, s);
}

/* One line of output (no '\n'): SGR codes out, then columns and characters checked. */
static void check_line(char *line, size_t n, unsigned width)
{
	size_t o = 0;
	char copy[8192];
	uint32_t cp;

	for (size_t i = 0; i < n; i++) {
		if (line[i] == '\033') {
			CHECK(i + 1 < n && line[i + 1] == '[');
			for (i += 2; i < n && line[i] != 'm'; i++)
				CHECK((line[i] >= '0' && line[i] <= '9') || line[i] == ';');
			CHECK(i < n);
			continue;
		}
		CHECK(o < sizeof(copy));
		copy[o++] = line[i];
	}
	/* Valid UTF-8 and nothing unsafe: copying it safely changes nothing. */
	{
		char again[8192];

		CHECK(span_copy_safe(again, sizeof(again), copy, o) == o && memcmp(again, copy, o) == 0);
	}
	for (size_t i = 0; i < o; i++)
		CHECK(span_unsafe_char(copy + i, o - i, &cp) == 0);
	CHECK(view_text_cols(copy, o) <= (width < VIEW_MIN_WIDTH ? VIEW_MIN_WIDTH : width));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct view_store_opts so = { .max_traces = 4, .max_trace_spans = 6, .max_spans = 16 };
	struct view_filter none = { 0 };
	struct view_json_stats st = { 0 };
	struct view_style style;
	struct view_out vo;
	char *in, *text = NULL;
	size_t len = 0;
	FILE *f;

	if (size < 1)
		return 0;
	style.width = 30 + data[0];
	style.color = data[0] & 1;
	in = malloc(size - 1 ? size - 1 : 1);
	f = open_memstream(&text, &len);
	CHECK(in && f);
	memcpy(in, data + 1, size - 1);
	CHECK(view_out_init(&vo, f, &none, &style, &so, 0) == 0);
	view_json_read(in, size - 1, 64, add_span, &vo, &st);
	view_out_flush(&vo);
	CHECK(st.spans <= 64);
	CHECK(vo.traces_shown == view_store_stats(vo.store)->traces_out);
	view_out_free(&vo);
	fclose(f);
	for (char *p = text, *end = text + len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		CHECK(nl);
		check_line(p, (size_t)(nl - p), style.width);
		p = nl + 1;
	}
	free(text);
	free(in);
	return 0;
}
