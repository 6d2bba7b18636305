/* Where finished spans go when no collector is configured: readable lines,
 * or Zipkin v2 JSON one span per line, to stdout or a file. */
#ifndef SOCKSPAN_SPAN_OUTPUT_H
#define SOCKSPAN_SPAN_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "span/span_format.h"

enum span_output_format { SPAN_OUTPUT_TEXT, SPAN_OUTPUT_ZIPKIN_JSON };

/* stdio's buffer for spans to a file or a pipe: the loop flushes after each
 * poll; stdio's default there (4 KiB) is a write() every few spans. */
#define SPAN_OUTPUT_BUFFER_BYTES (64 * 1024)

struct span_output {
	FILE *f;
	enum span_output_format format;
	bool owns_file;
	char *buf; /* the file's stdio buffer, freed after it is closed */
	unsigned long long write_errors;
	struct span_json_cache json; /* endpoints' JSON already written */
};

/* path NULL: readable lines on stdout; "-": JSON on stdout; else JSON to that
 * file (truncated). Returns 0, or -1 with a message in err. */
int span_output_open(struct span_output *o, const char *path, char *err, size_t cap);
/* Writes one span (a trace_span_fn: ctx is the struct span_output). */
void span_output_write(void *ctx, const struct span *s);
void span_output_flush(struct span_output *o);
void span_output_close(struct span_output *o);

#endif
