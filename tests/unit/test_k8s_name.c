/* Service names of pods: the default template, placeholders, labels, the
 * annotation override, the fallback when a value is missing, bad templates. */
#include <criterion/criterion.h>
#include <string.h>

#include "k8s_fixtures.h"
#include "meta/k8s_name.h"

static struct k8s_template tmpl(const char *text)
{
	struct k8s_template t;
	char err[K8S_ERR_MAX];

	cr_assert_eq(k8s_template_parse(text, &t, err, sizeof(err)), 0, "%s: %s", text, err);
	return t;
}

static const char *name_of(const char *text, const char *fixture, const char *container)
{
	static char out[K8S_SERVICE_NAME_MAX];
	struct k8s_template t = tmpl(text);
	struct k8s_pod_opts o = k8s_template_pod_opts(&t);
	cJSON *j = fixture_json(fixture);
	struct k8s_pod p;
	char err[K8S_ERR_MAX];

	cr_assert_eq(k8s_pod_from_json(j, &o, &p, err, sizeof(err)), 0, "%s", err);
	cJSON_Delete(j);
	k8s_service_name(&t, &p, container, out, sizeof(out));
	return out;
}

Test(k8s_name, templates)
{
	cr_expect_str_eq(name_of(K8S_TEMPLATE_DEFAULT, "pod_deployment.json", "checkout"), "shop.checkout");
	cr_expect_str_eq(name_of(K8S_TEMPLATE_DEFAULT, "pod_statefulset.json", NULL), "cache.redis");
	cr_expect_str_eq(name_of("{label:app.kubernetes.io/name}.{namespace}", "pod_deployment.json", NULL),
			 "checkout.shop");
	cr_expect_str_eq(name_of("{workload}-{container}@{pod}", "pod_deployment.json", "envoy"),
			 "checkout-envoy@checkout-7d4b9c8f6d-x2x9k");
	cr_expect_str_eq(name_of("{label:app}", "pod_statefulset.json", NULL), "redis");
}

Test(k8s_name, missing_values_fall_back_to_the_default)
{
	cr_expect_str_eq(name_of("{label:team}/{workload}", "pod_deployment.json", NULL), "shop.checkout");
	cr_expect_str_eq(name_of("{container}.{namespace}", "pod_deployment.json", NULL), "shop.checkout");
	cr_expect_str_eq(name_of("{container}.{namespace}", "pod_deployment.json", ""), "shop.checkout");
}

Test(k8s_name, the_annotation_wins)
{
	cr_expect_str_eq(name_of("{label:run}", "pod_bare.json", "debug"), "debug-shell");
}

Test(k8s_name, bad_templates)
{
	static const char *const bad[] = {
		"", "{ns}", "{namespace", "namespace}", "{label:}", "{label:a b}", "{label:-x}",
		"{label:a}{label:b}{label:c}{label:d}{label:e}", "{label:Bad_Prefix/x}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct k8s_template t;
		char err[K8S_ERR_MAX] = "";

		cr_expect_eq(k8s_template_parse(bad[i], &t, err, sizeof(err)), -1, "accepted '%s'", bad[i]);
		cr_expect(err[0], "no reason for '%s'", bad[i]);
	}
}

Test(k8s_name, long_names_are_cut)
{
	char text[200], out[16];
	struct k8s_template t;
	struct k8s_pod p = { .ns = "shop", .workload = "checkout" };

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "{namespace}", 11);
	t = tmpl(text);
	k8s_service_name(&t, &p, NULL, out, sizeof(out));
	cr_expect_str_eq(out, "shopxxxxxxxxxxx");
}
