#include "export/span_output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "span/span_format.h"

int span_output_open(struct span_output *o, const char *path, char *err, size_t cap)
{
	memset(o, 0, sizeof(*o));
	o->f = stdout;
	o->format = path ? SPAN_OUTPUT_ZIPKIN_JSON : SPAN_OUTPUT_TEXT;
	if (path && strcmp(path, "-") != 0) {
		o->f = fopen(path, "w");
		if (!o->f) {
			snprintf(err, cap, "cannot open %s: %s", path, strerror(errno));
			return -1;
		}
		o->owns_file = true;
		/* glibc ignores setvbuf's size unless given the buffer. */
		o->buf = malloc(SPAN_OUTPUT_BUFFER_BYTES);
		if (o->buf)
			setvbuf(o->f, o->buf, _IOFBF, SPAN_OUTPUT_BUFFER_BYTES);
	}
	return 0;
}

void span_output_write(void *ctx, const struct span *s)
{
	struct span_output *o = ctx;
	int r = o->format == SPAN_OUTPUT_TEXT ? span_format_text(o->f, s) : span_format_zipkin_line(o->f, s, &o->json);

	if (r < 0)
		o->write_errors++;
}

void span_output_flush(struct span_output *o)
{
	fflush(o->f);
}

void span_output_close(struct span_output *o)
{
	if (o->f)
		fflush(o->f);
	if (o->owns_file)
		fclose(o->f);
	free(o->buf);
	o->buf = NULL;
	o->f = NULL;
}
