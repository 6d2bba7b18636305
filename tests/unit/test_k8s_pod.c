/* Pods as the API server returns them (Deployment, StatefulSet, DaemonSet,
 * CronJob and bare pods), and hostile ones: truncated, wrong types,
 * malformed or oversize fields are refused with a reason, never a crash. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "guard_page.h"
#include "k8s_fixtures.h"
#include "meta/k8s_pod.h"

static const char *const wanted[] = { "app.kubernetes.io/name", "team" };
static const struct k8s_pod_opts opts = { wanted, 2 };

#define CID_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CID_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define CID_INIT "1111111111111111111111111111111111111111111111111111111111111111"

/* The fixture parsed from a buffer that ends at an unmapped page. */
static void parse_fixture(const char *name, struct k8s_pod *p)
{
	size_t len;
	char *buf = fixture_read(name, &len), err[K8S_ERR_MAX];
	struct guard g = guard_new(len);
	const char *at = guard_put(&g, buf, len);

	cr_assert_eq(k8s_pod_parse(at, len, &opts, p, err, sizeof(err)), 0, "%s: %s", name, err);
	free(buf);
}

static void expect_ip(const struct k8s_ip *ip, int family, const char *text)
{
	uint8_t want[16] = { 0 };

	cr_assert_eq(inet_pton(family, text, want), 1);
	cr_expect_eq(ip->family, family, "%s", text);
	cr_expect_arr_eq(ip->addr, want, 16, "%s", text);
}

Test(k8s_pod, deployment_pod)
{
	struct k8s_pod p;

	parse_fixture("pod_deployment.json", &p);
	cr_expect_str_eq(p.ns, "shop");
	cr_expect_str_eq(p.name, "checkout-7d4b9c8f6d-x2x9k");
	cr_expect_str_eq(p.uid, "6f0c8a4e-7c7c-4f0e-9e2a-1b2c3d4e5f60");
	cr_expect_str_eq(p.node, "worker-1");
	cr_expect_eq(p.phase, K8S_PHASE_RUNNING);
	cr_expect_not(p.host_network);
	cr_expect_eq(p.workload_kind, K8S_WORKLOAD_DEPLOYMENT);
	cr_expect_str_eq(p.workload, "checkout");
	cr_expect_str_eq(k8s_workload_tag(p.workload_kind), "k8s.deployment.name");
	cr_expect_str_eq(p.service_name, "");
	cr_assert_eq(p.nips, 2);
	expect_ip(&p.ips[0], AF_INET, "10.244.1.17");
	expect_ip(&p.ips[1], AF_INET6, "fd00:10:244:1::11");
	cr_expect_eq(p.labels_set, 1u, "only the first wanted label is there");
	cr_expect_str_eq(p.labels[0], "checkout");
	/* init containers first, then the others */
	cr_assert_eq(p.ncontainers, 3);
	cr_expect_str_eq(p.containers[0].name, "migrate");
	cr_expect_str_eq(p.containers[0].id, CID_INIT);
	cr_expect_str_eq(p.containers[1].name, "checkout");
	cr_expect_str_eq(p.containers[2].name, "envoy");
	cr_expect_str_eq(k8s_pod_container(&p, CID_B)->name, "envoy");
	cr_expect_str_eq(k8s_pod_container(&p, CID_A)->name, "checkout");
	cr_expect_null(k8s_pod_container(&p, "ffff"));
	cr_expect_eq(p.containers_dropped, 0);
}

Test(k8s_pod, statefulset_pod_on_crio)
{
	struct k8s_pod p;

	parse_fixture("pod_statefulset.json", &p);
	cr_expect_eq(p.workload_kind, K8S_WORKLOAD_STATEFULSET);
	cr_expect_str_eq(p.workload, "redis");
	cr_expect_str_eq(k8s_workload_tag(p.workload_kind), "k8s.statefulset.name");
	cr_assert_eq(p.ncontainers, 1);
	/* capitals in the id come out lowercase, as the cgroup parser gives them */
	cr_expect_str_eq(p.containers[0].id, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
	cr_assert_eq(p.nips, 1);
	expect_ip(&p.ips[0], AF_INET, "10.244.1.5");
}

Test(k8s_pod, daemonset_pod_on_the_host_network)
{
	struct k8s_pod p;

	parse_fixture("pod_daemonset.json", &p);
	cr_expect_eq(p.workload_kind, K8S_WORKLOAD_DAEMONSET);
	cr_expect_str_eq(p.workload, "node-exporter");
	cr_expect(p.host_network);
	cr_expect_str_eq(p.containers[0].id, "2222222222222222222222222222222222222222222222222222222222222222");
}

Test(k8s_pod, cronjob_pod)
{
	struct k8s_pod p;

	parse_fixture("pod_cronjob.json", &p);
	cr_expect_eq(p.workload_kind, K8S_WORKLOAD_CRONJOB);
	cr_expect_str_eq(p.workload, "nightly-backup");
	cr_expect_str_eq(k8s_workload_tag(p.workload_kind), "k8s.cronjob.name");
	cr_expect_eq(p.phase, K8S_PHASE_SUCCEEDED);
}

Test(k8s_pod, bare_pod_with_its_service_name_and_a_waiting_container)
{
	struct k8s_pod p;

	parse_fixture("pod_bare.json", &p);
	cr_expect_eq(p.workload_kind, K8S_WORKLOAD_NONE);
	cr_expect_str_eq(p.workload, "debug");
	cr_expect_null(k8s_workload_tag(p.workload_kind));
	cr_expect_str_eq(p.service_name, "debug-shell");
	cr_expect_eq(p.phase, K8S_PHASE_PENDING);
	cr_expect_eq(p.nips, 0);
	cr_assert_eq(p.ncontainers, 1);
	cr_expect_str_eq(p.containers[0].id, "");
	cr_expect_null(k8s_pod_container(&p, ""), "a container without an id matches nothing");
}

/* The deployment fixture with one change made by edit. */
static int parse_edited(void (*edit)(cJSON *pod), struct k8s_pod *p, char *err, size_t cap)
{
	cJSON *j = fixture_json("pod_deployment.json");
	int r;

	edit(j);
	r = k8s_pod_from_json(j, &opts, p, err, cap);
	cJSON_Delete(j);
	return r;
}

static cJSON *meta(cJSON *pod)
{
	return cJSON_GetObjectItem(pod, "metadata");
}

static cJSON *owner(cJSON *pod)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(meta(pod), "ownerReferences"), 0);
}

static void rs_not_of_this_hash(cJSON *pod)
{
	cJSON_ReplaceItemInObject(owner(pod), "name", cJSON_CreateString("checkout-5555555555"));
}

static void job_with_a_short_suffix(cJSON *pod)
{
	cJSON_ReplaceItemInObject(owner(pod), "kind", cJSON_CreateString("Job"));
	cJSON_ReplaceItemInObject(owner(pod), "name", cJSON_CreateString("migrate-2"));
}

/* Cutting the hash or the schedule would leave "checkout-": no name. */
static void rs_with_a_double_dash(cJSON *pod)
{
	cJSON_ReplaceItemInObject(owner(pod), "name", cJSON_CreateString("checkout--7d4b9c8f6d"));
}

static void job_with_a_double_dash(cJSON *pod)
{
	cJSON_ReplaceItemInObject(owner(pod), "kind", cJSON_CreateString("Job"));
	cJSON_ReplaceItemInObject(owner(pod), "name", cJSON_CreateString("nightly--28930125"));
}

static void other_kind(cJSON *pod)
{
	cJSON_ReplaceItemInObject(owner(pod), "kind", cJSON_CreateString("Rollout"));
	cJSON_ReplaceItemInObject(owner(pod), "name", cJSON_CreateString("checkout-canary"));
}

static void owner_not_controller(cJSON *pod)
{
	cJSON_ReplaceItemInObject(owner(pod), "controller", cJSON_CreateFalse());
}

Test(k8s_pod, workloads_from_owner_references)
{
	struct k8s_pod p;
	char err[K8S_ERR_MAX];

	cr_assert_eq(parse_edited(rs_not_of_this_hash, &p, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(p.workload_kind, K8S_WORKLOAD_REPLICASET);
	cr_expect_str_eq(p.workload, "checkout-5555555555");
	cr_assert_eq(parse_edited(job_with_a_short_suffix, &p, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(p.workload_kind, K8S_WORKLOAD_JOB);
	cr_expect_str_eq(p.workload, "migrate-2");
	cr_assert_eq(parse_edited(rs_with_a_double_dash, &p, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(p.workload_kind, K8S_WORKLOAD_REPLICASET);
	cr_expect_str_eq(p.workload, "checkout--7d4b9c8f6d");
	cr_assert_eq(parse_edited(job_with_a_double_dash, &p, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(p.workload_kind, K8S_WORKLOAD_JOB);
	cr_expect_str_eq(p.workload, "nightly--28930125");
	cr_assert_eq(parse_edited(other_kind, &p, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(p.workload_kind, K8S_WORKLOAD_OTHER);
	cr_expect_str_eq(p.workload, "checkout-canary");
	cr_expect_null(k8s_workload_tag(p.workload_kind));
	cr_assert_eq(parse_edited(owner_not_controller, &p, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(p.workload_kind, K8S_WORKLOAD_NONE);
	cr_expect_str_eq(p.workload, "checkout-7d4b9c8f6d-x2x9k");
}

static void no_uid(cJSON *pod) { cJSON_DeleteItemFromObject(meta(pod), "uid"); }
static void uid_not_a_uid(cJSON *pod) { cJSON_ReplaceItemInObject(meta(pod), "uid", cJSON_CreateString("6f0c8a4e-7c7c-4f0e-9e2a-1b2c3d4e5f6")); }
static void name_a_number(cJSON *pod) { cJSON_ReplaceItemInObject(meta(pod), "name", cJSON_CreateNumber(7)); }
static void name_capitals(cJSON *pod) { cJSON_ReplaceItemInObject(meta(pod), "name", cJSON_CreateString("Checkout")); }
static void namespace_with_a_dot(cJSON *pod) { cJSON_ReplaceItemInObject(meta(pod), "namespace", cJSON_CreateString("a.b")); }
static void no_namespace(cJSON *pod) { cJSON_DeleteItemFromObject(meta(pod), "namespace"); }
static void metadata_an_array(cJSON *pod) { cJSON_ReplaceItemInObject(pod, "metadata", cJSON_CreateArray()); }
static void labels_a_string(cJSON *pod) { cJSON_ReplaceItemInObject(meta(pod), "labels", cJSON_CreateString("x")); }
static void owners_an_object(cJSON *pod) { cJSON_ReplaceItemInObject(meta(pod), "ownerReferences", cJSON_CreateObject()); }
static void owner_without_name(cJSON *pod) { cJSON_DeleteItemFromObject(owner(pod), "name"); }

static void name_too_long(cJSON *pod)
{
	char name[300];

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	cJSON_ReplaceItemInObject(meta(pod), "name", cJSON_CreateString(name));
}

static void label_value_bad(cJSON *pod)
{
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(meta(pod), "labels"), "app.kubernetes.io/name",
				  cJSON_CreateString("a b"));
}

static cJSON *status(cJSON *pod)
{
	return cJSON_GetObjectItem(pod, "status");
}

static void ip_bad(cJSON *pod) { cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(status(pod), "podIPs"), 0), "ip", cJSON_CreateString("10.244.1.300")); }
static void ips_a_string(cJSON *pod) { cJSON_ReplaceItemInObject(status(pod), "podIPs", cJSON_CreateString("10.0.0.1")); }
static void status_a_number(cJSON *pod) { cJSON_ReplaceItemInObject(pod, "status", cJSON_CreateNumber(1)); }
static void spec_a_string(cJSON *pod) { cJSON_ReplaceItemInObject(pod, "spec", cJSON_CreateString("x")); }

static void ips_too_many(cJSON *pod)
{
	cJSON *ips = cJSON_GetObjectItem(status(pod), "podIPs");
	char ip[32];

	for (int i = 0; i < K8S_POD_MAX_IPS; i++) {
		cJSON *e = cJSON_CreateObject();

		snprintf(ip, sizeof(ip), "10.9.9.%d", i);
		cJSON_AddStringToObject(e, "ip", ip);
		cJSON_AddItemToArray(ips, e);
	}
}

static cJSON *first_container(cJSON *pod)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(status(pod), "containerStatuses"), 0);
}

static void cid_short(cJSON *pod) { cJSON_ReplaceItemInObject(first_container(pod), "containerID", cJSON_CreateString("containerd://0123")); }
static void cid_no_scheme(cJSON *pod) { cJSON_ReplaceItemInObject(first_container(pod), "containerID", cJSON_CreateString(CID_A)); }
static void cid_bad_scheme(cJSON *pod) { cJSON_ReplaceItemInObject(first_container(pod), "containerID", cJSON_CreateString("con tainerd://" CID_A)); }
static void container_no_name(cJSON *pod) { cJSON_DeleteItemFromObject(first_container(pod), "name"); }
static void containers_an_object(cJSON *pod) { cJSON_ReplaceItemInObject(status(pod), "containerStatuses", cJSON_CreateObject()); }

Test(k8s_pod, hostile_fields_are_refused_with_a_reason)
{
	static const struct {
		void (*edit)(cJSON *);
		const char *reason;
	} cases[] = {
		{ no_uid, "metadata.uid" },
		{ uid_not_a_uid, "metadata.uid" },
		{ name_a_number, "metadata.name: not a string" },
		{ name_capitals, "metadata.name: malformed" },
		{ name_too_long, "metadata.name: too long" },
		{ namespace_with_a_dot, "metadata.namespace: malformed" },
		{ no_namespace, "metadata.namespace: missing" },
		{ metadata_an_array, "metadata: missing" },
		{ labels_a_string, "metadata.labels: not an object" },
		{ label_value_bad, "metadata.labels: malformed" },
		{ owners_an_object, "metadata.ownerReferences: not an array" },
		{ owner_without_name, "metadata.ownerReferences[]" },
		{ ip_bad, "status.podIPs[].ip: not an IP address" },
		{ ips_a_string, "status.podIPs: not an array" },
		{ ips_too_many, "status.podIPs[].ip: too many addresses" },
		{ status_a_number, "status: not an object" },
		{ spec_a_string, "spec: not an object" },
		{ cid_short, "id is not 64 hex digits" },
		{ cid_no_scheme, "not <runtime>://<id>" },
		{ cid_bad_scheme, "bad runtime name" },
		{ container_no_name, "status.containerStatuses[].name" },
		{ containers_an_object, "containerStatuses: not an array" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct k8s_pod p;
		char err[K8S_ERR_MAX] = "";

		cr_expect_eq(parse_edited(cases[i].edit, &p, err, sizeof(err)), -1, "case %zu accepted", i);
		cr_expect(strstr(err, cases[i].reason), "case %zu: reason '%s', expected '%s'", i, err, cases[i].reason);
	}
}

static void bad_annotation(cJSON *pod)
{
	cJSON *ann = cJSON_CreateObject();

	cJSON_AddStringToObject(ann, K8S_SERVICE_ANNOTATION, "two words");
	cJSON_AddItemToObject(meta(pod), "annotations", ann);
}

Test(k8s_pod, a_malformed_service_annotation_is_ignored)
{
	struct k8s_pod p;
	char err[K8S_ERR_MAX];

	cr_assert_eq(parse_edited(bad_annotation, &p, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(p.service_name, "");
	cr_expect_str_eq(p.workload, "checkout");
}

static void many_containers(cJSON *pod)
{
	cJSON *list = cJSON_GetObjectItem(status(pod), "containerStatuses");

	for (int i = 0; i < K8S_POD_MAX_CONTAINERS; i++) {
		cJSON *c = cJSON_CreateObject();
		char name[24];

		snprintf(name, sizeof(name), "side-%d", i);
		cJSON_AddStringToObject(c, "name", name);
		cJSON_AddItemToArray(list, c);
	}
}

Test(k8s_pod, containers_beyond_the_bound_are_counted)
{
	struct k8s_pod p;
	char err[K8S_ERR_MAX];

	cr_assert_eq(parse_edited(many_containers, &p, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(p.ncontainers, K8S_POD_MAX_CONTAINERS);
	cr_expect_eq(p.containers_dropped, 3);
}

Test(k8s_pod, every_truncation_and_non_objects_are_refused)
{
	static const char *const junk[] = { "", "null", "[]", "\"pod\"", "42", "{}", "{\"metadata\":{}}", "{\"metadata\":null}" };
	size_t len;
	char *buf = fixture_read("pod_statefulset.json", &len), err[K8S_ERR_MAX];
	struct guard g = guard_new(len);
	struct k8s_pod p;

	for (size_t n = 0; n < len - 1; n++)
		cr_assert_eq(k8s_pod_parse(guard_put(&g, buf, n), n, &opts, &p, err, sizeof(err)), -1, "prefix %zu", n);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		cr_expect_eq(k8s_pod_parse(junk[i], strlen(junk[i]), NULL, &p, err, sizeof(err)), -1, "%s", junk[i]);
	cr_expect_eq(k8s_pod_parse(buf, K8S_OBJECT_MAX + 1, NULL, &p, err, sizeof(err)), -1);
	cr_expect(strstr(err, "too large"), "%s", err);
	free(buf);
}
