/*
 * libFuzzer target for user/meta/k8s_cgroup.c: any bytes as a cgroup path.
 * Besides memory errors (the path is an exact-size heap copy), it checks
 * the contract: a pod's uid is canonical and is in the path (with '-' or
 * '_'), a container id is 64 lowercase hex digits also in the path, the qos
 * and runtime are known values, and the same path parses the same way at
 * the end of a longer one (kubelet's cgroup root before it).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "meta/k8s_cgroup.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

/* Does hay (n bytes) hold needle, letter case and '-'/'_' aside? */
static int holds(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++) {
		size_t j = 0;

		while (j < k && (tolower((unsigned char)hay[i + j]) == needle[j] ||
				 (needle[j] == '-' && hay[i + j] == '_')))
			j++;
		if (j == k)
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = malloc(size ? size : 1), *longer = malloc(size + 8);
	struct k8s_cgroup g, h;
	int r;

	memcpy(path, data, size);
	r = k8s_cgroup_parse(path, size, &g);
	CHECK(r == 0 || r == 1);
	if (r == 1) {
		CHECK(strlen(g.pod_uid) == K8S_UID_LEN);
		for (size_t i = 0; i < K8S_UID_LEN; i++) {
			int dash = i == 8 || i == 13 || i == 18 || i == 23;

			CHECK(dash ? g.pod_uid[i] == '-' : isxdigit((unsigned char)g.pod_uid[i]) && !isupper((unsigned char)g.pod_uid[i]));
		}
		CHECK(holds(path, size, g.pod_uid));
		CHECK(g.container_id[0] == '\0' || strlen(g.container_id) == K8S_CONTAINER_ID_LEN);
		for (size_t i = 0; g.container_id[i]; i++)
			CHECK(isxdigit((unsigned char)g.container_id[i]) && !isupper((unsigned char)g.container_id[i]));
		CHECK(g.container_id[0] == '\0' || holds(path, size, g.container_id));
		CHECK(g.qos <= K8S_QOS_BESTEFFORT && g.runtime <= K8S_RUNTIME_DOCKER);
		CHECK(g.runtime == K8S_RUNTIME_UNSAID || g.container_id[0]);
	}
	/* Under a root of plain components, the same answer. */
	memcpy(longer, "/a/b.c/d", 8);
	memcpy(longer + 8, data, size);
	if (size && data[0] == '/' && !memchr(data, '\0', size)) {
		CHECK(k8s_cgroup_parse(longer, size + 8, &h) == r);
		CHECK(r == 0 || (strcmp(g.pod_uid, h.pod_uid) == 0 && strcmp(g.container_id, h.container_id) == 0 &&
				 g.qos == h.qos && g.runtime == h.runtime));
	}
	free(path);
	free(longer);
	return 0;
}
