#include "meta/k8s_config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* A kubeconfig is a few KiB; with certificates inline, tens. */
#define KUBECONFIG_MAX (1u << 20)

char *k8s_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(max + 1);
	n = buf ? fread(buf, 1, max + 1, f) : 0;
	fclose(f);
	if (!buf) {
		errno = ENOMEM;
		return NULL;
	}
	if (n > max) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int fail(char *err, size_t errcap, const char *what, const char *detail)
{
	snprintf(err, errcap, "%s: %s", what, detail);
	return -1;
}

int k8s_config_in_cluster(struct k8s_config *c, char *err, size_t errcap)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv(K8S_SA_DIR_ENV);
	int n;

	memset(c, 0, sizeof(*c));
	if (!host || !*host)
		return 1;
	if (!dir || !*dir)
		dir = K8S_SA_DIR;
	if (!port || !*port)
		port = "443";
	/* An IPv6 service address goes in brackets. */
	n = snprintf(c->server, sizeof(c->server), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
	if (n < 0 || (size_t)n >= sizeof(c->server) || strpbrk(host, "/?#@ ") || strspn(port, "0123456789") != strlen(port))
		return fail(err, errcap, "KUBERNETES_SERVICE_HOST/PORT", "not a host and a port");
	if (snprintf(c->token.file, sizeof(c->token.file), "%s/token", dir) >= (int)sizeof(c->token.file) ||
	    snprintf(c->ca.file, sizeof(c->ca.file), "%s/ca.crt", dir) >= (int)sizeof(c->ca.file))
		return fail(err, errcap, dir, "path too long");
	return 0;
}

/* The value of key in a mapping node, or NULL. */
static yaml_node_t *get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);

		if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* In the sequence at root[list], the item named name: its item[field]. */
static yaml_node_t *named(yaml_document_t *d, const char *list, const char *name, const char *field)
{
	yaml_node_t *seq = get(d, yaml_document_get_root_node(d), list);

	if (!name || !seq || seq->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
		yaml_node_t *item = yaml_document_get_node(d, *i);
		const char *n = scalar(get(d, item, "name"));

		if (n && strcmp(n, name) == 0)
			return get(d, item, field);
	}
	return NULL;
}

static int b64(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Standard base64 (padding optional, no other characters). Returns 0 with a
 * malloc'd NUL-terminated copy in *out, or -1. */
static int base64_decode(const char *s, char **out, size_t *len)
{
	size_t n = strlen(s), o = 0;
	uint32_t acc = 0;
	int bits = 0;
	char *buf;

	while (n && s[n - 1] == '=')
		n--;
	if (n > K8S_CRED_MAX * 4 / 3 + 4 || !(buf = malloc(n * 3 / 4 + 1)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64(s[i]);

		if (v < 0) {
			free(buf);
			return -1;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (char)(acc >> bits & 0xff);
		}
	}
	buf[o] = '\0';
	*out = buf;
	*len = o;
	return 0;
}

/* A credential from node[file_key] (a path, relative to dir) or
 * node[data_key] (base64, or the token itself when data_key is "token"). */
static int take_cred(yaml_document_t *d, yaml_node_t *node, const char *file_key, const char *data_key,
		     const char *dir, struct k8s_cred *out, char *err, size_t errcap)
{
	const char *data = scalar(get(d, node, data_key)), *file = scalar(get(d, node, file_key));
	int n;

	if (data && *data) {
		if (strcmp(data_key, "token") == 0) {
			out->len = strlen(data);
			out->data = strdup(data);
			return out->data && out->len <= K8S_TOKEN_MAX ? 0 : fail(err, errcap, data_key, "too long");
		}
		return base64_decode(data, &out->data, &out->len) ? fail(err, errcap, data_key, "not base64") : 0;
	}
	if (!file || !*file)
		return 0;
	n = snprintf(out->file, sizeof(out->file), "%s%s", file[0] == '/' ? "" : dir, file);
	return n > 0 && (size_t)n < sizeof(out->file) ? 0 : fail(err, errcap, file_key, "path too long");
}

static int from_document(yaml_document_t *d, struct k8s_config *c, const char *dir, char *err, size_t errcap)
{
	const char *ctx = scalar(get(d, yaml_document_get_root_node(d), "current-context")), *server;
	yaml_node_t *context = named(d, "contexts", ctx, "context");
	yaml_node_t *cluster = named(d, "clusters", scalar(get(d, context, "cluster")), "cluster");
	yaml_node_t *user = named(d, "users", scalar(get(d, context, "user")), "user");

	if (!context)
		return fail(err, errcap, "current-context", "missing, or no such context");
	server = scalar(get(d, cluster, "server"));
	if (!server || (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0))
		return fail(err, errcap, "the context's cluster", "missing, or its server is not an http(s) URL");
	if (strlen(server) >= sizeof(c->server))
		return fail(err, errcap, "server", "too long");
	strcpy(c->server, server);
	if (c->server[strlen(c->server) - 1] == '/')
		c->server[strlen(c->server) - 1] = '\0';
	if (take_cred(d, cluster, "certificate-authority", "certificate-authority-data", dir, &c->ca, err, errcap) ||
	    take_cred(d, user, "tokenFile", "token", dir, &c->token, err, errcap) ||
	    take_cred(d, user, "client-certificate", "client-certificate-data", dir, &c->cert, err, errcap) ||
	    take_cred(d, user, "client-key", "client-key-data", dir, &c->key, err, errcap))
		return -1;
	return 0;
}

int k8s_config_kubeconfig(struct k8s_config *c, const char *path, char *err, size_t errcap)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	char dir[PATH_MAX], *buf;
	const char *slash = strrchr(path, '/');
	size_t len;
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path + 1) : 0, path);
	buf = k8s_read_file(path, KUBECONFIG_MAX, &len);
	if (!buf)
		return fail(err, errcap, path, strerror(errno));
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errcap, "%s: not YAML (%s, line %zu)", path, parser.problem ? parser.problem : "?",
			 parser.problem_mark.line + 1);
		yaml_parser_delete(&parser);
		free(buf);
		return -1;
	}
	r = yaml_document_get_root_node(&doc) ? from_document(&doc, c, dir, err, errcap)
					      : fail(err, errcap, path, "empty");
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(buf);
	if (r)
		k8s_config_free(c);
	return r;
}

void k8s_config_free(struct k8s_config *c)
{
	free(c->ca.data);
	free(c->token.data);
	free(c->cert.data);
	free(c->key.data);
	memset(c, 0, sizeof(*c));
}
