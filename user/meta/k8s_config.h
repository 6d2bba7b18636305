/* Where the Kubernetes API server is and how to talk to it: in a pod, from
 * the service account kubelet mounts; by hand, from a kubeconfig file's
 * current context. */
#ifndef SOCKSPAN_K8S_CONFIG_H
#define SOCKSPAN_K8S_CONFIG_H

#include <limits.h>
#include <stddef.h>

/* Where kubelet mounts a pod's service account (token, ca.crt). */
#define K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* Overrides K8S_SA_DIR (the tests' fake service account). */
#define K8S_SA_DIR_ENV "SOCKSPAN_K8S_SA_DIR"
/* Credentials and certificates read at most (a token is ~1 KiB, a CA bundle a few). */
#define K8S_CRED_MAX (256u << 10)
#define K8S_SERVER_MAX 512
/* A bearer token: service-account JWTs are about 1 KiB. */
#define K8S_TOKEN_MAX (64u << 10)

/* PEM or a token: a file's path, or the bytes themselves (kubeconfig's *-data). */
struct k8s_cred {
	char file[PATH_MAX]; /* "" when data is given or there is none */
	char *data;          /* malloc'd, NUL-terminated; NULL when file is given or there is none */
	size_t len;
};

struct k8s_config {
	char server[K8S_SERVER_MAX]; /* "https://host:port", no trailing '/' */
	struct k8s_cred ca;          /* none: the system's CAs */
	struct k8s_cred token;       /* a file is read again when it changes (rotation) */
	struct k8s_cred cert, key;   /* client certificate and its key */
};

/* From KUBERNETES_SERVICE_HOST/PORT and the service account in
 * $SOCKSPAN_K8S_SA_DIR or K8S_SA_DIR. Returns 0 with *c filled, 1 when
 * not in a pod (no KUBERNETES_SERVICE_HOST), -1 with a reason in err. */
int k8s_config_in_cluster(struct k8s_config *c, char *err, size_t errcap);
/* From the kubeconfig file's current context: its cluster's server and CA,
 * its user's token or client certificate (relative paths are the file's
 * directory's). Returns 0 with *c filled, or -1 with a reason in err. */
int k8s_config_kubeconfig(struct k8s_config *c, const char *path, char *err, size_t errcap);
void k8s_config_free(struct k8s_config *c);

/* The file's bytes, NUL-terminated, at most max (malloc'd, *len set), or
 * NULL with errno set (EFBIG when larger). */
char *k8s_read_file(const char *path, size_t max, size_t *len);

#endif
