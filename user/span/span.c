// SPDX-License-Identifier: MIT
/* span.c - span ids, tags and the UTF-8 copy shared by the exporters. */
#include "span/span.h"

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "parse/word8.h"
#include "trace/random.h"

void span_clear(struct span *s)
{
	memset(s, 0, offsetof(struct span, tags));
}

void span_init(struct span *s)
{
	uint64_t id;

	span_clear(s);
	random_trace_id(s->trace_id);
	s->trace_id_len = 16;
	do
		id = random64();
	while (id == 0);
	memcpy(s->id, &id, 8);
}

/*
 * Length of the well-formed UTF-8 sequence at p (n bytes available), or 0
 * if p does not start one.  NUL counts as invalid: it would end the C string.
 * Ranges are RFC 3629 table 3-7, which excludes overlongs and surrogates.
 */
static size_t utf8_seq_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t need;

	if (c >= 0x01 && c <= 0x7f)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < need + 1 || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k <= need; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	return need + 1;
}

/* Does a NUL or a byte >= 0x80 end an ASCII run in these 8 bytes? */
static bool ascii_word_ends(uint64_t x)
{
	return word8_below(x, 1) | (x & WORD8_HIGH);
}

size_t span_copy_utf8(char *dst, size_t cap, const char *src, size_t len)
{
	const unsigned char *in = (const unsigned char *)src;
	size_t i = 0, o = 0;

	if (cap == 0)
		return 0;
	while (i < len) {
		size_t run = i, n;

		/* The common case, a run of ASCII without NUL, copied at once;
		 * found 8 bytes at a time. */
		while (len - run >= 8 && !ascii_word_ends(word8_load(src + run)))
			run += 8;
		while (run < len && in[run] >= 0x01 && in[run] <= 0x7f)
			run++;
		if (run > i) {
			n = run - i < cap - 1 - o ? run - i : cap - 1 - o;
			memcpy(dst + o, in + i, n);
			o += n;
			i += n;
			if (i < run)
				break;
			continue;
		}
		n = utf8_seq_len(in + i, len - i);

		if (n == 0) {
			if (o + 1 > cap - 1)
				break;
			dst[o++] = '?';
			i++;
			continue;
		}
		if (o + n > cap - 1)
			break;
		memcpy(dst + o, in + i, n);
		o += n;
		i += n;
	}
	dst[o] = '\0';
	return o;
}

size_t span_copy_safe(char *dst, size_t cap, const char *src, size_t len)
{
	size_t n = span_copy_utf8(dst, cap, src, len), o = 0;
	uint32_t cp;

	for (size_t i = 0; i < n;) {
		size_t k = span_unsafe_char(dst + i, n - i, &cp);

		dst[o++] = k ? '?' : dst[i];
		i += k ? k : 1;
	}
	if (cap)
		dst[o] = '\0';
	return o;
}

size_t span_unsafe_char(const char *p, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)p;

	if (n == 0)
		return 0;
	if (u[0] < 0x20 || u[0] == 0x7f) {
		*cp = u[0];
		return 1;
	}
	if (n >= 2 && ((u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) || (u[0] == 0xd8 && u[1] == 0x9c))) {
		*cp = (uint32_t)(u[0] & 0x1f) << 6 | (u[1] & 0x3f);
		return 2;
	}
	if (n >= 3 && u[0] == 0xe2 &&
	    ((u[1] == 0x80 && (u[2] == 0x8e || u[2] == 0x8f || (u[2] >= 0xa8 && u[2] <= 0xae))) ||
	     (u[1] == 0x81 && u[2] >= 0xa6 && u[2] <= 0xa9))) {
		*cp = 0x2000u | (uint32_t)(u[1] & 0x3f) << 6 | (u[2] & 0x3f);
		return 3;
	}
	return 0;
}

int span_add_tag(struct span *s, const char *key, const char *value, size_t len)
{
	struct span_tag *t;

	if (!key || s->num_tags >= SPAN_MAX_TAGS)
		return -1;
	t = &s->tags[s->num_tags++];
	t->key = key;
	span_copy_utf8(t->value, sizeof(t->value), value, len);
	return 0;
}

const char *span_tag(const struct span *s, const char *key)
{
	unsigned n = s->num_tags < SPAN_MAX_TAGS ? s->num_tags : SPAN_MAX_TAGS;

	for (unsigned i = 0; i < n; i++)
		if (s->tags[i].key && strcmp(s->tags[i].key, key) == 0)
			return s->tags[i].value;
	return NULL;
}

const char *span_kind_str(enum span_kind k)
{
	switch (k) {
	case SPAN_KIND_CLIENT:
		return "CLIENT";
	case SPAN_KIND_SERVER:
		return "SERVER";
	}
	return "";
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

int span_endpoint_ip(const struct span_endpoint *e, const uint8_t **addr)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (e->family == AF_INET || (e->family == AF_INET6 && memcmp(e->addr, v4mapped, sizeof(v4mapped)) == 0)) {
		*addr = e->family == AF_INET ? e->addr : e->addr + sizeof(v4mapped);
		return all_zero(*addr, 4) ? 0 : AF_INET;
	}
	if (e->family != AF_INET6 || all_zero(e->addr, 16))
		return 0;
	*addr = e->addr;
	return AF_INET6;
}

size_t span_fmt_uint(char out[20], uint64_t v)
{
	/* Two digits per division: a timestamp has 16. */
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
				   "25262728293031323334353637383940414243444546474849"
				   "50515253545556575859606162636465666768697071727374"
				   "75767778798081828384858687888990919293949596979899";
	char tmp[20], *p = tmp + sizeof(tmp);
	size_t n;

	while (v >= 100) {
		p -= 2;
		memcpy(p, pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	n = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(out, p, n);
	return n;
}
