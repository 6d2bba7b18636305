/* The pod and Service store: lookups by uid, container id and address,
 * watch updates, re-lists that drop what vanished, caps, and a writer
 * thread racing a reader. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include "k8s_fixtures.h"
#include "meta/k8s_store.h"

#define UID_DEPLOY "6f0c8a4e-7c7c-4f0e-9e2a-1b2c3d4e5f60"
#define CID_ENVOY "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static struct k8s_pod pod_of(const char *fixture)
{
	cJSON *j = fixture_json(fixture);
	struct k8s_pod p;
	char err[K8S_ERR_MAX];

	cr_assert_eq(k8s_pod_from_json(j, NULL, &p, err, sizeof(err)), 0, "%s", err);
	cJSON_Delete(j);
	return p;
}

static struct k8s_service service_of(const char *fixture)
{
	cJSON *j = fixture_json(fixture);
	struct k8s_service s;
	char err[K8S_ERR_MAX];

	cr_assert_eq(k8s_service_from_json(j, &s, err, sizeof(err)), 0, "%s", err);
	cJSON_Delete(j);
	return s;
}

/* The store's answer for a textual address: "" for none, else the pod's or "svc:<name>". */
static const char *who(struct k8s_store *st, const char *text)
{
	static char out[300];
	uint8_t addr[16] = { 0 };
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;
	struct k8s_pod p;
	struct k8s_service s;

	cr_assert_eq(inet_pton(family, text, addr), 1, "%s", text);
	switch (k8s_store_by_ip(st, family, addr, &p, &s)) {
	case K8S_PEER_POD:
		snprintf(out, sizeof(out), "%s", p.name);
		break;
	case K8S_PEER_SERVICE:
		snprintf(out, sizeof(out), "svc:%s", s.name);
		break;
	default:
		out[0] = '\0';
	}
	return out;
}

static struct k8s_store *full_store(void)
{
	static const char *const pods[] = { "pod_deployment.json", "pod_statefulset.json", "pod_daemonset.json",
					    "pod_cronjob.json", "pod_bare.json" };
	struct k8s_store *st = k8s_store_new(K8S_STORE_MAX_PODS, K8S_STORE_MAX_SERVICES);
	struct k8s_service svc = service_of("service.json");

	cr_assert_not_null(st);
	for (size_t i = 0; i < sizeof(pods) / sizeof(pods[0]); i++) {
		struct k8s_pod p = pod_of(pods[i]);

		cr_assert_eq(k8s_store_put_pod(st, &p), 0);
	}
	cr_assert_eq(k8s_store_put_service(st, &svc), 0);
	return st;
}

Test(k8s_store, lookups_by_uid_container_and_address)
{
	struct k8s_store *st = full_store();
	struct k8s_store_stats stats;
	struct k8s_pod p;

	cr_assert(k8s_store_pod(st, UID_DEPLOY, &p));
	cr_expect_str_eq(p.workload, "checkout");
	cr_assert(k8s_store_pod_by_container(st, CID_ENVOY, &p));
	cr_expect_str_eq(p.uid, UID_DEPLOY);
	cr_expect_not(k8s_store_pod(st, "00000000-0000-0000-0000-000000000000", &p));
	cr_expect_str_eq(who(st, "10.244.1.17"), "checkout-7d4b9c8f6d-x2x9k");
	cr_expect_str_eq(who(st, "fd00:10:244:1::11"), "checkout-7d4b9c8f6d-x2x9k");
	cr_expect_str_eq(who(st, "::ffff:10.244.1.5"), "redis-0", "IPv4-mapped is IPv4");
	cr_expect_str_eq(who(st, "10.96.14.7"), "svc:checkout");
	cr_expect_str_eq(who(st, "fd00:10:96::e07"), "svc:checkout");
	/* the node's address is every host-network pod's: it names none */
	cr_expect_str_eq(who(st, "10.0.0.11"), "");
	/* a finished pod's address may already be another's */
	cr_expect_str_eq(who(st, "10.244.1.31"), "");
	k8s_store_stats(st, &stats);
	cr_expect_eq(stats.pods, 5);
	cr_expect_eq(stats.services, 1);
	cr_expect_eq(stats.dropped_full, 0);
	k8s_store_free(st);
}

Test(k8s_store, modified_and_deleted)
{
	struct k8s_store *st = full_store();
	struct k8s_pod p = pod_of("pod_deployment.json"), got;
	uint64_t gen = k8s_store_generation(st);
	struct k8s_store_stats stats;

	/* MODIFIED: a new address and no envoy container */
	inet_pton(AF_INET, "10.244.1.99", p.ips[0].addr);
	p.ncontainers = 2;
	cr_assert_eq(k8s_store_put_pod(st, &p), 0);
	cr_expect_neq(k8s_store_generation(st), gen);
	cr_expect_str_eq(who(st, "10.244.1.17"), "");
	cr_expect_str_eq(who(st, "10.244.1.99"), "checkout-7d4b9c8f6d-x2x9k");
	cr_expect_not(k8s_store_pod_by_container(st, CID_ENVOY, &got));
	k8s_store_stats(st, &stats);
	cr_expect_eq(stats.pods, 5);
	/* DELETED */
	k8s_store_delete_pod(st, UID_DEPLOY);
	k8s_store_delete_pod(st, UID_DEPLOY);
	k8s_store_delete_service(st, "shop", "checkout");
	k8s_store_delete_service(st, "shop", "nothing");
	cr_expect_not(k8s_store_pod(st, UID_DEPLOY, &got));
	cr_expect_str_eq(who(st, "10.244.1.99"), "");
	cr_expect_str_eq(who(st, "10.96.14.7"), "");
	k8s_store_stats(st, &stats);
	cr_expect_eq(stats.pods, 4);
	cr_expect_eq(stats.services, 0);
	k8s_store_free(st);
}

Test(k8s_store, a_relist_replaces_the_whole_set)
{
	struct k8s_store *st = full_store();
	struct k8s_set *fresh = k8s_set_new(st, K8S_PODS);
	struct k8s_pod p = pod_of("pod_statefulset.json"), got;
	struct k8s_store_stats stats;

	cr_assert_not_null(fresh);
	cr_assert_eq(k8s_set_put_pod(fresh, &p), 0);
	k8s_store_replace(st, fresh);
	cr_expect_not(k8s_store_pod(st, UID_DEPLOY, &got), "a pod gone during the disconnect stays gone");
	cr_expect(k8s_store_pod(st, p.uid, &got));
	cr_expect_str_eq(who(st, "10.244.1.17"), "");
	cr_expect_str_eq(who(st, "10.96.14.7"), "svc:checkout", "the Services' set is another");
	k8s_store_stats(st, &stats);
	cr_expect_eq(stats.pods, 1);
	k8s_store_free(st);
}

Test(k8s_store, a_shared_address_names_the_newest_until_it_goes)
{
	struct k8s_store *st = k8s_store_new(8, 8);
	struct k8s_pod a = pod_of("pod_statefulset.json"), b = a;

	strcpy(b.name, "redis-1");
	b.uid[0] = 'f';
	cr_assert_eq(k8s_store_put_pod(st, &a), 0);
	cr_assert_eq(k8s_store_put_pod(st, &b), 0);
	cr_expect_str_eq(who(st, "10.244.1.5"), "redis-1");
	k8s_store_delete_pod(st, b.uid);
	cr_expect_str_eq(who(st, "10.244.1.5"), "redis-0");
	k8s_store_free(st);
}

Test(k8s_store, caps_are_kept_and_counted)
{
	struct k8s_store *st = k8s_store_new(2, 1);
	struct k8s_pod a = pod_of("pod_statefulset.json"), b = pod_of("pod_bare.json"), c = pod_of("pod_cronjob.json");
	struct k8s_service s1 = service_of("service.json"), s2 = service_of("service_headless.json");
	struct k8s_store_stats stats;

	cr_assert_eq(k8s_store_put_pod(st, &a), 0);
	cr_assert_eq(k8s_store_put_pod(st, &b), 0);
	cr_expect_eq(k8s_store_put_pod(st, &c), -1);
	cr_expect_eq(k8s_store_put_pod(st, &a), 0, "a full set still takes updates");
	cr_assert_eq(k8s_store_put_service(st, &s1), 0);
	cr_expect_eq(k8s_store_put_service(st, &s2), -1);
	k8s_store_stats(st, &stats);
	cr_expect_eq(stats.pods, 2);
	cr_expect_eq(stats.services, 1);
	cr_expect_eq(stats.dropped_full, 2);
	k8s_store_free(st);
}

struct race {
	struct k8s_store *st;
	struct k8s_pod pods[3];
	atomic_bool done;
};

static void *writer(void *arg)
{
	struct race *r = arg;

	for (int round = 0; round < 300; round++) {
		struct k8s_set *fresh = k8s_set_new(r->st, K8S_PODS);

		cr_assert_not_null(fresh);
		for (int i = 0; i < 3; i++)
			k8s_set_put_pod(fresh, &r->pods[i]);
		k8s_store_replace(r->st, fresh);
		k8s_store_delete_pod(r->st, r->pods[round % 3].uid);
		k8s_store_put_pod(r->st, &r->pods[round % 3]);
	}
	atomic_store(&r->done, true);
	return NULL;
}

Test(k8s_store, a_writer_racing_a_reader)
{
	static struct race r;
	pthread_t t;
	struct k8s_pod got;
	unsigned long found = 0;

	r.st = k8s_store_new(8, 8);
	r.pods[0] = pod_of("pod_deployment.json");
	r.pods[1] = pod_of("pod_statefulset.json");
	r.pods[2] = pod_of("pod_bare.json");
	pthread_create(&t, NULL, writer, &r);
	/* At least one pass even if the writer is done first: at most one pod
	 * is ever missing, so found counts something whatever the schedule. */
	do {
		for (int i = 0; i < 3; i++)
			if (k8s_store_pod(r.st, r.pods[i].uid, &got)) {
				/* a whole copy, never a torn one */
				cr_assert_eq(memcmp(&got, &r.pods[i], sizeof(got)), 0);
				found++;
			}
	} while (!atomic_load(&r.done));
	pthread_join(t, NULL);
	cr_expect_gt(found, 0);
	k8s_store_free(r.st);
}
