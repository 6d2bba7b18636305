#include <string.h>

#include "span/span_exchange.h"

/* db.statement: the command in capitals, each argument a '?'. */
static size_t statement(const struct exchange_redis *r, char *buf, size_t cap)
{
	static const char more[] = " ...";
	size_t n = 0;

	for (size_t i = 0; r->words && i < r->name_len && n + 1 < cap; i++) {
		char c = r->name[i];

		buf[n++] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
	}
	for (uint64_t i = r->words; i < r->argc; i++) {
		if (n + 2 + sizeof(more) > cap) {
			memcpy(buf + n, more, sizeof(more) - 1);
			n += sizeof(more) - 1;
			break;
		}
		if (n)
			buf[n++] = ' ';
		buf[n++] = '?';
	}
	buf[n] = '\0';
	return n;
}

/* Named after the command; argument values never reach a tag. */
void span_set_redis(struct span *s, const struct exchange_redis *x, const struct span_opts *o)
{
	span_copy_utf8(s->name, sizeof(s->name), x->name, x->name_len);
	span_add_tag(s, "db.system", "redis", 5);
	span_add_tag(s, "db.operation", x->name, x->name_len);
	if (o && o->redis_statement) {
		char stmt[SPAN_TAG_VALUE_MAX];

		span_add_tag(s, "db.statement", stmt, statement(x, stmt, sizeof(stmt)));
	}
	if (x->error)
		span_add_tag(s, "error", x->error, x->error_len);
}
