// SPDX-License-Identifier: MIT
/* view_replay.c - a file of spans, read whole (bounded), shown as trees. */
#include "view/view_replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "view/view_json.h"
#include "view/view_out.h"

/* The whole of f into a malloc'd buffer, at most VIEW_REPLAY_MAX_BYTES
 * (one more byte is read to tell). Returns it, or NULL with *err_no set
 * (EFBIG when too big). */
static char *slurp(FILE *f, size_t *len, int *err_no)
{
	size_t cap = 1 << 16, n = 0, next;
	char *buf = malloc(cap), *grown;

	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		if (n > VIEW_REPLAY_MAX_BYTES) {
			free(buf);
			*err_no = EFBIG;
			return NULL;
		}
		next = 2 * cap < VIEW_REPLAY_MAX_BYTES + 1 ? 2 * cap : VIEW_REPLAY_MAX_BYTES + 1;
		grown = realloc(buf, next);
		if (!grown)
			free(buf);
		buf = grown;
		cap = next;
	}
	if (!buf) {
		*err_no = ENOMEM;
		return NULL;
	}
	if (ferror(f)) {
		*err_no = errno ? errno : EIO;
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static void add_span(void *ctx, const struct view_span *s)
{
	view_out_add(ctx, s);
}

int view_replay(const char *path, const struct view_filter *filter, const struct view_style *style, FILE *out,
		FILE *err)
{
	struct view_store_opts so = {
		.max_traces = VIEW_REPLAY_MAX_TRACES, .max_spans = VIEW_REPLAY_MAX_OPEN_SPANS,
	};
	struct view_json_stats st = { 0 };
	FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct view_out vo;
	size_t len = 0;
	int err_no = 0;
	char *buf;

	if (!in) {
		fprintf(err, "sockspan: view: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	buf = slurp(in, &len, &err_no);
	if (in != stdin)
		fclose(in);
	if (!buf) {
		fprintf(err, "sockspan: view: %s: %s\n", path,
			err_no == EFBIG ? "larger than 64 MiB: split it first" : strerror(err_no));
		return 1;
	}
	if (view_out_init(&vo, out, filter, style, &so, 0)) {
		free(buf);
		fprintf(err, "sockspan: view: out of memory\n");
		return 1;
	}
	view_json_read(buf, len, VIEW_REPLAY_MAX_SPANS, add_span, &vo, &st);
	free(buf);
	view_out_flush(&vo);
	fprintf(err, "sockspan: view: %llu spans read; skipped: %llu not spans, %llu not JSON, %llu beyond %d\n",
		(unsigned long long)st.spans, (unsigned long long)st.invalid, (unsigned long long)st.unparsed,
		(unsigned long long)st.beyond, VIEW_REPLAY_MAX_SPANS);
	view_out_report(&vo, err);
	view_out_free(&vo);
	return 0;
}
