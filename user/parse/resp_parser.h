/*
 * RESP2 and RESP3 (the Redis protocol) parser.
 *
 * A resumable state machine in a struct the caller owns: bytes are fed in
 * pieces of any size, each piece is absorbed whole unless a value ends inside
 * it, and nothing is allocated or buffered. Bulk payloads are skipped, not
 * kept: what a session needs (the type of a value, its length, the first
 * bytes of it and of its first elements: a command name, an error code, the
 * kind of a pub/sub message) is recorded as it goes by, so a 100 MB SET costs
 * no memory. Errors are sticky until resp_parser_init.
 *
 * Requests are arrays of bulk strings, or inline commands (a line of words);
 * replies are any RESP2 or RESP3 value. RESP3 streamed strings and aggregates
 * ("$?", "*?") are an error: Redis never sends them.
 */
#ifndef SOCKSPAN_RESP_PARSER_H
#define SOCKSPAN_RESP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Nesting of aggregates: Redis replies nest a few levels (EXEC of XREADs is 5); more is hostile. */
#define RESP_MAX_DEPTH 32
/* Longest bulk string: Redis's own default limit (proto-max-bulk-len, 512 MB). */
#define RESP_MAX_BULK_LEN (512ull * 1024 * 1024)
/* Most elements in one aggregate: Redis refuses multibulk lengths above INT_MAX. */
#define RESP_MAX_ELEMENTS 2147483647ull
/* Longest simple string, error, big number or inline command line: Redis's PROTO_INLINE_MAX_SIZE. */
#define RESP_MAX_LINE (64 * 1024)
/* Digits of a length or an integer: 19 always fit an int64_t, 20 may not. */
#define RESP_MAX_DIGITS 19
/* Longest double line: "%.17g" of any double is 24 bytes; room for other writers' formats. */
#define RESP_MAX_DOUBLE_LINE 64
/* Bytes kept of a value's start (command names are at most 20, error codes about 12). */
#define RESP_HEAD_MAX 32
/* Elements of a top-level aggregate recorded: command, subcommand and first argument;
 * a pub/sub message's kind, channel and count. */
#define RESP_KEEP_ELEMS 3
/* Bytes resp_looks_like examines before it decides: real first messages tell much sooner. */
#define RESP_DETECT_MAX 4096

enum { RESP_ERROR = -1, RESP_NEED_MORE = -2 };

/* What a byte stream carries. */
enum resp_mode {
	RESP_MODE_REQUEST, /* arrays of bulk strings, or inline commands */
	RESP_MODE_REPLY,   /* any value */
};

/* Value types: the RESP type byte, plus inline commands. */
enum resp_type {
	RESP_SIMPLE = '+',
	RESP_ERROR_LINE = '-',
	RESP_INTEGER = ':',
	RESP_BULK = '$',
	RESP_ARRAY = '*',
	RESP_NULL = '_',       /* also RESP2's "$-1" and "*-1" */
	RESP_DOUBLE = ',',
	RESP_BOOLEAN = '#',
	RESP_BIGNUM = '(',
	RESP_BLOB_ERROR = '!',
	RESP_VERBATIM = '=',
	RESP_MAP = '%',
	RESP_SET = '~',
	RESP_ATTRIBUTE = '|',
	RESP_PUSH = '>',
	RESP_INLINE = 'i',     /* a request line of words */
};

/* What was recorded of one value. */
struct resp_elem {
	uint8_t type;             /* enum resp_type */
	uint8_t head_len;         /* bytes in head: min(len, RESP_HEAD_MAX) for strings (fewer: a gap cut it) */
	bool is_bool_true;        /* RESP_BOOLEAN */
	uint64_t len;             /* strings: length in bytes; aggregates: elements (pairs for maps);
	                           * inline: words */
	int64_t integer;          /* RESP_INTEGER */
	char head[RESP_HEAD_MAX]; /* first bytes of a string (bulk payload, line text, inline word) */
};

/* The last complete top-level value. */
struct resp_value {
	struct resp_elem top;
	/* The first min(top.len, RESP_KEEP_ELEMS) elements of a top-level
	 * aggregate (not those of nested ones), or the first words of an inline
	 * command (unquoted). */
	struct resp_elem elems[RESP_KEEP_ELEMS];
	bool attributed;          /* a RESP3 attribute preceded it (and was skipped) */
};

enum resp_state {
	RESP_ST_TYPE,     /* expecting a type byte: a value starts */
	RESP_ST_LINE,     /* inside the line after a type byte */
	RESP_ST_LINE_LF,  /* CR seen at the end of that line */
	RESP_ST_BULK,     /* inside a bulk payload */
	RESP_ST_BULK_CR,  /* payload done, expecting CR */
	RESP_ST_BULK_LF,  /* expecting LF */
	RESP_ST_INLINE,   /* inside an inline command line */
	RESP_ST_ERROR,    /* malformed: sticky until resp_parser_init */
};

/* One open aggregate. */
struct resp_level {
	uint64_t left;    /* elements still to come */
	bool attribute;   /* a RESP3 attribute: not an element of its parent */
};

/* Inline command word splitting, as Redis does it (sdssplitargs). */
enum resp_inline_state {
	RESP_INL_SPACE,   /* between words */
	RESP_INL_WORD,    /* in an unquoted part of a word */
	RESP_INL_DQUOTE,  /* inside "...", escape says a backslash came just before */
	RESP_INL_SQUOTE,  /* inside '...' */
	RESP_INL_CLOSED,  /* just after a closing quote: a space or the line end must follow */
};

struct resp_parser {
	enum resp_mode mode;
	enum resp_state state;
	uint8_t type;               /* type byte of the value being read */
	uint8_t depth;              /* open aggregates */
	bool fresh;                 /* value describes a finished message: clear it at the next byte */
	int8_t rec;                 /* what the current value records into: -1 none, 0 top, 1.. elems */
	/* the current line */
	uint32_t line_len;
	bool neg;                   /* a leading '-' */
	uint32_t digits;            /* digits seen */
	bool alpha;                 /* a double line has letters besides e/E (inf, nan) */
	bool escape;                /* inline: a backslash inside quotes came just before */
	uint64_t num;               /* digits so far */
	char small[8];              /* first bytes of a double or boolean line */
	/* the current bulk payload */
	uint64_t bulk_len, bulk_left;
	/* inline */
	enum resp_inline_state inl;
	uint64_t words;
	/* a complete header or line was read: how sure resp_looks_like can be */
	uint32_t lines;
	uint64_t elem_index;        /* children of the top-level aggregate done so far */
	struct resp_level stack[RESP_MAX_DEPTH];
	struct resp_value value;
	struct resp_elem discard;   /* where values nobody records write */
};

/* Starts (or restarts, clearing a sticky error) a parser for a stream in this mode. */
void resp_parser_init(struct resp_parser *p, enum resp_mode mode);

/*
 * Feeds buf[0..len). Returns n > 0 when a top-level value (a request, or a
 * reply with any attribute before it) ended at buf[n - 1]: p->value describes
 * it until the next call, and the bytes after n are the next value's.
 * Returns RESP_NEED_MORE when every byte was absorbed and no value ended yet
 * (the caller drops them: the parser keeps all it needs), and RESP_ERROR
 * when the bytes break the grammar or a limit above, then again on every
 * call until resp_parser_init. Empty inline lines and "*0"/"*-1" requests
 * are absorbed silently (Redis ignores them). Never reads past buf[len - 1].
 */
ssize_t resp_parse(struct resp_parser *p, const char *buf, size_t len);

/*
 * n bytes went by without being seen. If they lie inside a bulk string of
 * known length (its payload, then its CRLF; n == 0 always fits), advances
 * past them and returns 1 if that ended a top-level value (p->value
 * describes it, as after resp_parse), else 0; a head being recorded stays
 * shorter than min(len, RESP_HEAD_MAX), which is how a reader knows it was
 * cut. Returns RESP_ERROR otherwise, leaving the parser unchanged: the
 * caller has lost its place.
 */
int resp_skip(struct resp_parser *p, uint64_t n);

/* True between values: the next byte fed may start a new top-level value
 * (blanks and empty lines between inline commands count as between). */
bool resp_parser_between(const struct resp_parser *p);

/*
 * Protocol detection, and the direction of a stream whose role is unknown.
 * Looks at the first bytes of a stream (at most RESP_DETECT_MAX). Returns
 * RESP_LOOKS_REQUEST for an array of bulk strings whose first names a Redis
 * command, once it is complete (or still valid at RESP_DETECT_MAX bytes), or
 * an inline line whose first word is a Redis command in capitals (not an
 * HTTP request line); RESP_LOOKS_REPLY for a
 * reply: a complete value, or a prefix with two complete headers, or a bulk
 * payload still open at RESP_DETECT_MAX bytes, with simple strings in
 * printable ASCII and errors starting with a capital; RESP_NEED_MORE when
 * the bytes are a valid prefix too short to tell; 0 otherwise (random bytes,
 * TLS, HTTP, HTTP/2).
 */
enum { RESP_LOOKS_REQUEST = 1, RESP_LOOKS_REPLY = 2 };
int resp_looks_like(const char *buf, size_t len);

/* Flags of a command name (any case), from Redis 7.0's command table. */
enum {
	RESP_CMD_KNOWN = 1,     /* a Redis command */
	RESP_CMD_CONTAINER = 2, /* its second word names a subcommand (CLIENT SETNAME, CONFIG GET) */
};
unsigned resp_command_flags(const char *name, size_t len);

#endif /* SOCKSPAN_RESP_PARSER_H */
