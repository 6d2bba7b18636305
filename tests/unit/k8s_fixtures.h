/* Kubernetes objects as kubectl get -o json prints them (tests/data/k8s/),
 * read whole or decoded for a test to change one field. */
#ifndef SOCKSPAN_TEST_K8S_FIXTURES_H
#define SOCKSPAN_TEST_K8S_FIXTURES_H

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#define K8S_FIXTURES "tests/data/k8s/"

/* The file's bytes (free them); *len set. */
static inline char *fixture_read(const char *name, size_t *len)
{
	char path[256];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), K8S_FIXTURES "%s", name);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "%s: run the tests from the repository's root", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The file decoded (cJSON_Delete it). */
static inline cJSON *fixture_json(const char *name)
{
	size_t len;
	char *buf = fixture_read(name, &len);
	cJSON *j = cJSON_ParseWithLength(buf, len);

	free(buf);
	cr_assert_not_null(j, "%s is not JSON", name);
	return j;
}

#endif
