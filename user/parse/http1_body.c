/*
 * HTTP/1.x body framing (RFC 9112 section 6): which body a parsed head
 * announces, the chunked decoder, and whether the connection ends after the
 * message; see http1_parser.h.
 */
#include "parse/http1_parser.h"
#include "parse/http1_text.h"

#include <string.h>

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
			int d = ascii_hex_value(c);

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
