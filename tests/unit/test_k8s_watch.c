/* Services, list pages and watch stream lines as the API server writes
 * them, and hostile ones. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "guard_page.h"
#include "k8s_fixtures.h"
#include "meta/k8s_pod.h"
#include "meta/k8s_watch.h"

/* Each of bad[0..n) refused by parse, with a reason. */
static void expect_refused(int (*parse)(const char *, size_t, char *, size_t), const char *const *bad, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char err[K8S_ERR_MAX] = "";

		cr_expect_eq(parse(bad[i], strlen(bad[i]), err, sizeof(err)), -1, "accepted %s", bad[i]);
		cr_expect(err[0], "no reason for %s", bad[i]);
	}
}

static int parse_service(const char *buf, size_t len, char *err, size_t cap)
{
	struct k8s_service s;

	return k8s_service_parse(buf, len, &s, err, cap);
}

static int parse_list(const char *buf, size_t len, char *err, size_t cap)
{
	struct k8s_list l;
	int r = k8s_list_parse(buf, len, &l, err, cap);

	if (r == 0)
		k8s_list_free(&l);
	return r;
}

static int parse_watch(const char *buf, size_t len, char *err, size_t cap)
{
	struct k8s_watch_event ev;
	int r = k8s_watch_parse(buf, len, &ev, err, cap);

	if (r == 0)
		k8s_watch_event_free(&ev);
	return r;
}

#define EXPECT_REFUSED(parse, bad) expect_refused(parse, bad, sizeof(bad) / sizeof(bad[0]))

Test(k8s_watch, dual_stack_service)
{
	size_t len;
	char *buf = fixture_read("service.json", &len), err[K8S_ERR_MAX];
	struct guard g = guard_new(len);
	struct k8s_service s;
	uint8_t v6[16];

	cr_assert_eq(k8s_service_parse(guard_put(&g, buf, len), len, &s, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(s.ns, "shop");
	cr_expect_str_eq(s.name, "checkout");
	cr_assert_eq(s.nips, 2, "clusterIP repeats clusterIPs[0]: kept once");
	cr_expect_eq(s.ips[0].family, AF_INET);
	cr_expect_arr_eq(s.ips[0].addr, ((uint8_t[4]){ 10, 96, 14, 7 }), 4);
	inet_pton(AF_INET6, "fd00:10:96::e07", v6);
	cr_expect_eq(s.ips[1].family, AF_INET6);
	cr_expect_arr_eq(s.ips[1].addr, v6, 16);
	free(buf);
}

Test(k8s_watch, headless_service_has_no_address)
{
	size_t len;
	char *buf = fixture_read("service_headless.json", &len), err[K8S_ERR_MAX];
	struct k8s_service s;

	cr_assert_eq(k8s_service_parse(buf, len, &s, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(s.name, "redis");
	cr_expect_eq(s.nips, 0);
	free(buf);
}

Test(k8s_watch, hostile_services)
{
	static const char *const bad[] = {
		"{\"metadata\":{\"name\":\"a\"},\"spec\":{}}",
		"{\"metadata\":{\"name\":\"a.b\",\"namespace\":\"x\"},\"spec\":{}}",
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},\"spec\":{\"clusterIPs\":\"10.0.0.1\"}}",
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},\"spec\":{\"clusterIPs\":[7]}}",
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},\"spec\":{\"clusterIP\":\"10.0.0\"}}",
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},\"spec\":{\"clusterIPs\":[\"1.1.1.1\",\"1.1.1.2\",\"1.1.1.3\",\"1.1.1.4\",\"1.1.1.5\"]}}",
		"[]", "", "{",
	};

	EXPECT_REFUSED(parse_service, bad);
}

Test(k8s_watch, a_list_page_with_its_continue_token)
{
	static const char page[] =
		"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"48213\","
		"\"continue\":\"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDgyMTMsInN0YXJ0IjoiZGVmYXVsdC9kZWJ1Z1x1MDAwMCJ9\","
		"\"remainingItemCount\":3},\"items\":[{\"metadata\":{\"name\":\"a\"}},{}]}";
	static const char last[] = "{\"kind\":\"ServiceList\",\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[]}";
	struct k8s_list l;
	char err[K8S_ERR_MAX];

	cr_assert_eq(k8s_list_parse(page, strlen(page), &l, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(l.rv, "48213");
	cr_expect_eq(strncmp(l.cont, "eyJ2Ijoib", 9), 0);
	cr_expect_eq(cJSON_GetArraySize(l.items), 2);
	k8s_list_free(&l);
	cr_assert_eq(k8s_list_parse(last, strlen(last), &l, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(l.cont, "");
	cr_expect_eq(cJSON_GetArraySize(l.items), 0);
	k8s_list_free(&l);
}

Test(k8s_watch, hostile_lists)
{
	static const char *const bad[] = {
		"{\"metadata\":{\"resourceVersion\":\"1\"}}",
		"{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":{}}",
		"{\"metadata\":{},\"items\":[]}",
		"{\"metadata\":{\"resourceVersion\":\"1 2\"},\"items\":[]}",
		"{\"metadata\":{\"resourceVersion\":\"1\",\"continue\":7},\"items\":[]}",
		"[1]",
	};

	EXPECT_REFUSED(parse_list, bad);
}

/* A watch line around a fixture: {"type":TYPE,"object":<fixture>}. */
static char *watch_line(const char *type, const char *fixture, size_t *len)
{
	size_t n;
	char *obj = fixture_read(fixture, &n), *line = malloc(n + 64);

	*len = (size_t)sprintf(line, "{\"type\":\"%s\",\"object\":%s}", type, obj);
	free(obj);
	return line;
}

Test(k8s_watch, events_of_a_pod_watch)
{
	static const char *const types[] = { "ADDED", "MODIFIED", "DELETED" };
	struct k8s_watch_event ev;
	struct k8s_pod p;
	char err[K8S_ERR_MAX];

	for (int t = 0; t < 3; t++) {
		size_t len;
		char *line = watch_line(types[t], "pod_deployment.json", &len);
		struct guard g = guard_new(len);

		cr_assert_eq(k8s_watch_parse(guard_put(&g, line, len), len, &ev, err, sizeof(err)), 0, "%s", err);
		cr_expect_eq(ev.type, (enum k8s_watch_type)t);
		cr_expect_str_eq(ev.rv, "48213");
		cr_assert_eq(k8s_pod_from_json(ev.object, NULL, &p, err, sizeof(err)), 0, "%s", err);
		cr_expect_str_eq(p.workload, "checkout");
		k8s_watch_event_free(&ev);
		free(line);
	}
}

Test(k8s_watch, bookmark_and_gone)
{
	static const char bookmark[] =
		"{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":"
		"{\"resourceVersion\":\"50120\",\"creationTimestamp\":null,\"annotations\":"
		"{\"k8s.io/initial-events-end\":\"true\"}},\"spec\":{\"containers\":null},\"status\":{}}}";
	static const char gone[] =
		"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
		"\"status\":\"Failure\",\"message\":\"too old resource version: 48213 (50120)\",\"reason\":\"Expired\","
		"\"code\":410}}";
	struct k8s_watch_event ev;
	char err[K8S_ERR_MAX];

	cr_assert_eq(k8s_watch_parse(bookmark, strlen(bookmark), &ev, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(ev.type, K8S_WATCH_BOOKMARK);
	cr_expect_str_eq(ev.rv, "50120");
	k8s_watch_event_free(&ev);
	cr_assert_eq(k8s_watch_parse(gone, strlen(gone), &ev, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(ev.type, K8S_WATCH_ERROR);
	cr_expect_eq(ev.code, 410);
	k8s_watch_event_free(&ev);
}

Test(k8s_watch, hostile_watch_lines)
{
	static const char *const bad[] = {
		"", "\n", "{}", "[]", "{\"type\":\"ADDED\"}", "{\"type\":\"ADDED\",\"object\":[]}",
		"{\"type\":\"added\",\"object\":{}}", "{\"type\":7,\"object\":{}}",
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"a b\"}}}",
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":7}}}",
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":"
		"\"12345678901234567890123456789012345678901234567890123456789012345\"}}}",
		"{\"type\":\"ADDED\",\"object\":{",
	};

	EXPECT_REFUSED(parse_watch, bad);
}

Test(k8s_watch, an_error_without_a_code)
{
	static const char line[] = "{\"type\":\"ERROR\",\"object\":{\"code\":\"410\"}}";
	struct k8s_watch_event ev;
	char err[K8S_ERR_MAX];

	cr_assert_eq(k8s_watch_parse(line, strlen(line), &ev, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(ev.code, 0, "a code that is not a number is none");
	k8s_watch_event_free(&ev);
}
