/* A span's Zipkin JSON (span_zipkin_json) parsed back into a cJSON tree, for
 * tests that look at fields or compare models. */
#ifndef SOCKSPAN_TEST_SPAN_JSON_H
#define SOCKSPAN_TEST_SPAN_JSON_H

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "span/span_format.h"

static inline cJSON *span_json_tree(const struct span *s)
{
	static char buf[SPAN_JSON_MAX];
	size_t n = span_zipkin_json(s, buf, sizeof(buf));
	cJSON *json;

	cr_assert_gt(n, 0, "span_zipkin_json wrote nothing");
	json = cJSON_ParseWithLength(buf, n);
	cr_assert_not_null(json, "not JSON: %s", buf);
	return json;
}

#endif
