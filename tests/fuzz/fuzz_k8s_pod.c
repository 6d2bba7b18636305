/*
 * libFuzzer target for user/meta/k8s_pod.c, k8s_watch.c and k8s_fields.c:
 * any bytes as a Pod, a Service, a list page and a watch line (an exact-size
 * heap copy, so ASan sees any over-read). Besides memory errors it checks
 * the contract: an accepted object's strings have the forms Kubernetes
 * enforces (the ones names and tags are made of), its counts are within
 * their bounds, and a refusal always says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meta/k8s_pod.h"
#include "meta/k8s_watch.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

static const char *const labels[] = { "app", "app.kubernetes.io/name" };
static const struct k8s_pod_opts opts = { labels, 2 };

static void check_hex(const char *s)
{
	CHECK(s[0] == '\0' || strlen(s) == K8S_CONTAINER_ID_LEN);
	for (; *s; s++)
		CHECK((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'));
}

static void check_pod(const struct k8s_pod *p)
{
	CHECK(k8s_check(K8S_CHECK_LABEL, p->ns));
	CHECK(k8s_check(K8S_CHECK_SUBDOMAIN, p->name));
	CHECK(k8s_check(K8S_CHECK_SUBDOMAIN, p->workload));
	CHECK(p->node[0] == '\0' || k8s_check(K8S_CHECK_SUBDOMAIN, p->node));
	CHECK(strlen(p->uid) == K8S_UID_LEN);
	CHECK(p->service_name[0] == '\0' || k8s_check(K8S_CHECK_LABEL_VALUE, p->service_name));
	CHECK(p->nips <= K8S_POD_MAX_IPS && p->ncontainers <= K8S_POD_MAX_CONTAINERS);
	CHECK(p->phase <= K8S_PHASE_FAILED && p->workload_kind <= K8S_WORKLOAD_OTHER);
	CHECK(p->labels_set < (1u << opts.nlabels));
	for (unsigned i = 0; i < opts.nlabels; i++)
		CHECK(k8s_check(K8S_CHECK_LABEL_VALUE, p->labels[i]));
	for (unsigned i = 0; i < p->nips; i++)
		CHECK(p->ips[i].family != 0);
	for (unsigned i = 0; i < p->ncontainers; i++) {
		CHECK(k8s_check(K8S_CHECK_LABEL, p->containers[i].name));
		check_hex(p->containers[i].id);
		CHECK(!p->containers[i].id[0] || k8s_pod_container(p, p->containers[i].id));
	}
	/* with no controller, the workload is the pod */
	CHECK(p->workload_kind != K8S_WORKLOAD_NONE || strcmp(p->workload, p->name) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1), err[K8S_ERR_MAX];
	struct k8s_pod pod;
	struct k8s_service svc;
	struct k8s_list list;
	struct k8s_watch_event ev;

	memcpy(buf, data, size);
	err[0] = '\0';
	if (k8s_pod_parse(buf, size, &opts, &pod, err, sizeof(err)) == 0)
		check_pod(&pod);
	else
		CHECK(err[0]);
	err[0] = '\0';
	if (k8s_service_parse(buf, size, &svc, err, sizeof(err)) == 0)
		CHECK(k8s_check(K8S_CHECK_LABEL, svc.ns) && k8s_check(K8S_CHECK_LABEL, svc.name) &&
		      svc.nips <= K8S_SERVICE_MAX_IPS);
	else
		CHECK(err[0]);
	if (k8s_list_parse(buf, size, &list, err, sizeof(err)) == 0) {
		CHECK(list.rv[0] && cJSON_IsArray(list.items));
		k8s_list_free(&list);
	}
	if (k8s_watch_parse(buf, size, &ev, err, sizeof(err)) == 0) {
		CHECK(ev.object && ev.type <= K8S_WATCH_ERROR);
		if (ev.type != K8S_WATCH_ERROR && k8s_pod_from_json(ev.object, &opts, &pod, err, sizeof(err)) == 0)
			check_pod(&pod);
		k8s_watch_event_free(&ev);
	}
	free(buf);
	return 0;
}
