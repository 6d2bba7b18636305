/* Which pods --namespace, --pod, --selector and --exclude-namespace pick:
 * option values checked, positive options ORed, a selector's pairs ANDed,
 * exclusion over everything; labels kept after the name template's. */
#include <criterion/criterion.h>
#include <string.h>

#include "k8s_fixtures.h"
#include "meta/k8s_select.h"

/* A template reading one label, so the selector's keys start at 1. */
#define TEMPLATE "{label:app.kubernetes.io/part-of}.{workload}"

struct pick {
	struct k8s_template t;
	struct k8s_select s;
};

static void add(struct k8s_select *s, enum k8s_select_kind kind, const char *arg)
{
	char err[K8S_ERR_MAX];

	cr_assert_eq(k8s_select_add(s, kind, arg, err, sizeof(err)), 0, "%s: %s", arg, err);
}

/* Is the fixture's pod picked by s, parsed as main parses pods? */
static bool picks(struct pick *p, const char *fixture)
{
	const char *keys[K8S_POD_MAX_LABELS];
	struct k8s_pod_opts o = k8s_select_pod_opts(&p->s, &p->t, keys);
	cJSON *j = fixture_json(fixture);
	struct k8s_pod pod;
	char err[K8S_ERR_MAX];

	cr_assert_eq(k8s_pod_from_json(j, &o, &pod, err, sizeof(err)), 0, "%s", err);
	cJSON_Delete(j);
	return k8s_select_match(&p->s, &pod, p->t.nlabels);
}

static struct pick *fresh(void)
{
	static struct pick p;
	char err[K8S_ERR_MAX];

	memset(&p, 0, sizeof(p));
	cr_assert_eq(k8s_template_parse(TEMPLATE, &p.t, err, sizeof(err)), 0);
	return &p;
}

/* shop/checkout-7d4b9c8f6d-x2x9k (app.kubernetes.io/name=checkout) and cache/redis-0 (app=redis). */
#define SHOP "pod_deployment.json"
#define CACHE "pod_statefulset.json"

Test(k8s_select, no_option_picks_every_pod)
{
	struct pick *p = fresh();

	cr_expect(!k8s_select_active(&p->s));
	cr_expect(picks(p, SHOP) && picks(p, CACHE));
}

Test(k8s_select, namespaces)
{
	struct pick *p = fresh();

	add(&p->s, K8S_SELECT_NAMESPACE, "shop");
	cr_expect(k8s_select_active(&p->s));
	cr_expect(picks(p, SHOP));
	cr_expect(!picks(p, CACHE));
	add(&p->s, K8S_SELECT_NAMESPACE, "cache");
	cr_expect(picks(p, SHOP) && picks(p, CACHE));
}

Test(k8s_select, pods_by_namespace_and_name)
{
	struct pick *p = fresh();

	add(&p->s, K8S_SELECT_POD, "cache/redis-0");
	cr_expect(picks(p, CACHE));
	cr_expect(!picks(p, SHOP));
	p = fresh();
	add(&p->s, K8S_SELECT_POD, "shop/redis-0"); /* the name in another namespace */
	cr_expect(!picks(p, CACHE));
}

Test(k8s_select, a_selector_needs_every_pair_and_selectors_are_ored)
{
	struct pick *p = fresh();

	add(&p->s, K8S_SELECT_LABELS, "app.kubernetes.io/name=checkout,app.kubernetes.io/part-of=shop");
	cr_expect(picks(p, SHOP));
	cr_expect(!picks(p, CACHE));
	p = fresh();
	add(&p->s, K8S_SELECT_LABELS, "app.kubernetes.io/name=checkout,app.kubernetes.io/part-of=other");
	cr_expect(!picks(p, SHOP));
	add(&p->s, K8S_SELECT_LABELS, "app=redis");
	cr_expect(!picks(p, SHOP));
	cr_expect(picks(p, CACHE));
	cr_expect_eq(p->s.nkeys, 3, "keys shared between selectors are kept once");
}

Test(k8s_select, an_empty_value_is_not_a_missing_label)
{
	struct pick *p = fresh();

	add(&p->s, K8S_SELECT_LABELS, "app=");
	cr_expect(!picks(p, SHOP) && !picks(p, CACHE));
}

Test(k8s_select, positive_options_are_ored)
{
	struct pick *p = fresh();

	add(&p->s, K8S_SELECT_NAMESPACE, "nowhere");
	add(&p->s, K8S_SELECT_POD, "shop/checkout-7d4b9c8f6d-x2x9k");
	add(&p->s, K8S_SELECT_LABELS, "app=redis");
	cr_expect(picks(p, SHOP) && picks(p, CACHE));
}

Test(k8s_select, excluded_namespaces_win)
{
	struct pick *p = fresh();

	add(&p->s, K8S_SELECT_EXCLUDE_NAMESPACE, "cache");
	cr_expect(k8s_select_active(&p->s));
	cr_expect(picks(p, SHOP));
	cr_expect(!picks(p, CACHE));
	add(&p->s, K8S_SELECT_LABELS, "app=redis");
	cr_expect(!picks(p, CACHE));
	cr_expect(!picks(p, SHOP), "a positive option now: shop matches none");
}

Test(k8s_select, bad_values_are_refused_with_a_reason)
{
	static const struct {
		enum k8s_select_kind kind;
		const char *arg;
	} bad[] = {
		{ K8S_SELECT_NAMESPACE, "" },        { K8S_SELECT_NAMESPACE, "Shop" },
		{ K8S_SELECT_NAMESPACE, "a.b" },     { K8S_SELECT_EXCLUDE_NAMESPACE, "-x" },
		{ K8S_SELECT_POD, "shop" },          { K8S_SELECT_POD, "/name" },
		{ K8S_SELECT_POD, "shop/" },         { K8S_SELECT_POD, "shop/Name" },
		{ K8S_SELECT_LABELS, "" },           { K8S_SELECT_LABELS, "app" },
		{ K8S_SELECT_LABELS, "=x" },         { K8S_SELECT_LABELS, "app=x," },
		{ K8S_SELECT_LABELS, "a b=x" },      { K8S_SELECT_LABELS, "app=x y" },
		{ K8S_SELECT_LABELS, "Bad_Prefix/x=1" },
		{ K8S_SELECT_LABELS, "a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct k8s_select s = {};
		char err[K8S_ERR_MAX] = "";

		cr_expect_eq(k8s_select_add(&s, bad[i].kind, bad[i].arg, err, sizeof(err)), -1, "accepted '%s'",
			     bad[i].arg);
		cr_expect(err[0], "no reason for '%s'", bad[i].arg);
		cr_expect_eq(s.nkeys, 0, "'%s' left keys behind", bad[i].arg);
		cr_expect(!k8s_select_active(&s), "'%s' left a selector", bad[i].arg);
	}
}

Test(k8s_select, bounded)
{
	static struct k8s_select s;
	char arg[32], err[K8S_ERR_MAX];

	for (int i = 0; i < K8S_SELECT_MAX; i++) {
		snprintf(arg, sizeof(arg), "ns%d", i);
		add(&s, K8S_SELECT_NAMESPACE, arg);
	}
	cr_expect_eq(k8s_select_add(&s, K8S_SELECT_NAMESPACE, "one-more", err, sizeof(err)), -1);
	for (int i = 0; i < K8S_SELECT_MAX_KEYS; i++) {
		snprintf(arg, sizeof(arg), "k%d=v", i);
		add(&s, K8S_SELECT_LABELS, arg);
	}
	cr_expect_eq(k8s_select_add(&s, K8S_SELECT_LABELS, "another-key=v", err, sizeof(err)), -1);
	add(&s, K8S_SELECT_LABELS, "k0=w,k1=w"); /* known keys still do */
}
