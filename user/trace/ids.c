#include "trace/ids.h"

#include <endian.h>
#include <string.h>

/* sockspan's key: fixed forever (see ids.h). */
static const uint8_t key_hop[16] = "sockspan-hop-v1";
static const uint8_t key_rid_hi[16] = "sockspan-rid-hi";
static const uint8_t key_rid_lo[16] = "sockspan-rid-lo";

/* Everything hashed for one id: the largest inputs are an x-request-id
 * (TC_REQUEST_ID_MAX) and a method and target (under 600 bytes). */
#define IDS_INPUT_MAX 1024

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
	v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

/* The first n (< 8) bytes at p, little-endian: SipHash's last block. */
static uint64_t le64_tail(const uint8_t *p, size_t n)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n; i++)
		x |= (uint64_t)p[i] << (8 * i);
	return x;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return le64toh(x);
}

uint64_t ids_siphash(const uint8_t key[16], const void *in, size_t len)
{
	const uint8_t *p = in;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v[4] = { 0x736f6d6570736575ull ^ k0, 0x646f72616e646f6dull ^ k1,
			  0x6c7967656e657261ull ^ k0, 0x7465646279746573ull ^ k1 };
	uint64_t m, b = (uint64_t)len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(p + i);
		v[3] ^= m;
		sipround(v);
		sipround(v);
		v[0] ^= m;
	}
	b |= le64_tail(p + i, len - i);
	v[3] ^= b;
	sipround(v);
	sipround(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

struct input {
	uint8_t b[IDS_INPUT_MAX];
	size_t n;
};

/* Appends a length-prefixed field, so that no two inputs run together. */
static void put(struct input *in, const void *p, size_t len)
{
	uint16_t n = (uint16_t)(len < IDS_INPUT_MAX ? len : IDS_INPUT_MAX);

	if (in->n + sizeof(n) + n > sizeof(in->b))
		n = (uint16_t)(sizeof(in->b) - in->n - sizeof(n));
	memcpy(in->b + in->n, &n, sizeof(n));
	memcpy(in->b + in->n + sizeof(n), p, n);
	in->n += sizeof(n) + n;
}

uint64_t ids_hop(uint32_t seq, const struct trace_context *ctx, const struct tc_slice ident[EXCHANGE_IDENT_PARTS])
{
	struct input in; /* not zeroed: only its first n bytes are read */
	uint8_t s[4] = { (uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8), (uint8_t)seq };
	uint64_t h;

	in.n = 0;
	put(&in, s, sizeof(s));
	if (ctx && ctx->trace_id_len) {
		put(&in, ctx->trace_id, ctx->trace_id_len);
		put(&in, ctx->span_id, sizeof(ctx->span_id));
	} else if (ctx && ctx->request_id.len) {
		put(&in, ctx->request_id.p, ctx->request_id.len);
	} else {
		put(&in, "", 0);
	}
	for (int i = 0; i < EXCHANGE_IDENT_PARTS; i++)
		put(&in, ident[i].p ? ident[i].p : "", ident[i].p ? ident[i].len : 0);
	h = ids_siphash(key_hop, in.b, in.n);
	return h ? h : 1;
}

void ids_trace_from_request_id(const char *rid, size_t len, uint8_t out[16])
{
	uint64_t hi = ids_siphash(key_rid_hi, rid, len), lo = ids_siphash(key_rid_lo, rid, len);

	if (!hi && !lo)
		lo = 1;
	ids_put64(out, hi);
	ids_put64(out + 8, lo);
}

void ids_put64(uint8_t out[8], uint64_t id)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(id >> (56 - 8 * i));
}

uint64_t ids_get64(const uint8_t in[8])
{
	uint64_t x = 0;

	for (int i = 0; i < 8; i++)
		x = x << 8 | in[i];
	return x;
}
