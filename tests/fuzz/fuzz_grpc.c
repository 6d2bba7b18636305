/*
 * libFuzzer target for user/parse/grpc.c on its own.
 *
 * Input: byte 0 the size of the pieces DATA payload is fed in (1..256), the
 * rest both a payload (message counting) and a header value (path split,
 * status, grpc-message decoding, content-type), each copied to a buffer of
 * its exact size so that AddressSanitizer reports any over-read.
 *
 * Checks: fed in pieces or at once, the counts are the same, and bytes
 * skipped inside a message count as if they were fed; the path's slices lie inside it and are
 * proto identifiers; a decoded message is never longer than its source.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/grpc.h"

static void check_counts(const uint8_t *buf, size_t len, size_t piece)
{
	struct grpc_msgs whole = {}, pieces = {};

	grpc_msgs_feed(&whole, buf, len);
	for (size_t off = 0; off < len; off += piece)
		grpc_msgs_feed(&pieces, buf + off, len - off < piece ? len - off : piece);
	if (memcmp(&whole, &pieces, sizeof(whole)) != 0)
		abort();
	/* Bytes skipped inside a message are absorbed, as if fed. */
	if (!whole.broken && whole.left > 0) {
		struct grpc_msgs fed = whole, skipped = whole;
		size_t n = whole.left;

		grpc_msgs_feed(&fed, buf, n < len ? n : len);
		grpc_msgs_skip(&skipped, n < len ? n : len);
		if (fed.messages != skipped.messages || fed.bytes != skipped.bytes || fed.left != skipped.left)
			abort();
	}
	if (grpc_msgs_complete(&whole) && (whole.left || whole.prefix_len || whole.broken))
		abort();
}

static bool ident_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

static void check_path(const char *p, size_t len)
{
	const char *service, *method;
	size_t service_len, method_len;
	int n = grpc_split_path(p, len, &service, &service_len, &method, &method_len);

	if (n < 0)
		return;
	if ((size_t)n > len || service < p || service + service_len > p + n || method < p ||
	    method + method_len > p + n || !service_len || !method_len)
		abort();
	for (size_t i = 0; i < method_len; i++)
		if (!ident_char(method[i], i == 0))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v, out[64];
	size_t len, piece;
	int status;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] + 1;
	len = size - 1;
	v = malloc(len ? len : 1);
	if (!v)
		return 0;
	memcpy(v, data + 1, len);
	check_counts((const uint8_t *)v, len, piece);
	check_path(v, len);
	status = grpc_parse_status(v, len);
	if (status < -1 || (status >= 0 && (len == 0 || len > GRPC_STATUS_MAX_DIGITS)))
		abort();
	if (grpc_message_decode(out, sizeof(out), v, len) > len || strlen(out) >= sizeof(out))
		abort();
	grpc_is_content_type(v, len);
	free(v);
	return 0;
}
