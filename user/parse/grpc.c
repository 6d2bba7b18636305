/* gRPC call fields and message counting; see grpc.h. */
#include "parse/grpc.h"

#include <stdbool.h>
#include <string.h>

#include "parse/ascii.h"

static const char *const status_names[] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
};

void grpc_msgs_feed(struct grpc_msgs *m, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len && !m->broken) {
		if (m->left) {
			size_t n = len - off < m->left ? len - off : m->left;

			m->left -= (uint32_t)n;
			off += n;
			if (!m->left)
				m->messages++;
			continue;
		}
		m->prefix[m->prefix_len++] = buf[off++];
		if (m->prefix_len < GRPC_PREFIX_LEN)
			continue;
		m->prefix_len = 0;
		/* The flag is 0 or 1; anything else is not a gRPC message. */
		if (m->prefix[0] > 1) {
			m->broken = true;
			return;
		}
		m->left = (uint32_t)m->prefix[1] << 24 | (uint32_t)m->prefix[2] << 16 |
			  (uint32_t)m->prefix[3] << 8 | m->prefix[4];
		m->bytes += m->left;
		if (!m->left)
			m->messages++;
	}
}

void grpc_msgs_skip(struct grpc_msgs *m, uint64_t n)
{
	if (n == 0)
		return;
	if (m->prefix_len || n > m->left) {
		m->broken = true;
		return;
	}
	m->left -= (uint32_t)n;
	if (!m->left)
		m->messages++;
}

bool grpc_msgs_complete(const struct grpc_msgs *m)
{
	return !m->broken && !m->left && !m->prefix_len;
}

bool grpc_is_content_type(const char *v, size_t len)
{
	static const char base[] = "application/grpc";
	size_t n = sizeof(base) - 1;

	if (len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(v[i]) != base[i])
			return false;
	return len == n || v[n] == '+' || v[n] == ';';
}

int grpc_parse_status(const char *v, size_t len)
{
	int code = 0;

	if (len == 0 || len > GRPC_STATUS_MAX_DIGITS)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		code = code * 10 + (v[i] - '0');
	}
	return code;
}

const char *grpc_status_name(int code)
{
	if (code < 0 || (size_t)code >= sizeof(status_names) / sizeof(status_names[0]))
		return NULL;
	return status_names[code];
}

/* A proto identifier (a letter or '_', then letters, digits or '_') or, when
 * dotted, identifiers joined by single dots: what protoc accepts as package,
 * service and method names. */
static bool is_proto_name(const char *p, size_t n, bool dotted)
{
	bool start = true;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i], l = (char)(c | 0x20);

		if (c == '_' || (l >= 'a' && l <= 'z'))
			start = false;
		else if (c >= '0' && c <= '9' && !start)
			continue;
		else if (dotted && c == '.' && !start && i + 1 < n)
			start = true;
		else
			return false;
	}
	return true;
}

int grpc_split_path(const char *path, size_t len, const char **service, size_t *service_len,
		    const char **method, size_t *method_len)
{
	const char *slash;
	size_t n = 0;

	while (n < len && path[n] != '?' && path[n] != '#')
		n++;
	if (n < 4 || path[0] != '/')
		return -1;
	slash = memchr(path + 1, '/', n - 1);
	if (!slash || !is_proto_name(path + 1, (size_t)(slash - path - 1), true) ||
	    !is_proto_name(slash + 1, (size_t)(path + n - slash - 1), false))
		return -1;
	*service = path + 1;
	*service_len = (size_t)(slash - path - 1);
	*method = slash + 1;
	*method_len = (size_t)(path + n - slash - 1);
	return (int)n;
}

size_t grpc_message_decode(char *dst, size_t cap, const char *src, size_t len)
{
	size_t o = 0;

	if (cap == 0)
		return 0;
	for (size_t i = 0; i < len && o + 1 < cap; i++) {
		int hi, lo;

		if (src[i] == '%' && i + 2 < len && (hi = ascii_hex_value(src[i + 1])) >= 0 &&
		    (lo = ascii_hex_value(src[i + 2])) >= 0) {
			dst[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			dst[o++] = src[i];
		}
	}
	dst[o] = '\0';
	return o;
}
