/*
 * HTTP/1.x head parser; see http1_parser.h (body framing: http1_body.c).
 *
 * The head parsers walk the buffer once with a cursor. Each step either
 * advances, reports H1_NEED_MORE (the bytes so far are a valid prefix) or
 * H1_ERROR (they never can be), so a split anywhere in a valid head yields
 * H1_NEED_MORE and never a different result.
 */
#include "parse/http1_parser.h"
#include "parse/http1_text.h"
#include "parse/word8.h"

#include <string.h>

/* RFC 9110 tchar: the bytes of a method or a field name. */
static const unsigned char tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
	['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
	['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
	['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
	['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
	['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

static int is_tchar(char c)
{
	return tchar[(unsigned char)c];
}

/* Visible ASCII or obs-text: the bytes of a request target. */
static int is_target_char(char c)
{
	unsigned char u = (unsigned char)c;

	return u > 0x20 && u != 0x7f;
}

/* field-vchar, SP, HTAB: the bytes of a field value or reason phrase. */
static int is_text_char(char c)
{
	unsigned char u = (unsigned char)c;

	return u == '\t' || (u >= 0x20 && u != 0x7f);
}

/*
 * Consume a line ending at *pp: CRLF or a bare LF. Returns 1 and advances,
 * 0 if *pp is not at a line ending, H1_NEED_MORE, or H1_ERROR for a CR not
 * followed by LF.
 */
static int eat_eol(const char **pp, const char *end)
{
	const char *p = *pp;

	if (p == end)
		return H1_NEED_MORE;
	if (*p == '\n') {
		*pp = p + 1;
		return 1;
	}
	if (*p != '\r')
		return 0;
	if (++p == end)
		return H1_NEED_MORE;
	if (*p != '\n')
		return H1_ERROR;
	*pp = p + 1;
	return 1;
}

/* Match the literal lit at *pp: 0 and advance, H1_NEED_MORE on a matching prefix, or H1_ERROR. */
static int eat_literal(const char **pp, const char *end, const char *lit)
{
	const char *p = *pp;

	for (; *lit; lit++, p++) {
		if (p == end)
			return H1_NEED_MORE;
		if (*p != *lit)
			return H1_ERROR;
	}
	*pp = p;
	return 0;
}

/* "HTTP/1." DIGIT with the digit 0 or 1; 0 and sets *minor, or H1_NEED_MORE / H1_ERROR. */
static int parse_version(const char **pp, const char *end, int *minor)
{
	int r = eat_literal(pp, end, "HTTP/1.");

	if (r != 0)
		return r;
	if (*pp == end)
		return H1_NEED_MORE;
	if (**pp != '0' && **pp != '1')
		return H1_ERROR;
	*minor = **pp - '0';
	(*pp)++;
	return 0;
}

/* One or more SP; 0 and advance, H1_NEED_MORE, or H1_ERROR if none. */
static int eat_spaces(const char **pp, const char *end)
{
	const char *p = *pp;

	if (p == end)
		return H1_NEED_MORE;
	if (*p != ' ')
		return H1_ERROR;
	while (p != end && *p == ' ')
		p++;
	if (p == end)
		return H1_NEED_MORE;
	*pp = p;
	return 0;
}

/*
 * Header fields up to and including the empty line that ends the head.
 * Returns 0 and advances *pp, H1_NEED_MORE or H1_ERROR.
 */
static int parse_headers(const char **pp, const char *end, struct h1_header *headers, size_t *num)
{
	const char *p = *pp;
	size_t n = 0;

	for (;;) {
		int r = eat_eol(&p, end);

		if (r == 1)
			break;
		if (r != 0)
			return r;
		if (n == H1_MAX_HEADERS)
			return H1_ERROR;

		/* An empty name also catches obs-fold, which RFC 9112 section 5.2 lets us reject. */
		const char *name = p;

		while (p != end && is_tchar(*p))
			p++;
		if (p == end)
			return H1_NEED_MORE;
		if (*p != ':' || p == name)
			return H1_ERROR;
		headers[n].name.p = name;
		headers[n].name.len = (size_t)(p - name);
		p++;

		while (p != end && is_ows(*p))
			p++;
		const char *value = p;

		/* Values are most of a head: 8 bytes at a time while none is a
		 * control (a tab too: it is checked byte by byte) or DEL. */
		while (end - p >= 8 && !(word8_below(word8_load(p), 0x20) | word8_has(word8_load(p), 0x7f)))
			p += 8;
		while (p != end && is_text_char(*p))
			p++;
		const char *value_end = p;

		r = eat_eol(&p, end);
		if (r == 0)
			return H1_ERROR; /* a control byte inside the value */
		if (r < 0)
			return r;
		while (value_end != value && is_ows(value_end[-1]))
			value_end--;
		headers[n].value.p = value;
		headers[n].value.len = (size_t)(value_end - value);
		n++;
	}
	*pp = p;
	*num = n;
	return 0;
}

/* Apply the H1_MAX_HEAD_LEN bound to a parse over at most that many bytes. */
static ssize_t head_result(int r, const char *buf, const char *p, size_t len)
{
	if (r == 0)
		return p - buf;
	if (r == H1_NEED_MORE && len >= H1_MAX_HEAD_LEN)
		return H1_ERROR; /* the head would be longer than the bound */
	return r;
}

/*
 * RFC 9112 section 2.2: a recipient SHOULD ignore at least one empty line
 * before a start line (old clients send one after a POST body, some servers
 * after a response body). Like llhttp and nginx, any number of them, CRLF or
 * bare LF; they count in the head, so its length bound holds.
 */
static int skip_empty_lines(const char **pp, const char *end)
{
	while (*pp != end && (**pp == '\r' || **pp == '\n')) {
		int r = eat_eol(pp, end);

		if (r != 1)
			return r;
	}
	return 0;
}

static int parse_request_line(const char **pp, const char *end, struct h1_request *req)
{
	const char *p = *pp;
	int r;

	r = skip_empty_lines(&p, end);
	if (r != 0)
		return r;

	const char *method = p;

	while (p != end && is_tchar(*p))
		p++;
	if (p == end)
		return H1_NEED_MORE;
	if (p == method)
		return H1_ERROR;
	req->method.p = method;
	req->method.len = (size_t)(p - method);
	r = eat_spaces(&p, end);
	if (r != 0)
		return r;

	const char *target = p;

	while (p != end && is_target_char(*p))
		p++;
	if (p == end)
		return H1_NEED_MORE;
	req->target.p = target;
	req->target.len = (size_t)(p - target);
	/* A line ending here would be HTTP/0.9, which has no version: reject it. */
	r = eat_spaces(&p, end);
	if (r != 0)
		return r;
	r = parse_version(&p, end, &req->minor_version);
	if (r != 0)
		return r;
	r = eat_eol(&p, end);
	if (r != 1)
		return r == 0 ? H1_ERROR : r;
	*pp = p;
	return 0;
}

ssize_t h1_parse_request(const char *buf, size_t len, struct h1_request *req)
{
	const char *p = buf;
	const char *end = buf + (len < H1_MAX_HEAD_LEN ? len : H1_MAX_HEAD_LEN);
	int r;

	req->num_headers = 0;
	r = parse_request_line(&p, end, req);
	if (r == 0)
		r = parse_headers(&p, end, req->headers, &req->num_headers);
	return head_result(r, buf, p, len);
}

static int parse_status_line(const char **pp, const char *end, struct h1_response *resp)
{
	const char *p = *pp;
	int r, status = 0;

	r = skip_empty_lines(&p, end);
	if (r != 0)
		return r;
	r = parse_version(&p, end, &resp->minor_version);
	if (r != 0)
		return r;
	r = eat_spaces(&p, end);
	if (r != 0)
		return r;
	for (int i = 0; i < 3; i++, p++) {
		if (p == end)
			return H1_NEED_MORE;
		if (*p < '0' || *p > '9' || (i == 0 && *p == '0'))
			return H1_ERROR;
		status = status * 10 + (*p - '0');
	}
	resp->status = status;

	/* The reason phrase may be empty, and some servers omit its SP as well ("HTTP/1.1 200\r\n"). */
	if (p == end)
		return H1_NEED_MORE;
	if (*p == ' ') {
		while (p != end && *p == ' ')
			p++;
	} else if (*p != '\r' && *p != '\n') {
		return H1_ERROR; /* "2000" is not status 200 */
	}
	const char *reason = p;

	while (p != end && is_text_char(*p))
		p++;
	resp->reason.p = reason;
	resp->reason.len = (size_t)(p - reason);
	r = eat_eol(&p, end);
	if (r != 1)
		return r == 0 ? H1_ERROR : r;
	*pp = p;
	return 0;
}

ssize_t h1_parse_response(const char *buf, size_t len, struct h1_response *resp)
{
	const char *p = buf;
	const char *end = buf + (len < H1_MAX_HEAD_LEN ? len : H1_MAX_HEAD_LEN);
	int r;

	resp->num_headers = 0;
	r = parse_status_line(&p, end, resp);
	if (r == 0)
		r = parse_headers(&p, end, resp->headers, &resp->num_headers);
	return head_result(r, buf, p, len);
}

static int is_detect_method_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

size_t h1_empty_lines_len(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return i;
}

int h1_looks_like_request(const char *buf, size_t len)
{
	size_t i = h1_empty_lines_len(buf, len);

	if (i > H1_DETECT_EMPTY_MAX)
		return 0;
	if (i == len)
		return H1_NEED_MORE;
	buf += i;
	len -= i;
	i = 0;

	while (i < len && i < H1_DETECT_METHOD_MAX && is_detect_method_char(buf[i]))
		i++;
	if (i == len)
		return H1_NEED_MORE;
	if (buf[i] != ' ' || i < H1_DETECT_METHOD_MIN)
		return 0;
	/* The HTTP/2 preface is "PRI * HTTP/2.0": not ours. */
	if (i == 3 && memcmp(buf, "PRI", 3) == 0)
		return 0;
	if (i + 1 == len)
		return H1_NEED_MORE;
	return is_target_char(buf[i + 1]) ? 1 : 0;
}

int h1_looks_like_response(const char *buf, size_t len)
{
	static const char prefix[] = "HTTP/1.";
	size_t n = sizeof(prefix) - 1, skip = h1_empty_lines_len(buf, len);

	if (skip > H1_DETECT_EMPTY_MAX)
		return 0;
	if (skip == len)
		return H1_NEED_MORE;
	buf += skip;
	len -= skip;

	for (size_t i = 0; i < n; i++) {
		if (i == len)
			return H1_NEED_MORE;
		if (buf[i] != prefix[i])
			return 0;
	}
	if (len == n)
		return H1_NEED_MORE;
	if (buf[n] != '0' && buf[n] != '1')
		return 0;
	if (len == n + 1)
		return H1_NEED_MORE;
	return buf[n + 1] == ' ';
}

const struct h1_slice *h1_find_header(const struct h1_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (slice_ieq(h[i].name, name))
			return &h[i].value;
	return NULL;
}
