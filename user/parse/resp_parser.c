/*
 * RESP2/RESP3 parser; see resp_parser.h.
 *
 * One byte-level state machine: type byte, header line, bulk payload, CRLF,
 * with a stack of open aggregates and the count of elements each still
 * expects. Payload bytes are only counted (and the first few copied), so a
 * value of any size is parsed in constant memory and a split anywhere gives
 * the same result as the whole.
 */
#include "parse/resp_parser.h"

#include <string.h>
#include <strings.h>

static bool is_type(char c)
{
	return c && strchr("+-:$*_,#(!=%~|>", c) != NULL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

void resp_parser_init(struct resp_parser *p, enum resp_mode mode)
{
	memset(p, 0, sizeof(*p));
	p->mode = mode;
	p->state = RESP_ST_TYPE;
	p->rec = -1;
}

bool resp_parser_between(const struct resp_parser *p)
{
	/* Blanks before an inline command's first word do not start it. */
	if (p->state == RESP_ST_INLINE)
		return p->inl == RESP_INL_SPACE && p->words == 0;
	return p->state == RESP_ST_TYPE && p->depth == 0 && (p->fresh || !p->value.attributed);
}

static struct resp_elem *rec_elem(struct resp_parser *p)
{
	if (p->rec == 0)
		return &p->value.top;
	if (p->rec > 0)
		return &p->value.elems[p->rec - 1];
	return &p->discard;
}

static void head_put(struct resp_elem *e, char c)
{
	if (e->head_len < RESP_HEAD_MAX)
		e->head[e->head_len++] = c;
}

/* A value starts: decide what it records into, and clear that. */
static struct resp_elem *value_begin(struct resp_parser *p, uint8_t type)
{
	struct resp_elem *e;

	if (p->depth == 0)
		p->rec = 0;
	else if (p->depth == 1 && !p->stack[0].attribute && p->elem_index < RESP_KEEP_ELEMS)
		p->rec = (int8_t)(1 + p->elem_index);
	else
		p->rec = -1;
	e = rec_elem(p);
	memset(e, 0, sizeof(*e));
	e->type = type;
	return e;
}

/*
 * A value ended (was_attr: it was an attribute). Closes every aggregate it
 * completes. Returns true when a top-level value other than an attribute
 * ended: the message is complete.
 */
static bool value_done(struct resp_parser *p, bool was_attr)
{
	p->state = RESP_ST_TYPE;
	while (p->depth > 0) {
		struct resp_level *l = &p->stack[p->depth - 1];

		if (was_attr)
			return false; /* not one of the parent's elements */
		if (p->depth == 1 && !l->attribute)
			p->elem_index++;
		if (--l->left > 0)
			return false;
		was_attr = l->attribute;
		p->depth--;
	}
	if (was_attr) {
		/* A top-level attribute describes the reply that follows it. */
		memset(&p->value, 0, sizeof(p->value));
		p->value.attributed = true;
		p->elem_index = 0;
		return false;
	}
	p->fresh = true;
	return true;
}

static int start_value(struct resp_parser *p, char c)
{
	if (!is_type(c))
		return -1;
	/* Redis reads requests as arrays of bulk strings only. */
	if (p->mode == RESP_MODE_REQUEST && p->depth > 0 && c != '$')
		return -1;
	p->type = (uint8_t)c;
	p->line_len = 0;
	p->num = 0;
	p->neg = p->alpha = false;
	p->digits = 0;
	value_begin(p, (uint8_t)c);
	p->state = RESP_ST_LINE;
	return 0;
}

static uint32_t line_limit(uint8_t type)
{
	switch (type) {
	case '+': case '-': case '(':
		return RESP_MAX_LINE;
	case ',':
		return RESP_MAX_DOUBLE_LINE;
	case '#':
		return 1;
	case '_':
		return 0;
	default: /* an integer or a length, with its sign */
		return RESP_MAX_DIGITS + 1;
	}
}

/* One byte of the line after a type byte (CR excluded). Returns 0 or -1. */
static int line_byte(struct resp_parser *p, char c)
{
	if (c == '\n' || ++p->line_len > line_limit(p->type))
		return -1;
	switch (p->type) {
	case '+': case '-':
		head_put(rec_elem(p), c);
		return 0;
	case '(':
		head_put(rec_elem(p), c);
		if (p->line_len == 1 && (c == '-' || c == '+'))
			return 0;
		p->digits += is_digit(c);
		return is_digit(c) ? 0 : -1;
	case ',':
		head_put(rec_elem(p), c);
		if (p->line_len <= sizeof(p->small))
			p->small[p->line_len - 1] = c;
		if (is_digit(c))
			p->digits++;
		else if ((c >= 'a' && c <= 'z' && c != 'e') || (c >= 'A' && c <= 'Z' && c != 'E'))
			p->alpha = true;
		else if (c != '.' && c != '+' && c != '-' && c != 'e' && c != 'E')
			return -1;
		return 0;
	case '#':
		p->small[0] = c;
		return c == 't' || c == 'f' ? 0 : -1;
	default:
		if (p->line_len == 1 && (c == '-' || (c == '+' && p->type == ':'))) {
			p->neg = c == '-';
			return 0;
		}
		if (!is_digit(c) || ++p->digits > RESP_MAX_DIGITS)
			return -1;
		p->num = p->num * 10 + (uint64_t)(c - '0');
		return 0;
	}
}

static bool double_ok(const struct resp_parser *p)
{
	static const char *const words[] = { "inf", "+inf", "-inf", "nan", "-nan" };

	if (!p->alpha)
		return p->digits > 0;
	/* strncasecmp: sockspan never leaves the C locale. */
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (p->line_len == strlen(words[i]) && strncasecmp(p->small, words[i], p->line_len) == 0)
			return true;
	return false;
}

/* A length header ended: open the bulk payload or the aggregate. Returns -1, 0 or 1 (message done). */
static int header_end(struct resp_parser *p, struct resp_elem *e)
{
	bool request_top = p->mode == RESP_MODE_REQUEST && p->depth == 0;

	if (p->neg) {
		/* Only "-1", RESP2's null bulk string and null array. */
		if (p->num != 1 || p->line_len != 2)
			return -1;
		if (request_top) {
			p->state = RESP_ST_TYPE; /* Redis ignores "*-1" as a request */
			return 0;
		}
		if (p->mode == RESP_MODE_REQUEST || (p->type != '$' && p->type != '*'))
			return -1;
		e->type = RESP_NULL;
		return value_done(p, false);
	}
	if (p->type == '$' || p->type == '!' || p->type == '=') {
		if (p->num > RESP_MAX_BULK_LEN || (p->type == '=' && p->num < 4))
			return -1;
		e->len = p->num;
		p->bulk_len = p->bulk_left = p->num;
		p->state = p->num ? RESP_ST_BULK : RESP_ST_BULK_CR;
		return 0;
	}
	if (p->num > RESP_MAX_ELEMENTS)
		return -1;
	e->len = p->num;
	if (p->num == 0) {
		if (request_top) {
			p->state = RESP_ST_TYPE; /* "*0" too */
			return 0;
		}
		return value_done(p, p->type == '|');
	}
	if (p->depth == RESP_MAX_DEPTH)
		return -1;
	p->stack[p->depth].left = p->num * (p->type == '%' || p->type == '|' ? 2 : 1);
	p->stack[p->depth].attribute = p->type == '|';
	p->depth++;
	p->state = RESP_ST_TYPE;
	return 0;
}

/* The line after a type byte ended (CRLF read). Returns -1, 0 or 1 (message done). */
static int line_end(struct resp_parser *p)
{
	struct resp_elem *e = rec_elem(p);

	if (p->lines < UINT32_MAX)
		p->lines++;
	switch (p->type) {
	case '+': case '-':
		e->len = p->line_len;
		break;
	case '(':
		if (!p->digits)
			return -1;
		e->len = p->line_len;
		break;
	case ',':
		if (!double_ok(p))
			return -1;
		e->len = p->line_len;
		break;
	case '#':
		if (p->line_len != 1)
			return -1;
		e->is_bool_true = p->small[0] == 't';
		break;
	case '_':
		break;
	case ':':
		if (!p->digits || p->num > (uint64_t)INT64_MAX + p->neg)
			return -1;
		e->integer = p->neg ? -(int64_t)(p->num - 1) - 1 : (int64_t)p->num;
		break;
	default:
		if (!p->digits)
			return -1;
		return header_end(p, e);
	}
	return value_done(p, false);
}

static bool inline_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void inline_word_begin(struct resp_parser *p)
{
	p->rec = p->words < RESP_KEEP_ELEMS ? (int8_t)(1 + p->words) : -1;
	memset(rec_elem(p), 0, sizeof(struct resp_elem));
	rec_elem(p)->type = RESP_BULK;
}

static void inline_put(struct resp_parser *p, char c)
{
	struct resp_elem *e = rec_elem(p);

	e->len++;
	head_put(e, c);
}

/* One byte of an inline command. Returns -1, 0 or 1 (command done). */
static int inline_byte(struct resp_parser *p, char c)
{
	if (c == '\n') {
		if (p->inl == RESP_INL_DQUOTE || p->inl == RESP_INL_SQUOTE)
			return -1; /* Redis: "unbalanced quotes in request" */
		if (p->inl != RESP_INL_SPACE)
			p->words++;
		p->state = RESP_ST_TYPE;
		if (p->words == 0)
			return 0; /* an empty line: Redis ignores it */
		p->value.top.type = RESP_INLINE;
		p->value.top.len = p->words;
		p->fresh = true;
		return 1;
	}
	if (++p->line_len > RESP_MAX_LINE)
		return -1;
	switch (p->inl) {
	case RESP_INL_SPACE:
		if (inline_space(c))
			return 0;
		inline_word_begin(p);
		p->inl = RESP_INL_WORD;
		/* fall through */
	case RESP_INL_WORD:
		if (inline_space(c)) {
			p->words++;
			p->inl = RESP_INL_SPACE;
		} else if (c == '"' || c == '\'') {
			p->inl = c == '"' ? RESP_INL_DQUOTE : RESP_INL_SQUOTE;
		} else {
			inline_put(p, c);
		}
		return 0;
	case RESP_INL_DQUOTE:
	case RESP_INL_SQUOTE:
		if (p->escape) {
			p->escape = false;
			inline_put(p, c);
		} else if (c == '\\') {
			p->escape = true;
		} else if (c == (p->inl == RESP_INL_DQUOTE ? '"' : '\'')) {
			p->inl = RESP_INL_CLOSED;
		} else {
			inline_put(p, c);
		}
		return 0;
	case RESP_INL_CLOSED:
		if (!inline_space(c))
			return -1; /* Redis: a closing quote must be followed by a space */
		p->words++;
		p->inl = RESP_INL_SPACE;
		return 0;
	}
	return -1;
}

ssize_t resp_parse(struct resp_parser *p, const char *buf, size_t len)
{
	size_t i = 0;
	int r;

	if (p->state == RESP_ST_ERROR)
		return RESP_ERROR;
	if (p->fresh) {
		memset(&p->value, 0, sizeof(p->value));
		p->fresh = false;
		p->elem_index = 0;
	}
	while (i < len) {
		char c = buf[i];

		switch (p->state) {
		case RESP_ST_TYPE:
			if (p->mode == RESP_MODE_REQUEST && p->depth == 0 && c != '*') {
				/* Anything else is an inline command; this byte is its first. */
				memset(&p->value, 0, sizeof(p->value));
				p->state = RESP_ST_INLINE;
				p->inl = RESP_INL_SPACE;
				p->escape = false;
				p->line_len = 0;
				p->words = 0;
				break;
			}
			if (start_value(p, c) < 0)
				goto error;
			i++;
			break;
		case RESP_ST_LINE:
			i++;
			if (c == '\r')
				p->state = RESP_ST_LINE_LF;
			else if (line_byte(p, c) < 0)
				goto error;
			break;
		case RESP_ST_LINE_LF:
			i++;
			if (c != '\n')
				goto error;
			r = line_end(p);
			if (r < 0)
				goto error;
			if (r > 0)
				return (ssize_t)i;
			break;
		case RESP_ST_BULK: {
			uint64_t off = p->bulk_len - p->bulk_left;
			size_t n = len - i < p->bulk_left ? len - i : (size_t)p->bulk_left;
			struct resp_elem *e = rec_elem(p);

			/* A verbatim string starts with its 3-byte format and ':'. */
			if (p->type == '=' && off <= 3 && off + n > 3 && buf[i + 3 - off] != ':')
				goto error;
			if (e->head_len == off && off < RESP_HEAD_MAX) {
				size_t k = RESP_HEAD_MAX - off < n ? RESP_HEAD_MAX - off : n;

				memcpy(e->head + off, buf + i, k);
				e->head_len = (uint8_t)(off + k);
			}
			i += n;
			p->bulk_left -= n;
			if (!p->bulk_left)
				p->state = RESP_ST_BULK_CR;
			break;
		}
		case RESP_ST_BULK_CR:
			i++;
			if (c != '\r')
				goto error;
			p->state = RESP_ST_BULK_LF;
			break;
		case RESP_ST_BULK_LF:
			i++;
			if (c != '\n')
				goto error;
			if (value_done(p, false))
				return (ssize_t)i;
			break;
		case RESP_ST_INLINE:
			i++;
			r = inline_byte(p, c);
			if (r < 0)
				goto error;
			if (r > 0)
				return (ssize_t)i;
			break;
		case RESP_ST_ERROR:
			return RESP_ERROR;
		}
	}
	return RESP_NEED_MORE;
error:
	p->state = RESP_ST_ERROR;
	return RESP_ERROR;
}

int resp_skip(struct resp_parser *p, uint64_t n)
{
	uint64_t rest; /* bytes to the end of the bulk string, its CRLF included */

	if (n == 0)
		return 0;
	if (p->state == RESP_ST_BULK)
		rest = p->bulk_left + 2;
	else if (p->state == RESP_ST_BULK_CR)
		rest = 2;
	else if (p->state == RESP_ST_BULK_LF)
		rest = 1;
	else
		return RESP_ERROR;
	if (n > rest)
		return RESP_ERROR;
	if (n == rest)
		return value_done(p, false) ? 1 : 0;
	/* A head being recorded stops short: bytes after the gap do not follow it. */
	if (rest - n == 1) {
		p->bulk_left = 0;
		p->state = RESP_ST_BULK_LF;
	} else {
		p->bulk_left -= n;
		if (!p->bulk_left)
			p->state = RESP_ST_BULK_CR;
	}
	return 0;
}

/* ---- detection ---- */

/* Reads "<digits>\r\n" at buf[*i]: 1 and the value, 0 if it is not that, RESP_NEED_MORE if cut short. */
static int read_count(const char *buf, size_t len, size_t *i, uint64_t *out)
{
	size_t start = *i, j = *i;
	uint64_t v = 0;

	while (j < len && is_digit(buf[j]) && j - start < RESP_MAX_DIGITS)
		v = v * 10 + (uint64_t)(buf[j++] - '0');
	if (j == len)
		return RESP_NEED_MORE;
	if (j == start || buf[j] != '\r')
		return 0;
	if (++j == len)
		return RESP_NEED_MORE;
	if (buf[j] != '\n')
		return 0;
	*i = j + 1;
	*out = v;
	return 1;
}

/*
 * "*N\r\n$M\r\n<command>\r\n" and more bulk strings, up to the end of the
 * array: a pub/sub confirmation (["subscribe", "news", 1]) starts the same
 * way, only its last element tells. Returns RESP_LOOKS_REQUEST,
 * RESP_NEED_MORE, or 0 (not a request). len <= RESP_DETECT_MAX.
 */
static int looks_request(const char *buf, size_t len)
{
	struct resp_parser p;
	size_t i = 1;
	uint64_t n, m;
	ssize_t r = read_count(buf, len, &i, &n);

	if (r != 1)
		return (int)r;
	if (n == 0 || i == len)
		return n ? RESP_NEED_MORE : 0;
	if (buf[i++] != '$')
		return 0;
	r = read_count(buf, len, &i, &m);
	if (r != 1)
		return (int)r;
	if (m == 0 || m > RESP_HEAD_MAX)
		return 0;
	if (len - i < m)
		return RESP_NEED_MORE;
	if (!(resp_command_flags(buf + i, (size_t)m) & RESP_CMD_KNOWN))
		return 0;
	resp_parser_init(&p, RESP_MODE_REQUEST);
	r = resp_parse(&p, buf, len);
	if (r == RESP_ERROR)
		return 0;
	/* A command too long to see whole is taken once this much of it is valid. */
	return r > 0 || len == RESP_DETECT_MAX ? RESP_LOOKS_REQUEST : RESP_NEED_MORE;
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* An inline command: "WORD args...\r\n", WORD a Redis command in capitals. */
static int looks_inline(const char *buf, size_t len)
{
	size_t i = 0, eol;

	while (i < len && buf[i] >= 'A' && buf[i] <= 'Z' && i <= RESP_HEAD_MAX)
		i++;
	if (i > RESP_HEAD_MAX)
		return 0;
	if (i == len)
		return RESP_NEED_MORE;
	if (buf[i] != ' ' && buf[i] != '\r' && buf[i] != '\n')
		return 0;
	if (!(resp_command_flags(buf, i) & RESP_CMD_KNOWN))
		return 0;
	for (eol = i; eol < len && buf[eol] != '\n'; eol++) {
		/* Printable text; a CR only right before the LF. */
		if (buf[eol] == '\r' && eol + 1 < len && buf[eol + 1] != '\n')
			return 0;
		if (!printable(buf + eol, 1) && buf[eol] != '\t' && buf[eol] != '\r')
			return 0;
	}
	if (eol == len)
		return len < RESP_DETECT_MAX ? RESP_NEED_MORE : 0;
	if (eol > 0 && buf[eol - 1] == '\r')
		eol--;
	/* "GET /index.html HTTP/1.1", or HTTP/0.9's "GET /": HTTP, not Redis. */
	if (eol >= 9 && memcmp(buf + eol - 9, " HTTP/1.", 8) == 0)
		return 0;
	while (i < eol && buf[i] == ' ')
		i++;
	if (i < eol && buf[i] == '/')
		return 0;
	return RESP_LOOKS_REQUEST;
}

int resp_looks_like(const char *buf, size_t len)
{
	struct resp_parser p;
	ssize_t n;

	if (len == 0)
		return RESP_NEED_MORE;
	if (len > RESP_DETECT_MAX)
		len = RESP_DETECT_MAX;
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		return looks_inline(buf, len);
	if (buf[0] == '*') {
		int r = looks_request(buf, len);

		if (r != 0)
			return r;
	}
	if (!is_type(buf[0]))
		return 0;
	/* Status lines are text; error codes are capitals ("ERR", "WRONGTYPE"). */
	if (buf[0] == '+' || buf[0] == '-') {
		const char *cr = memchr(buf, '\r', len);

		if (!printable(buf + 1, (size_t)((cr ? cr : buf + len) - buf) - 1))
			return 0;
		if (buf[0] == '-' && len > 1 && (buf[1] < 'A' || buf[1] > 'Z'))
			return 0;
	}
	resp_parser_init(&p, RESP_MODE_REPLY);
	n = resp_parse(&p, buf, len);
	if (n == RESP_ERROR)
		return 0;
	if (n > 0)
		return RESP_LOOKS_REPLY;
	if (p.lines >= 2 || (len == RESP_DETECT_MAX && p.state == RESP_ST_BULK))
		return RESP_LOOKS_REPLY;
	return len == RESP_DETECT_MAX ? 0 : RESP_NEED_MORE;
}
