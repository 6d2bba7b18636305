/*
 * HTTP/1.x head parser and body framing decoder; see http1_parser.h.
 *
 * The head parsers walk the buffer once with a cursor. Each step either
 * advances, reports H1_NEED_MORE (the bytes so far are a valid prefix) or
 * H1_ERROR (they never can be), so a split anywhere in a valid head yields
 * H1_NEED_MORE and never a different result.
 */
#include "parse/http1_parser.h"
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

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive equality of a slice and a NUL-terminated string. Inlined:
 * the strings are literals, whose length is then known without strlen. */
static inline __attribute__((always_inline)) int slice_ieq(struct h1_slice s, const char *str)
{
	size_t n = strlen(str);

	if (s.len != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower(s.p[i]) != lower(str[i]))
			return 0;
	return 1;
}

/* Case-sensitive equality, as for methods (RFC 9110 section 9.1). */
static inline __attribute__((always_inline)) int slice_eq(struct h1_slice s, const char *str)
{
	size_t n = strlen(str);

	return s.len == n && (n == 0 || memcmp(s.p, str, n) == 0);
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

/*
 * Iterate the members of a comma-separated field list (RFC 9110 section 5.6.1),
 * OWS trimmed. Starts at *pos (0 at first); returns 1 and sets *member, or 0
 * at the end. Empty members are returned too: callers decide what they mean.
 */
static int list_next(struct h1_slice value, size_t *pos, struct h1_slice *member)
{
	size_t i = *pos, start, stop;

	if (i > value.len)
		return 0;
	start = i;
	while (i < value.len && value.p[i] != ',')
		i++;
	stop = i;
	*pos = i + 1;
	while (start < stop && is_ows(value.p[start]))
		start++;
	while (stop > start && is_ows(value.p[stop - 1]))
		stop--;
	member->p = value.p + start;
	member->len = stop - start;
	return 1;
}

/*
 * Content-Length over all fields of that name. Returns 1 and sets *out when
 * present and valid, 0 when absent, H1_ERROR for a non-digit, empty or
 * overflowing value, or members that differ.
 */
static int content_length(const struct h1_header *h, size_t n, uint64_t *out)
{
	int found = 0;

	for (size_t i = 0; i < n; i++) {
		struct h1_slice m;
		size_t pos = 0;

		if (!slice_ieq(h[i].name, "content-length"))
			continue;
		while (list_next(h[i].value, &pos, &m)) {
			uint64_t v = 0;

			if (m.len == 0)
				return H1_ERROR;
			for (size_t j = 0; j < m.len; j++) {
				unsigned d = (unsigned)(m.p[j] - '0');

				if (d > 9 || v > (UINT64_MAX - d) / 10)
					return H1_ERROR;
				v = v * 10 + d;
			}
			if (found && v != *out)
				return H1_ERROR;
			*out = v;
			found = 1;
		}
	}
	return found;
}

/*
 * Transfer-Encoding over all fields of that name. Returns -1 when absent,
 * 1 when the last coding is chunked, 0 otherwise.
 */
static int last_coding_chunked(const struct h1_header *h, size_t n)
{
	struct h1_slice last = { NULL, 0 };
	int found = 0;

	for (size_t i = 0; i < n; i++) {
		struct h1_slice m;
		size_t pos = 0;

		if (!slice_ieq(h[i].name, "transfer-encoding"))
			continue;
		found = 1;
		while (list_next(h[i].value, &pos, &m)) {
			size_t k = 0;

			/* Transfer parameters (";q=...") do not change which coding it is. */
			while (k < m.len && m.p[k] != ';')
				k++;
			while (k > 0 && is_ows(m.p[k - 1]))
				k--;
			m.len = k;
			if (m.len != 0)
				last = m;
		}
	}
	if (!found)
		return -1;
	return last.p != NULL && slice_ieq(last, "chunked");
}

static void body_init(struct h1_body *body, enum h1_body_kind kind, uint64_t length)
{
	memset(body, 0, sizeof(*body));
	body->kind = kind;
	body->remaining = kind == H1_BODY_LENGTH ? length : 0;
	body->chunk_state = H1_CHUNK_SIZE;
}

int h1_request_body(const struct h1_request *req, struct h1_body *body)
{
	uint64_t len = 0;
	int te = last_coding_chunked(req->headers, req->num_headers);
	int cl;

	/* RFC 9112 section 6.3: Transfer-Encoding overrides Content-Length, and a request must end in chunked. */
	if (te == 1) {
		body_init(body, H1_BODY_CHUNKED, 0);
		return 0;
	}
	if (te == 0)
		return H1_ERROR;
	cl = content_length(req->headers, req->num_headers, &len);
	if (cl < 0)
		return H1_ERROR;
	body_init(body, cl ? H1_BODY_LENGTH : H1_BODY_NONE, len);
	return 0;
}

static int is_connect_2xx(const struct h1_response *resp, struct h1_slice req_method)
{
	return resp->status / 100 == 2 && slice_eq(req_method, "CONNECT");
}

int h1_response_body(const struct h1_response *resp, struct h1_slice req_method, struct h1_body *body)
{
	uint64_t len = 0;
	int te, cl;

	if (resp->status / 100 == 1 || resp->status == 204 || resp->status == 304 ||
	    slice_eq(req_method, "HEAD") || is_connect_2xx(resp, req_method)) {
		body_init(body, H1_BODY_NONE, 0);
		return 0;
	}
	te = last_coding_chunked(resp->headers, resp->num_headers);
	if (te >= 0) {
		body_init(body, te ? H1_BODY_CHUNKED : H1_BODY_UNTIL_CLOSE, 0);
		return 0;
	}
	cl = content_length(resp->headers, resp->num_headers, &len);
	if (cl < 0)
		return H1_ERROR;
	body_init(body, cl ? H1_BODY_LENGTH : H1_BODY_UNTIL_CLOSE, len);
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A control byte other than HTAB, CR and LF has no place in a size line or trailer. */
static int is_bad_control(char c)
{
	unsigned char u = (unsigned char)c;

	return (u < 0x20 && u != '\t' && u != '\r' && u != '\n') || u == 0x7f;
}

/* After a chunk-size line: data follows, or the trailer section after the last (zero-size) chunk. */
static void end_size_line(struct h1_body *b)
{
	b->size_digits = 0;
	b->line_len = 0;
	b->chunk_state = b->remaining ? H1_CHUNK_DATA : H1_CHUNK_TRAILER_LINE_START;
}

static int in_trailers(enum h1_chunk_state s)
{
	return s == H1_CHUNK_TRAILER_LINE_START || s == H1_CHUNK_TRAILER_LINE || s == H1_CHUNK_TRAILER_LINE_LF ||
	       s == H1_CHUNK_END_LF;
}

/* The chunked decoder: one step per byte, except bulk copies of chunk data. */
static ssize_t chunked_consume(struct h1_body *b, const char *buf, size_t len)
{
	size_t i = 0;

	if (b->chunk_state == H1_CHUNK_ERROR)
		return H1_ERROR;
	while (i < len && b->chunk_state != H1_CHUNK_DONE) {
		char c = buf[i];

		if (in_trailers(b->chunk_state) && ++b->line_len > H1_MAX_TRAILER_LEN)
			goto fail;
		switch (b->chunk_state) {
		case H1_CHUNK_SIZE: {
			int d = hex_value(c);

			if (d >= 0) {
				if (b->size_digits == H1_MAX_CHUNK_SIZE_DIGITS)
					goto fail;
				b->remaining = b->remaining << 4 | (uint64_t)d;
				b->size_digits++;
				break;
			}
			if (b->size_digits == 0)
				goto fail;
			if (c == '\r') {
				b->chunk_state = H1_CHUNK_SIZE_LF;
			} else if (c == '\n') {
				end_size_line(b);
			} else if (c == ';' || is_ows(c)) {
				b->chunk_state = c == ';' ? H1_CHUNK_EXT : H1_CHUNK_SIZE_BWS;
				b->line_len = 1;
			} else {
				goto fail;
			}
			break;
		}
		case H1_CHUNK_SIZE_BWS:
			if (c == '\r') {
				b->chunk_state = H1_CHUNK_SIZE_LF;
			} else if (c == '\n') {
				end_size_line(b);
			} else if (c != ';' && !is_ows(c)) {
				goto fail; /* "5 5" is no chunk size */
			} else if (++b->line_len > H1_MAX_CHUNK_EXT_LEN) {
				goto fail;
			} else if (c == ';') {
				b->chunk_state = H1_CHUNK_EXT;
			}
			break;
		case H1_CHUNK_EXT:
			if (c == '\r') {
				b->chunk_state = H1_CHUNK_SIZE_LF;
			} else if (c == '\n') {
				end_size_line(b);
			} else if (is_bad_control(c) || ++b->line_len > H1_MAX_CHUNK_EXT_LEN) {
				goto fail;
			}
			break;
		case H1_CHUNK_SIZE_LF:
			if (c != '\n')
				goto fail;
			end_size_line(b);
			break;
		case H1_CHUNK_DATA: {
			uint64_t avail = len - i;
			uint64_t take = b->remaining < avail ? b->remaining : avail;

			b->remaining -= take;
			i += (size_t)take;
			if (b->remaining == 0)
				b->chunk_state = H1_CHUNK_DATA_CR;
			continue;
		}
		case H1_CHUNK_DATA_CR:
			if (c == '\r')
				b->chunk_state = H1_CHUNK_DATA_LF;
			else if (c == '\n')
				b->chunk_state = H1_CHUNK_SIZE;
			else
				goto fail;
			break;
		case H1_CHUNK_DATA_LF:
			if (c != '\n')
				goto fail;
			b->chunk_state = H1_CHUNK_SIZE;
			break;
		case H1_CHUNK_TRAILER_LINE_START:
			if (c == '\r')
				b->chunk_state = H1_CHUNK_END_LF;
			else if (c == '\n')
				b->chunk_state = H1_CHUNK_DONE;
			else if (is_bad_control(c))
				goto fail;
			else
				b->chunk_state = H1_CHUNK_TRAILER_LINE;
			break;
		case H1_CHUNK_TRAILER_LINE:
			if (c == '\r')
				b->chunk_state = H1_CHUNK_TRAILER_LINE_LF;
			else if (c == '\n')
				b->chunk_state = H1_CHUNK_TRAILER_LINE_START;
			else if (is_bad_control(c))
				goto fail;
			break;
		case H1_CHUNK_TRAILER_LINE_LF:
			if (c != '\n')
				goto fail;
			b->chunk_state = H1_CHUNK_TRAILER_LINE_START;
			break;
		case H1_CHUNK_END_LF:
			if (c != '\n')
				goto fail;
			b->chunk_state = H1_CHUNK_DONE;
			break;
		default:
			goto fail; /* DONE ends the loop and ERROR returns above: a corrupt state */
		}
		i++;
	}
	return (ssize_t)i;
fail:
	b->chunk_state = H1_CHUNK_ERROR;
	return H1_ERROR;
}

ssize_t h1_body_consume(struct h1_body *body, const char *buf, size_t len, int *done)
{
	ssize_t n;

	*done = 0;
	switch (body->kind) {
	case H1_BODY_NONE:
		*done = 1;
		return 0;
	case H1_BODY_LENGTH:
		n = (ssize_t)(body->remaining < len ? body->remaining : len);
		body->remaining -= (uint64_t)n;
		*done = body->remaining == 0;
		return n;
	case H1_BODY_CHUNKED:
		n = chunked_consume(body, buf, len);
		*done = body->chunk_state == H1_CHUNK_DONE;
		return n;
	case H1_BODY_UNTIL_CLOSE:
		return (ssize_t)len;
	}
	return H1_ERROR;
}

int h1_body_skip(struct h1_body *body, uint64_t n, int *done)
{
	*done = 0;
	switch (body->kind) {
	case H1_BODY_NONE:
		*done = 1;
		return n == 0 ? 0 : H1_ERROR;
	case H1_BODY_LENGTH:
		if (body->remaining < n)
			return H1_ERROR;
		body->remaining -= n;
		*done = body->remaining == 0;
		return 0;
	case H1_BODY_CHUNKED:
		*done = body->chunk_state == H1_CHUNK_DONE;
		if (n == 0)
			return body->chunk_state == H1_CHUNK_ERROR ? H1_ERROR : 0;
		if (body->chunk_state != H1_CHUNK_DATA || body->remaining < n)
			return H1_ERROR;
		body->remaining -= n;
		if (body->remaining == 0)
			body->chunk_state = H1_CHUNK_DATA_CR;
		return 0;
	case H1_BODY_UNTIL_CLOSE:
		return 0;
	}
	return H1_ERROR;
}

int h1_is_tunnel_response(const struct h1_response *resp, struct h1_slice req_method)
{
	return resp->status == 101 || is_connect_2xx(resp, req_method);
}

/* Does any Connection field list token? */
static int connection_has(const struct h1_header *h, size_t n, const char *token)
{
	for (size_t i = 0; i < n; i++) {
		struct h1_slice m;
		size_t pos = 0;

		if (!slice_ieq(h[i].name, "connection"))
			continue;
		while (list_next(h[i].value, &pos, &m))
			if (slice_ieq(m, token))
				return 1;
	}
	return 0;
}

static int wants_close(const struct h1_header *h, size_t n, int minor_version)
{
	if (connection_has(h, n, "close"))
		return 1;
	return minor_version == 0 && !connection_has(h, n, "keep-alive");
}

int h1_request_wants_close(const struct h1_request *req)
{
	return wants_close(req->headers, req->num_headers, req->minor_version);
}

int h1_response_wants_close(const struct h1_response *resp)
{
	return wants_close(resp->headers, resp->num_headers, resp->minor_version);
}
