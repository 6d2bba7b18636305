/* Where the API server is: a kubeconfig's current context (as kind and
 * kubeadm write them), the in-cluster service account, and broken files. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meta/k8s_config.h"

static char dir[64], path[128];

static void write_kubeconfig(const char *text)
{
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/sockspan-kubeconfig-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void remove_kubeconfig(void)
{
	unlink(path);
	rmdir(dir);
}

/* Each test leaves at most one file behind (errors of an already removed one are ignored). */
TestSuite(k8s_config, .fini = remove_kubeconfig);

/* Two clusters, as after `kind create cluster` then a kubeadm one: the current context picks. */
static const char two_contexts[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"preferences: {}\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
	"    server: https://127.0.0.1:39117\n"
	"  name: kind-kind\n"
	"- cluster:\n"
	"    certificate-authority: pki/ca.crt\n"
	"    server: https://10.0.0.1:6443/\n"
	"  name: prod\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: kind-kind\n"
	"    user: kind-kind\n"
	"  name: kind-kind\n"
	"- context:\n"
	"    cluster: prod\n"
	"    namespace: shop\n"
	"    user: ops\n"
	"  name: prod\n"
	"current-context: prod\n"
	"users:\n"
	"- name: kind-kind\n"
	"  user:\n"
	"    client-certificate-data: Y2VydA==\n"
	"    client-key-data: a2V5\n"
	"- name: ops\n"
	"  user:\n"
	"    token: eyJhbGciOiJSUzI1NiJ9.e30.c2ln\n";

Test(k8s_config, the_current_context)
{
	struct k8s_config c;
	char err[256], want[160];

	write_kubeconfig(two_contexts);
	cr_assert_eq(k8s_config_kubeconfig(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.server, "https://10.0.0.1:6443", "no trailing slash");
	snprintf(want, sizeof(want), "%s/pki/ca.crt", dir);
	cr_expect_str_eq(c.ca.file, want, "relative to the kubeconfig's directory");
	cr_expect_null(c.ca.data);
	cr_expect_str_eq(c.token.data, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
	cr_expect_null(c.cert.data);
	k8s_config_free(&c);
}

/* two_contexts with another current-context line ("" for none). */
static void write_with_context(const char *name)
{
	const char *p = strstr(two_contexts, "current-context: prod\n");
	char doc[sizeof(two_contexts) + 64];

	snprintf(doc, sizeof(doc), "%.*s%s%s%s", (int)(p - two_contexts), two_contexts, *name ? "current-context: " : "",
		 name, p + 21);
	write_kubeconfig(doc);
}

Test(k8s_config, inline_certificates_are_decoded)
{
	struct k8s_config c;
	char err[256];

	write_with_context("kind-kind");
	cr_assert_eq(k8s_config_kubeconfig(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.server, "https://127.0.0.1:39117");
	cr_expect_str_eq(c.ca.data, "-----BEGIN CERTIFICATE-----\n");
	cr_expect_str_eq(c.cert.data, "cert");
	cr_expect_str_eq(c.key.data, "key");
	cr_expect_null(c.token.data);
	k8s_config_free(&c);
}

Test(k8s_config, no_such_context)
{
	struct k8s_config c;
	char err[256];

	/* a name matches whole: "kind" is no context */
	write_with_context("kind");
	cr_expect_eq(k8s_config_kubeconfig(&c, path, err, sizeof(err)), -1);
	cr_expect(strstr(err, "current-context"), "%s", err);
	remove_kubeconfig();
	write_with_context("");
	cr_expect_eq(k8s_config_kubeconfig(&c, path, err, sizeof(err)), -1, "no current context");
}

Test(k8s_config, broken_files)
{
	static const char *const bad[] = {
		"clusters: [\n",
		"",
		"- a\n- b\n",
		"current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: ftp://x}\n",
		"current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: 'https://x', certificate-authority-data: '!!'}\n",
	};
	struct k8s_config c;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_kubeconfig(bad[i]);
		err[0] = '\0';
		cr_expect_eq(k8s_config_kubeconfig(&c, path, err, sizeof(err)), -1, "accepted %s", bad[i]);
		cr_expect(err[0], "no reason for %s", bad[i]);
		remove_kubeconfig();
	}
	cr_expect_eq(k8s_config_kubeconfig(&c, "/nonexistent/kubeconfig", err, sizeof(err)), -1);
}

Test(k8s_config, in_cluster)
{
	struct k8s_config c;
	char err[256];

	unsetenv("KUBERNETES_SERVICE_HOST");
	cr_expect_eq(k8s_config_in_cluster(&c, err, sizeof(err)), 1, "not in a pod");
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	setenv(K8S_SA_DIR_ENV, "/tmp/sa", 1);
	cr_assert_eq(k8s_config_in_cluster(&c, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.server, "https://10.96.0.1:443");
	cr_expect_str_eq(c.token.file, "/tmp/sa/token");
	cr_expect_str_eq(c.ca.file, "/tmp/sa/ca.crt");
	setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
	cr_assert_eq(k8s_config_in_cluster(&c, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.server, "https://[fd00:10:96::1]:443");
	setenv("KUBERNETES_SERVICE_HOST", "evil/path", 1);
	cr_expect_eq(k8s_config_in_cluster(&c, err, sizeof(err)), -1);
}
