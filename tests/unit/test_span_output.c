// SPDX-License-Identifier: MIT
/* Unit tests for span_output.c: spans written to a file stay in its buffer
 * until the loop flushes (one write() per poll, not one per few spans), and
 * every line arrives whole. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export/span_output.h"
#include "span/span.h"

static char path[] = "/tmp/sockspan-span-output-XXXXXX";

static void make_path(void)
{
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
}

static void remove_path(void)
{
	unlink(path);
}

static off_t file_size(void)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	return st.st_size;
}

static void some_span(struct span *s, unsigned i)
{
	memset(s, 0, sizeof(*s));
	s->trace_id[15] = (uint8_t)i;
	s->id[7] = (uint8_t)(i + 1);
	s->kind = SPAN_KIND_SERVER;
	snprintf(s->name, sizeof(s->name), "get /items/{id}");
	s->timestamp_us = 1795301147123456ULL + i;
	s->duration_us = 100 + i;
	strcpy(s->local.service_name, "nginx");
	cr_assert_eq(span_add_tag(s, "http.method", "GET", 3), 0);
	cr_assert_eq(span_add_tag(s, "http.status_code", "200", 3), 0);
}

TestSuite(span_output, .init = make_path, .fini = remove_path);

/* ~100 spans of JSON, some 20 KiB: past stdio's 4 KiB default, within the
 * output's buffer. */
Test(span_output, file_spans_wait_for_the_flush)
{
	struct span_output o;
	struct span s;
	char err[256];
	unsigned n = 100;

	cr_assert_eq(span_output_open(&o, path, err, sizeof(err)), 0, "%s", err);
	for (unsigned i = 0; i < n; i++) {
		some_span(&s, i);
		span_output_write(&o, &s);
	}
	cr_expect_eq(file_size(), 0, "%lld bytes written before the flush", (long long)file_size());
	span_output_flush(&o);
	cr_assert_gt(file_size(), 4096);
	span_output_close(&o);
	cr_expect_eq(o.write_errors, 0);

	FILE *f = fopen(path, "r");
	char line[4096];
	unsigned lines = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		cr_expect(line[0] == '{' && strcmp(line + strlen(line) - 2, "}\n") == 0, "line %u: %s", lines, line);
		lines++;
	}
	fclose(f);
	cr_expect_eq(lines, n);
}
