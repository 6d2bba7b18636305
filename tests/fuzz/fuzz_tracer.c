// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for trace/tracer.c: exchanges started, ended and dropped
 * in any order, from a few processes, threads and connections, with trace
 * headers built from the input (valid ids from a small pool, so that
 * attribution, joins and late joins happen; or the input's bytes as is),
 * spans held for a join released by time, by joins, by a flush or freed.
 *
 * Invariants: every span has a non-zero id and no parent equal to it, a
 * trace id of 8 or 16 bytes, never all zero; when every exchange was ended
 * or dropped, none is left in flight (cells and records are freed under
 * AddressSanitizer's eye).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/clock.h"
#include "span/span_builder.h"
#include "trace/tracer.h"

#define FUZZ_LIVE 32 /* exchanges the input can refer to */

static const char *const ids16[] = { "00f067aa0ba902b7", "53995c3f42cd8ad8", "a3ce929d0e0e4736", "0000000000000000" };
static const char *const traces[] = { "4bf92f3577b34da6a3ce929d0e0e4736", "a3ce929d0e0e4736",
				      "80f198ee56343ba864fe8b2a57d3eff7" };

static void sink(void *ctx, const struct span *s)
{
	uint8_t zero[16] = { 0 };

	(void)ctx;
	if (!memcmp(s->id, zero, 8) || (s->has_parent && !memcmp(s->id, s->parent_id, 8)))
		abort();
	if ((s->trace_id_len != 8 && s->trace_id_len != 16) || !memcmp(s->trace_id, zero, s->trace_id_len))
		abort();
}

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t next(struct input *in)
{
	uint8_t b;

	if (!in->n)
		return 0;
	b = *in->p++;
	in->n--;
	return b;
}

/* Header values built from the input, kept alive during a start. */
struct values {
	char buf[8][80];
	unsigned n;
};

static const char *value(struct values *v, struct input *in)
{
	char *out = v->buf[v->n++ % 8];
	uint8_t k = next(in);

	switch (k % 6) {
	case 0:
		snprintf(out, 80, "%s-%s-%c", traces[next(in) % 3], ids16[next(in) % 4], "01d"[next(in) % 3]);
		break;
	case 1:
		snprintf(out, 80, "%s", traces[next(in) % 3]);
		break;
	case 2:
		snprintf(out, 80, "%s", ids16[next(in) % 4]);
		break;
	case 3:
		snprintf(out, 80, "00-%s-%s-0%c", traces[0], ids16[next(in) % 4], "01"[next(in) % 2]);
		break;
	case 4:
		snprintf(out, 80, "req-%u", next(in) % 4);
		break;
	default: { /* the input's bytes */
		size_t len = next(in) % 79;

		for (size_t i = 0; i < len; i++)
			out[i] = (char)next(in);
		out[len] = '\0';
	}
	}
	return out;
}

static void start(const struct exchange_sink *xs, struct input *in, exchange_id *live)
{
	static const char *const names[] = { "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid",
					     "x-b3-sampled", "traceparent", "tracestate", "x-request-id" };
	uint8_t who = next(in), nh = next(in) % 5;
	struct tc_headers th = { 0 };
	struct values vals = { .n = 0 };
	struct conn c = { 0 };
	struct exchange_start x = {
		.role = who & 1 ? EXCHANGE_SERVER : EXCHANGE_CLIENT, .proto = PROTO_HTTP1,
		.tid = (uint32_t)(who >> 1) % 3, .seq = next(in) % 4, .start_ns = 1000,
		.headers = &th, .ident = { { "GET", 3 }, { "/a", 2 } },
	};

	for (unsigned i = 0; i < nh; i++) {
		const char *name = names[next(in) % 8];
		const char *v = value(&vals, in);

		tc_headers_add(&th, tc_header_of(name, strlen(name)), v, strlen(v));
	}
	c.key.tgid = (who >> 3) % 3;
	c.family = 2;
	c.lport = (uint16_t)(next(in) % 3 + 80);
	c.rport = (uint16_t)(next(in) % 3 + 80);
	memcpy(c.comm, "fuzz", 5);
	live[next(in) % FUZZ_LIVE] = xs->start(xs->ctx, &c, &x);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	clock_sync();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockspan_stats stats = { 0 };
	struct span_opts so = { .redis_statement = false };
	struct tracer_opts o = { .ignore_sampling = size & 1, .max_exchanges = 16,
				 .join_wait_ns = size & 2 ? 3000 : 0 };
	struct span_builder b;
	struct tracer *t;
	struct input in = { data, size };
	exchange_id live[FUZZ_LIVE] = { 0 };
	const struct exchange_sink *xs;
	struct conn c = { 0 };

	span_builder_init(&b, NULL, NULL, &so, &stats);
	span_builder_add_sink(&b, sink, NULL);
	t = tracer_new(&o, &stats, span_builder_traced, &b);
	if (!t)
		return 0;
	xs = tracer_exchange_sink(t);
	c.family = 2;
	while (in.n) {
		uint8_t op = next(&in);
		exchange_id *id = &live[next(&in) % FUZZ_LIVE];
		struct exchange_end e = { .type = EXCHANGE_HTTP, .end_ns = 2000, .rst = -1 };

		e.u.http = (struct exchange_http){ "GET", 3, "/a", 2, 200 };
		switch (op % 5) {
		case 4:
			tracer_tick(t, 1000 + (uint64_t)next(&in) * 100);
			break;
		case 0:
		case 1:
			start(xs, &in, live);
			break;
		case 2:
			xs->end(xs->ctx, *id, &c, &e); /* stale ids included: nothing happens */
			*id = 0;
			break;
		case 3:
			xs->drop(xs->ctx, *id);
			*id = 0;
			break;
		}
	}
	/* Exchanges overwritten in live[] are lost to the input: the tracer frees them. */
	for (int i = 0; i < FUZZ_LIVE; i++)
		xs->drop(xs->ctx, live[i]);
	if (size && (data[0] & 4)) /* else tracer_free frees what waits */
		tracer_flush(t);
	tracer_free(t);
	return 0;
}
