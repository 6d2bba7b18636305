// SPDX-License-Identifier: MIT
/* Unit tests for view_filter.c: each criterion, --not, ORs within a kind, sampling. */
#include "view_spans.h"

#include "view/view_filter.h"

static struct view_span http1(const char *service, const char *path, const char *status, uint64_t dur)
{
	struct view_span s = vspan(1, 0, VIEW_KIND_SERVER, service, "get /x", 0, dur, status, atoi(status) >= 500);

	s.proto = VIEW_PROTO_HTTP1;
	snprintf(s.path, sizeof(s.path), "%s", path);
	return s;
}

static struct view_span redis(void)
{
	struct view_span s = vspan(2, 1, VIEW_KIND_CLIENT, "chain-b", "get", 0, 300, "", false);

	s.proto = VIEW_PROTO_REDIS;
	return s;
}

static void add(struct view_filter *f, enum view_filter_kind k, const char *arg, bool negate)
{
	char err[256];

	cr_assert_eq(view_filter_add(f, k, arg, negate, err, sizeof(err)), 0, "%s", err);
}

static bool one(const struct view_filter *f, struct view_span s)
{
	return view_filter_match(f, &s, 1);
}

Test(view_filter, empty_keeps_everything)
{
	struct view_filter f = { 0 };

	cr_assert_not(view_filter_active(&f));
	cr_assert(one(&f, redis()));
}

Test(view_filter, each_criterion_on_one_span)
{
	struct {
		enum view_filter_kind kind;
		const char *arg;
		struct view_span yes, no;
	} cases[] = {
		{ VIEW_FILTER_PROTOCOL, "redis", redis(), http1("a", "/", "200", 1) },
		{ VIEW_FILTER_PROTOCOL, "http1", http1("a", "/", "200", 1), redis() },
		{ VIEW_FILTER_MIN_DURATION, "50ms", http1("a", "/", "200", 50000), http1("a", "/", "200", 49999) },
		{ VIEW_FILTER_MIN_DURATION, "1.5s", http1("a", "/", "200", 1500000), http1("a", "/", "200", 1499999) },
		{ VIEW_FILTER_MIN_DURATION, "200µs", http1("a", "/", "200", 200), http1("a", "/", "200", 199) },
		{ VIEW_FILTER_ERRORS, NULL, http1("a", "/", "503", 1), http1("a", "/", "404", 1) },
		{ VIEW_FILTER_STATUS, "5xx", http1("a", "/", "503", 1), http1("a", "/", "404", 1) },
		{ VIEW_FILTER_STATUS, "404", http1("a", "/", "404", 1), http1("a", "/", "405", 1) },
		{ VIEW_FILTER_SERVICE, "chain-a", http1("chain-a", "/", "200", 1), http1("chain-ab", "/", "200", 1) },
		{ VIEW_FILTER_PATH_PREFIX, "/api", http1("a", "/api/users", "200", 1), http1("a", "/ap", "200", 1) },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct view_filter f = { 0 }, not = { 0 };

		add(&f, cases[i].kind, cases[i].arg, false);
		add(&not, cases[i].kind, cases[i].arg, true);
		cr_assert(one(&f, cases[i].yes), "case %zu", i);
		cr_assert_not(one(&f, cases[i].no), "case %zu", i);
		cr_assert_not(one(&not, cases[i].yes), "case %zu negated", i);
		cr_assert(one(&not, cases[i].no), "case %zu negated", i);
	}
}

Test(view_filter, grpc_codes_and_replayed_http_of_unknown_version)
{
	struct view_filter f = { 0 }, h2 = { 0 };
	struct view_span g = vspan(1, 0, VIEW_KIND_CLIENT, "a", "/demo.Echo/Say", 0, 1, "14", true);
	struct view_span replayed = http1("a", "/", "200", 1);

	g.proto = VIEW_PROTO_GRPC;
	g.http_status = 0;
	g.grpc_status = 14;
	add(&f, VIEW_FILTER_STATUS, "14", false);
	cr_assert(one(&f, g));
	add(&h2, VIEW_FILTER_PROTOCOL, "http2", false);
	cr_assert_not(one(&h2, replayed));
	replayed.proto = VIEW_PROTO_HTTP;
	cr_assert(one(&h2, replayed));
}

Test(view_filter, a_trace_passes_when_one_span_meets_each_kind_and_none_a_negated_one)
{
	struct view_span t[2] = { http1("chain-b", "/chain/1", "500", 8000), redis() };
	struct view_filter f = { 0 };

	add(&f, VIEW_FILTER_ERRORS, NULL, false);
	add(&f, VIEW_FILTER_PROTOCOL, "redis", false);
	cr_assert(view_filter_match(&f, t, 2));
	cr_assert_not(view_filter_match(&f, &t[1], 1));
	add(&f, VIEW_FILTER_SERVICE, "nobody", true);
	cr_assert(view_filter_match(&f, t, 2));
	add(&f, VIEW_FILTER_SERVICE, "chain-b", true);
	cr_assert_not(view_filter_match(&f, t, 2));
}

Test(view_filter, criteria_of_one_kind_are_ored)
{
	struct view_filter f = { 0 };

	add(&f, VIEW_FILTER_SERVICE, "a", false);
	add(&f, VIEW_FILTER_SERVICE, "b", false);
	cr_assert(one(&f, http1("a", "/", "200", 1)));
	cr_assert(one(&f, http1("b", "/", "200", 1)));
	cr_assert_not(one(&f, http1("c", "/", "200", 1)));
}

Test(view_filter, trace_id_in_64_or_128_bits)
{
	struct view_filter full = { 0 }, low = { 0 }, other = { 0 };
	struct view_span s = redis(), s64 = redis();

	add(&full, VIEW_FILTER_TRACE_ID, "4bf92f3577b34da6a3ce929d0e0e4736", false);
	add(&low, VIEW_FILTER_TRACE_ID, "A3CE929D0E0E4736", false);
	add(&other, VIEW_FILTER_TRACE_ID, "00f92f3577b34da6a3ce929d0e0e4736", false);
	memcpy(s64.trace_id, s.trace_id + 8, 8);
	memset(s64.trace_id + 8, 0, 8);
	s64.trace_id_len = 8;
	cr_assert(one(&full, s));
	cr_assert(one(&low, s));
	cr_assert_not(one(&other, s));
	cr_assert(one(&full, s64));
	cr_assert(one(&low, s64));
}

Test(view_filter, bad_arguments_are_refused_with_a_message)
{
	static const struct {
		enum view_filter_kind kind;
		const char *arg;
	} bad[] = {
		{ VIEW_FILTER_PROTOCOL, "http3" },     { VIEW_FILTER_MIN_DURATION, "50" },
		{ VIEW_FILTER_MIN_DURATION, "-1ms" },  { VIEW_FILTER_MIN_DURATION, "nanms" },
		{ VIEW_FILTER_STATUS, "6xx" },         { VIEW_FILTER_STATUS, "1000" },
		{ VIEW_FILTER_PATH_PREFIX, "api" },    { VIEW_FILTER_TRACE_ID, "xyz" },
		{ VIEW_FILTER_SERVICE, "" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct view_filter f = { 0 };
		char err[256] = "";

		cr_assert_eq(view_filter_add(&f, bad[i].kind, bad[i].arg, false, err, sizeof(err)), -1, "%s", bad[i].arg);
		cr_assert(strstr(err, bad[i].arg), "%s", err);
		cr_assert_eq(f.n, 0);
	}
}

Test(view_filter, sampling_is_decided_by_the_trace_id_alone)
{
	struct view_filter half = { 0 }, none = { 0 }, all = { 0 };
	char err[256];
	unsigned kept = 0;

	cr_assert_eq(view_filter_set_sample_rate(&half, "0.5", err, sizeof(err)), 0);
	cr_assert_eq(view_filter_set_sample_rate(&none, "0", err, sizeof(err)), 0);
	cr_assert_eq(view_filter_set_sample_rate(&all, "1", err, sizeof(err)), 0);
	cr_assert_eq(view_filter_set_sample_rate(&all, "1.5", err, sizeof(err)), -1);
	cr_assert_not(view_filter_active(&all));
	for (unsigned i = 0; i < 1000; i++) {
		struct view_span s = redis();
		bool k;

		/* Ids spread over the 64 low bits, as random ones are. */
		for (int b = 8; b < 16; b++)
			s.trace_id[b] = (uint8_t)((i * 2654435761u) >> (b % 4 * 8));
		k = one(&half, s);
		cr_assert_eq(k, one(&half, s));
		cr_assert_not(one(&none, s));
		kept += k;
	}
	cr_assert(kept > 400 && kept < 600, "kept %u of 1000", kept);
}
