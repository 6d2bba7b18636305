/* The words of Redis values: a command's name for its span, keywords matched
 * in any case, the pub/sub commands; see redis_words.h. */
#include "session/redis_words.h"

#include <string.h>

#define WORD(s) { s, sizeof(s) - 1 }
static const struct {
	const char *s;
	size_t n;
} sub_names[] = {
	[SUB_SUBSCRIBE] = WORD("subscribe"), [SUB_PSUBSCRIBE] = WORD("psubscribe"),
	[SUB_SSUBSCRIBE] = WORD("ssubscribe"), [SUB_UNSUBSCRIBE] = WORD("unsubscribe"),
	[SUB_PUNSUBSCRIBE] = WORD("punsubscribe"), [SUB_SUNSUBSCRIBE] = WORD("sunsubscribe"),
};

/* A command or subcommand word: what a span name may show. */
static bool command_word(const struct resp_elem *e)
{
	if (e->type != RESP_BULK || e->len == 0 || e->len != e->head_len)
		return false;
	for (size_t i = 0; i < e->len; i++) {
		char c = e->head[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == ':'))
			return false;
	}
	return true;
}

static size_t append_lower(char *dst, size_t n, const struct resp_elem *e)
{
	for (size_t i = 0; i < e->len; i++) {
		char c = e->head[i];

		dst[n++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	dst[n] = '\0';
	return n;
}

bool redis_elem_is_n(const struct resp_elem *e, const char *word, size_t n)
{
	if ((e->type != RESP_BULK && e->type != RESP_SIMPLE) || e->len != n || e->head_len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = e->head[i];

		if ((c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c) != word[i])
			return false;
	}
	return true;
}

int redis_name_command(const struct resp_value *v, char name[REDIS_NAME_MAX])
{
	const struct resp_elem *cmd = &v->elems[0], *sub = &v->elems[1];
	size_t n;

	if (!command_word(cmd)) {
		strcpy(name, "unknown");
		return 0;
	}
	n = append_lower(name, 0, cmd);
	if (v->top.len >= 2 && (resp_command_flags(cmd->head, cmd->len) & RESP_CMD_CONTAINER) &&
	    command_word(sub)) {
		name[n++] = ' ';
		append_lower(name, n, sub);
		return 2;
	}
	return 1;
}

enum redis_sub redis_sub_of(const struct resp_elem *e)
{
	for (size_t i = SUB_SUBSCRIBE; i < sizeof(sub_names) / sizeof(sub_names[0]); i++)
		if (redis_elem_is_n(e, sub_names[i].s, sub_names[i].n))
			return (enum redis_sub)i;
	return SUB_NONE;
}
