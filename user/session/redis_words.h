/* redis_words.h - the words of Redis commands and replies, for
 * redis_session.c: span names and the keywords that steer the session. */
#ifndef SOCKSPAN_REDIS_WORDS_H
#define SOCKSPAN_REDIS_WORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "parse/resp_parser.h"

/* A span name: a command and its subcommand, each at most RESP_HEAD_MAX bytes. */
#define REDIS_NAME_MAX (2 * RESP_HEAD_MAX + 2)

/* Pub/sub commands, whose answers are confirmations named like them. */
enum redis_sub {
	SUB_NONE,
	SUB_SUBSCRIBE,
	SUB_PSUBSCRIBE,
	SUB_SSUBSCRIBE,
	SUB_UNSUBSCRIBE,
	SUB_PUNSUBSCRIBE,
	SUB_SUNSUBSCRIBE,
};

/* Is e the simple or bulk string word (lowercase, n bytes), in any case? */
bool redis_elem_is_n(const struct resp_elem *e, const char *word, size_t n);
/* The same for a string literal, its length known without strlen: a command
 * is tested against a dozen words. */
#define redis_elem_is(e, word) redis_elem_is_n((e), "" word "", sizeof(word) - 1)
/* The span name of command v in name: the command in lowercase, with its
 * subcommand for containers (CLIENT SETNAME), or "unknown" for a first word
 * that is no command word (it could be anything: a secret). Returns the
 * words it took (0 for "unknown"). */
int redis_name_command(const struct resp_value *v, char name[REDIS_NAME_MAX]);
/* The pub/sub command e names, or SUB_NONE. */
enum redis_sub redis_sub_of(const struct resp_elem *e);

#endif
