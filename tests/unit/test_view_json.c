// SPDX-License-Identifier: MIT
/* Unit tests for view_json.c: the -o format, collector lists, hostile input. */
#include <criterion/criterion.h>
#include <string.h>

#include "span/span_format.h"
#include "view/view_json.h"

#define MAX_GOT 8

struct got {
	unsigned n;
	struct view_span s[MAX_GOT];
};

static void on_span(void *ctx, const struct view_span *s)
{
	struct got *g = ctx;

	cr_assert_lt(g->n, MAX_GOT);
	g->s[g->n++] = *s;
}

static struct view_json_stats read_all(const char *text, size_t max, struct got *g)
{
	struct view_json_stats st = { 0 };

	memset(g, 0, sizeof(*g));
	view_json_read(text, strlen(text), max, on_span, g, &st);
	return st;
}

#define SPAN_A "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"id\":\"00f067aa0ba902b7\",\"kind\":\"SERVER\"," \
	"\"name\":\"get /chain/{id}\",\"timestamp\":1795301147123456,\"duration\":1234,\"shared\":true," \
	"\"localEndpoint\":{\"serviceName\":\"chain-b\",\"ipv4\":\"10.0.0.1\",\"port\":80}," \
	"\"tags\":{\"http.method\":\"GET\",\"http.path\":\"/chain/7\",\"http.status_code\":\"500\",\"error\":\"500\"}}"
#define SPAN_B "{\"traceId\":\"a3ce929d0e0e4736\",\"id\":\"53995c3f42cd8ad8\",\"parentId\":\"00f067aa0ba902b7\"," \
	"\"kind\":\"CLIENT\",\"name\":\"get\",\"timestamp\":1795301147123500,\"duration\":50," \
	"\"tags\":{\"db.system\":\"redis\",\"db.operation\":\"GET\"}}"

Test(view_json, a_span_has_every_field_the_view_reads)
{
	struct got g;
	struct view_json_stats st = read_all(SPAN_A, 10, &g);
	const struct view_span *s = &g.s[0];

	cr_assert_eq(st.spans, 1);
	cr_assert_eq(s->trace_id_len, 16);
	cr_assert_eq(s->trace_id[0], 0x4b);
	cr_assert_eq(s->trace_id[15], 0x36);
	cr_assert_eq(s->id[7], 0xb7);
	cr_assert_not(s->has_parent);
	cr_assert(s->shared);
	cr_assert_eq(s->kind, VIEW_KIND_SERVER);
	cr_assert_eq(s->start_us, 1795301147123456ull);
	cr_assert_eq(s->duration_us, 1234);
	cr_assert_str_eq(s->service, "chain-b");
	cr_assert_str_eq(s->name, "get /chain/{id}");
	cr_assert_str_eq(s->status, "500");
	cr_assert_str_eq(s->path, "/chain/7");
	cr_assert(s->error);
	cr_assert_eq(s->http_status, 500);
	cr_assert_eq(s->grpc_status, -1);
	cr_assert_eq(s->proto, VIEW_PROTO_HTTP);
}

Test(view_json, lines_lists_and_lists_of_traces)
{
	static const char *const inputs[] = {
		SPAN_A "\n" SPAN_B "\n",
		"[" SPAN_A "," SPAN_B "]",
		"[[" SPAN_A "],[" SPAN_B "]]",
		"[\n  " SPAN_A ",\n  " SPAN_B "\n]\n",
	};

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct got g;
		struct view_json_stats st = read_all(inputs[i], 10, &g);

		cr_assert_eq(st.spans, 2, "input %zu", i);
		cr_assert_eq(st.invalid + st.unparsed + st.beyond, 0, "input %zu", i);
		cr_assert_eq(g.s[1].trace_id_len, 8);
		cr_assert(g.s[1].has_parent);
		cr_assert_eq(g.s[1].proto, VIEW_PROTO_REDIS);
		cr_assert_str_eq(g.s[1].status, "");
	}
}

Test(view_json, what_is_no_span_is_skipped_and_counted)
{
	struct got g;
	struct view_json_stats st = read_all(
		"{\"traceId\":\"xyz\",\"id\":\"00f067aa0ba902b7\"}\n"                         /* bad trace id */
		"{\"traceId\":\"00000000000000000000000000000000\",\"id\":\"00f067aa0ba902b7\"}\n" /* zero */
		"{\"traceId\":\"a3ce929d0e0e4736\",\"id\":\"00f067aa0ba902b7\",\"parentId\":\"12\"}\n"
		"{\"id\":\"00f067aa0ba902b7\"}\n"
		"not json at all {\n"
		"42\n"
		"[[[" SPAN_A "]]]\n" /* too deep */
		SPAN_B "\n",
		10, &g);

	cr_assert_eq(st.spans, 1);
	cr_assert_eq(st.invalid, 6);
	cr_assert_eq(st.unparsed, 1);
	cr_assert_eq(g.s[0].duration_us, 50);
}

Test(view_json, at_most_max_spans)
{
	struct got g;
	struct view_json_stats st = read_all("[" SPAN_A "," SPAN_B "," SPAN_A "]", 2, &g);

	cr_assert_eq(st.spans, 2);
	cr_assert_eq(st.beyond, 1);
}

Test(view_json, what_sockspan_writes_reads_back)
{
	struct span s;
	struct view_span live;
	char json[SPAN_JSON_MAX];
	struct got g;

	span_init(&s);
	s.kind = SPAN_KIND_CLIENT;
	s.has_parent = true;
	s.parent_id[0] = 9;
	strcpy(s.name, "/demo.Echo/Say");
	strcpy(s.local.service_name, "it-grpc");
	s.timestamp_us = 1795301147123456ull;
	s.duration_us = 77;
	span_add_tag(&s, "rpc.system", "grpc", 4);
	span_add_tag(&s, "grpc.status_code", "14", 2);
	span_add_tag(&s, "error", "UNAVAILABLE", 11);
	cr_assert_gt(span_zipkin_json(&s, json, sizeof(json)), 0);
	read_all(json, 1, &g);
	view_span_from_span(&live, &s);
	cr_assert_eq(g.n, 1);
	cr_assert_eq(memcmp(&g.s[0], &live, sizeof(live)), 0);
	cr_assert_eq(live.proto, VIEW_PROTO_GRPC);
	cr_assert_eq(live.grpc_status, 14);
	cr_assert_str_eq(live.path, "/demo.Echo/Say");
}
