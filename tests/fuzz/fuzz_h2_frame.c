/*
 * libFuzzer target for user/h2_frame.c (and the pure parts of user/grpc.c).
 *
 * The input is walked as a sequence of frames, as the session does: header,
 * layout from the prefix only, then the whole frame. Besides memory errors
 * (ASan/UBSan), it checks the contracts: slices stay inside the buffer, the
 * layout from the prefix equals the layout of the whole frame, every prefix
 * of a complete frame is "need more", and the strict check never says yes
 * to bytes that do not parse as frames. Buffers are exact-size heap copies.
 *
 *   ./build/fuzz/fuzz_h2_frame tests/fuzz/corpus/h2_frame
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/grpc.h"
#include "parse/h2_frame.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

static void check_frames(const uint8_t *buf, size_t len, uint32_t max)
{
	size_t off = 0;

	while (off < len) {
		struct h2_frame f;
		struct h2_frame_header h;
		struct h2_frame_layout l;
		ssize_t r = h2_parse_frame(buf + off, len - off, max, &f);
		ssize_t rh = h2_parse_frame_header(buf + off, len - off, max, &h);

		if (rh == H2_NEED_MORE || rh == H2_ERROR) {
			CHECK(r == rh);
			return;
		}
		CHECK(rh == H2_FRAME_HEADER_LEN && h.length <= max);
		if (r == H2_NEED_MORE) {
			CHECK(len - off - H2_FRAME_HEADER_LEN < h.length);
			return;
		}
		if (r == H2_ERROR) {
			CHECK(h2_frame_layout(&h, buf + off + 9, len - off - 9, &l) == H2_ERROR ||
			      len - off - 9 < h.length);
			return;
		}
		CHECK((size_t)r == H2_FRAME_HEADER_LEN + f.hdr.length && (size_t)r <= len - off);
		CHECK(f.content >= f.payload && f.content + f.layout.content_len <= f.payload + f.hdr.length);
		CHECK(f.layout.prefix_len + f.layout.content_len + f.layout.pad_len == f.hdr.length);
		/* The layout needs only the prefix. */
		CHECK(h2_frame_layout(&f.hdr, f.payload, f.layout.prefix_len, &l) == (ssize_t)f.layout.prefix_len);
		CHECK(memcmp(&l, &f.layout, sizeof(l)) == 0);
		/* Any shorter buffer: need more. */
		for (size_t n = 0; n < (size_t)r; n += 1 + n / 4) {
			uint8_t *cut = malloc(n ? n : 1);

			memcpy(cut, buf + off, n);
			CHECK(h2_parse_frame(cut, n, max, &f) == H2_NEED_MORE);
			free(cut);
		}
		off += (size_t)r;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	struct grpc_msgs m = { 0 }, whole = { 0 };
	int looks;

	memcpy(buf, data, size);
	check_frames(buf, size, H2_DEFAULT_MAX_FRAME_SIZE);
	check_frames(buf, size, H2_MAX_FRAME_SIZE_CEILING);
	looks = h2_looks_like_frames(buf, size, NULL);
	CHECK(looks == 1 || looks == 0 || looks == H2_NEED_MORE);
	if (looks == 1) {
		struct h2_frame f;

		/* Yes means at least one whole frame that parses. */
		CHECK(h2_parse_frame(buf, size, H2_DEFAULT_MAX_FRAME_SIZE, &f) > 0);
	}
	h2_parse_preface(buf, size);
	/* gRPC message counting: whole or in pieces, the same counts. */
	grpc_msgs_feed(&whole, buf, size);
	for (size_t off = 0; off < size;) {
		size_t n = 1 + buf[off] % 7;

		if (n > size - off)
			n = size - off;
		grpc_msgs_feed(&m, buf + off, n);
		off += n;
	}
	CHECK(m.messages == whole.messages && m.bytes == whole.bytes && m.broken == whole.broken);
	if (size) {
		char out[64];
		const char *a, *b;
		size_t al, bl;

		CHECK(grpc_message_decode(out, sizeof(out), (const char *)buf, size) < sizeof(out));
		int n = grpc_split_path((const char *)buf, size, &a, &al, &b, &bl);
		if (n >= 0)
			CHECK(a > (const char *)buf && b + bl == (const char *)buf + n && (size_t)n <= size && al && bl);
		grpc_parse_status((const char *)buf, size);
		grpc_is_content_type((const char *)buf, size);
	}
	free(buf);
	return 0;
}
