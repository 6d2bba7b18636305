// SPDX-License-Identifier: MIT
/* view_render.c - one line per span, built in a buffer measured in columns. */
#include "view/view_render.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "view/view_text.h"
#include "view/view_tree.h"

#define OFFSET_COLS 8   /* "+999µs", "+12.3ms", or "HH:MM:SS" */
#define STATUS_COLS 6   /* "200", "14", "WRONG…" */
#define DURATION_COLS 7 /* "999µs", "12.3ms" */
/* A name is shortened, not the service and kind before it, while it keeps this many columns. */
#define NAME_MIN_COLS 8
#define BAR_MAX_COLS 60
#define SGR_RED "\033[31m"
#define SGR_BOLD "\033[1m"
#define SGR_RESET "\033[0m"
/* A line: every column of a character of at most 4 bytes, and SGR codes. */
#define LINE_MAX (4 * VIEW_MAX_WIDTH + 32)

struct line {
	char buf[LINE_MAX];
	size_t len;
	unsigned cols;
};

static void put(struct line *l, const char *s, size_t n, unsigned cols)
{
	if (l->len + n >= sizeof(l->buf))
		return;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->cols += cols;
}

static void pad_to(struct line *l, unsigned cols)
{
	while (l->cols < cols)
		put(l, " ", 1, 1);
}

/* s made safe and fitted into cols columns, then padded to them (right-aligned: spaces first). */
static void put_field(struct line *l, const char *s, unsigned cols, bool right)
{
	char clean[4 * VIEW_MAX_WIDTH], fit[4 * VIEW_MAX_WIDTH + 4];
	size_t n = span_copy_safe(clean, sizeof(clean), s, strlen(s));
	unsigned used, end = l->cols + cols;

	n = view_text_fit(fit, sizeof(fit), n ? clean : "-", n ? n : 1, cols, &used);
	if (right)
		pad_to(l, end - used);
	put(l, fit, n, used);
	pad_to(l, end);
}

static const char *kind_str(uint8_t kind)
{
	static const char *const names[] = {
		[VIEW_KIND_NONE] = "-", [VIEW_KIND_CLIENT] = "CLIENT", [VIEW_KIND_SERVER] = "SERVER",
		[VIEW_KIND_PRODUCER] = "PRODUCER", [VIEW_KIND_CONSUMER] = "CONSUMER",
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "-";
}

static void utc_time(char out[16], uint64_t us)
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;

	if (!gmtime_r(&secs, &tm) || !strftime(out, 16, "%H:%M:%S", &tm))
		strcpy(out, "--:--:--");
}

static unsigned bar_cols(unsigned width)
{
	unsigned b = width / 5;

	return width < VIEW_BAR_MIN_WIDTH ? 0 : b < BAR_MAX_COLS ? b : BAR_MAX_COLS;
}

/* "service KIND name" in cols columns: the name shortened while it keeps
 * NAME_MIN_COLS, else the whole of it. */
static void put_label(struct line *l, const struct view_span *s, unsigned cols)
{
	char text[SPAN_SERVICE_MAX + SPAN_NAME_MAX + 16], service[SPAN_SERVICE_MAX], name[SPAN_NAME_MAX];
	size_t sn = span_copy_safe(service, sizeof(service), s->service, strlen(s->service));
	size_t nn = span_copy_safe(name, sizeof(name), s->name, strlen(s->name));
	int n = snprintf(text, sizeof(text), "%s %s ", sn ? service : "-", kind_str(s->kind));
	unsigned prefix = view_text_cols(text, (size_t)n), end = l->cols + cols;

	if (prefix + NAME_MIN_COLS <= cols) {
		put(l, text, (size_t)n, prefix);
		put_field(l, nn ? name : "-", cols - prefix, false);
		return;
	}
	snprintf(text + n, sizeof(text) - (size_t)n, "%s", nn ? name : "-");
	put_field(l, text, cols, false);
	pad_to(l, end);
}

/* When s ends, saturated (hostile JSON can say anything). */
static uint64_t end_of(const struct view_span *s)
{
	return s->start_us > UINT64_MAX - s->duration_us ? UINT64_MAX : s->start_us + s->duration_us;
}

/* The bar of [start, start+dur) in a trace of [t0, t0+total), cols wide. */
static void put_bar(struct line *l, const struct view_span *s, uint64_t t0, uint64_t total, unsigned cols)
{
	unsigned __int128 from = (unsigned __int128)(s->start_us - t0) * cols / total;
	unsigned __int128 to = ((unsigned __int128)(end_of(s) - t0) * cols + total - 1) / total;

	if (from >= cols)
		from = cols - 1;
	if (to > cols)
		to = cols;
	if (to <= from)
		to = from + 1;
	put(l, "|", 1, 1);
	for (unsigned i = 0; i < cols; i++)
		put(l, i >= from && i < to ? "=" : " ", 1, 1);
	put(l, "|", 1, 1);
}

/* One span's line; t0/total: the trace's extent, alone: a trace of one span. */
static void span_line(struct line *l, const struct view_span *s, unsigned depth, uint64_t t0, uint64_t total,
		      const struct view_style *st, bool alone)
{
	unsigned bar = alone ? 0 : bar_cols(st->width);
	unsigned label = st->width - 1 - OFFSET_COLS - 1 - 1 - STATUS_COLS - 1 - DURATION_COLS - (bar ? bar + 3 : 0);
	unsigned indent = 2 * depth < label / 2 ? 2 * depth : label / 2;
	char when[VIEW_DURATION_MAX + 1] = "+", dur[VIEW_DURATION_MAX];

	l->len = l->cols = 0;
	if (st->color && s->error)
		put(l, SGR_RED, sizeof(SGR_RED) - 1, 0);
	put(l, s->error ? "!" : " ", 1, 1);
	if (alone)
		utc_time(when, s->start_us);
	else
		view_text_duration(when + 1, s->start_us - t0);
	put_field(l, when, OFFSET_COLS, true);
	put(l, " ", 1, 1);
	pad_to(l, l->cols + indent);
	put_label(l, s, label - indent);
	put(l, " ", 1, 1);
	put_field(l, s->status, STATUS_COLS, false);
	put(l, " ", 1, 1);
	view_text_duration(dur, s->duration_us);
	put_field(l, dur, DURATION_COLS, true);
	if (bar) {
		put(l, " ", 1, 1);
		put_bar(l, s, t0, total, bar);
	}
	if (st->color && s->error)
		put(l, SGR_RESET, sizeof(SGR_RESET) - 1, 0);
}

static void header_line(struct line *l, const struct view_span *any, size_t n, uint64_t t0, uint64_t total,
			bool incomplete, unsigned dropped, const struct view_style *st)
{
	char text[256], when[16], trace[33], dur[VIEW_DURATION_MAX];
	int k;

	utc_time(when, t0);
	view_span_trace_hex(any, trace);
	view_text_duration(dur, total);
	k = snprintf(text, sizeof(text), "%s trace %s %zu span%s %s", when, trace, n, n == 1 ? "" : "s", dur);
	if (incomplete)
		k += snprintf(text + k, sizeof(text) - (size_t)k, " incomplete");
	if (dropped)
		snprintf(text + k, sizeof(text) - (size_t)k, " (%u more not kept)", dropped);
	l->len = l->cols = 0;
	if (st->color)
		put(l, SGR_BOLD, sizeof(SGR_BOLD) - 1, 0);
	put_field(l, text, st->width, false);
	/* No trailing blanks: the header is as long as its text. */
	while (l->len && l->buf[l->len - 1] == ' ')
		l->len--;
	if (st->color)
		put(l, SGR_RESET, sizeof(SGR_RESET) - 1, 0);
}

static int emit(FILE *out, struct line *l)
{
	l->buf[l->len++] = '\n';
	return fwrite(l->buf, 1, l->len, out) == l->len ? 0 : -1;
}

int view_render_trace(FILE *out, const struct view_span *spans, size_t n, bool incomplete, unsigned dropped,
		      const struct view_style *st)
{
	struct view_style s = *st;
	struct view_node *order;
	struct line *l;
	uint64_t t0 = UINT64_MAX, end = 0;
	int r = 0;

	if (n == 0)
		return 0;
	s.width = s.width < VIEW_MIN_WIDTH ? VIEW_MIN_WIDTH : s.width > VIEW_MAX_WIDTH ? VIEW_MAX_WIDTH : s.width;
	order = malloc(n * sizeof(*order));
	l = malloc(sizeof(*l));
	if (!order || !l || view_tree_order(spans, n, order)) {
		free(order);
		free(l);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t e = end_of(&spans[i]);

		t0 = spans[i].start_us < t0 ? spans[i].start_us : t0;
		end = e > end ? e : end;
	}
	if (n == 1 && !incomplete && !dropped) {
		span_line(l, &spans[0], 0, t0, 1, &s, true);
		r = emit(out, l);
	} else {
		header_line(l, &spans[0], n, t0, end - t0, incomplete, dropped, &s);
		r = emit(out, l);
		for (size_t i = 0; i < n && !r; i++) {
			span_line(l, &spans[order[i].idx], order[i].depth, t0, end > t0 ? end - t0 : 1, &s, false);
			r = emit(out, l);
		}
	}
	free(order);
	free(l);
	return r;
}
