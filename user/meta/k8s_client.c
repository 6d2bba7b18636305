#include "meta/k8s_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "meta/k8s_watch.h"

#define CONNECT_TIMEOUT_S 10
#define LIST_TIMEOUT_S 60
#define URL_MAX (K8S_SERVER_MAX + 3 * K8S_CONTINUE_MAX + 3 * K8S_NAME_MAX + 256)

enum outcome { WATCH_ENDED, WATCH_FAILED, WATCH_RELIST };

struct watcher {
	struct k8s_client *c;
	enum k8s_kind kind;
	pthread_t thread;
	bool started;
	CURL *curl;
	char rv[K8S_RV_MAX + 1]; /* where the watch resumes; "" lists first */
	char *buf;               /* the list page, or the watch line being read */
	size_t len, cap, max;
	bool watching;           /* buf holds lines of events */
	bool too_long, relist;   /* the stream was given up: list again */
	unsigned seed;           /* backoff jitter */
	char curl_err[CURL_ERROR_SIZE];
	char auth[K8S_TOKEN_MAX + 32]; /* the Authorization header of the request */
};

struct k8s_client {
	struct k8s_config cfg;
	char node[K8S_NAME_MAX + 1];
	struct k8s_store *store;
	const struct k8s_pod_opts *pod_opts;
	atomic_bool stop;
	pthread_mutex_t mu; /* sleeps wait on cv; the token */
	pthread_cond_t cv;
	char *token;        /* the token file's content, when read from a file */
	struct stat token_st;
	atomic_bool said_down, said_synced;
	_Atomic uint64_t watch_restarts, relists, api_errors, objects_rejected, lines_too_long;
	struct watcher w[2]; /* by enum k8s_kind */
};

static const char *const kind_names[] = { [K8S_PODS] = "pods", [K8S_SERVICES] = "services" };

/* Grows w->buf to hold n more bytes (and a NUL), within w->max. */
static bool reserve(struct watcher *w, size_t n)
{
	size_t want = w->len + n + 1;
	char *p;

	if (w->len + n > w->max)
		return false;
	if (want <= w->cap)
		return true;
	want = want < 2 * w->cap ? 2 * w->cap : want;
	p = realloc(w->buf, want);
	if (!p)
		return false;
	w->buf = p;
	w->cap = want;
	return true;
}

/* One watch event; false stops the stream (list again). */
static bool on_event(struct watcher *w, const char *line, size_t len)
{
	struct k8s_client *c = w->c;
	struct k8s_watch_event ev;
	struct k8s_pod pod;
	struct k8s_service svc;
	char err[K8S_ERR_MAX];
	int r;

	if (k8s_watch_parse(line, len, &ev, err, sizeof(err))) {
		atomic_fetch_add(&c->api_errors, 1);
		return false;
	}
	if (ev.type == K8S_WATCH_ERROR) {
		/* 410 Gone: the version is too old to resume from; anything else, start afresh too. */
		if (ev.code != 410)
			atomic_fetch_add(&c->api_errors, 1);
		k8s_watch_event_free(&ev);
		return false;
	}
	if (ev.type != K8S_WATCH_BOOKMARK) {
		r = w->kind == K8S_PODS ? k8s_pod_from_json(ev.object, c->pod_opts, &pod, err, sizeof(err))
					: k8s_service_from_json(ev.object, &svc, err, sizeof(err));
		if (r)
			atomic_fetch_add(&c->objects_rejected, 1);
		else if (ev.type == K8S_WATCH_DELETED && w->kind == K8S_PODS)
			k8s_store_delete_pod(c->store, pod.uid);
		else if (ev.type == K8S_WATCH_DELETED)
			k8s_store_delete_service(c->store, svc.ns, svc.name);
		else if (w->kind == K8S_PODS)
			k8s_store_put_pod(c->store, &pod);
		else
			k8s_store_put_service(c->store, &svc);
	}
	if (ev.rv[0])
		memcpy(w->rv, ev.rv, sizeof(w->rv));
	k8s_watch_event_free(&ev);
	return true;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct watcher *w = ctx;
	size_t n = size * nmemb;
	long code = 0;

	if (!w->watching) {
		if (!reserve(w, n)) {
			w->too_long = true;
			return 0;
		}
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		return n;
	}
	/* A watch refused (410 Gone, 401...) answers with a Status: not events. */
	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		return n;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t k = nl ? (size_t)(nl - (p + i)) : n - i;

		if (!reserve(w, k)) {
			w->too_long = true;
			return 0;
		}
		memcpy(w->buf + w->len, p + i, k);
		w->len += k;
		i += k;
		if (!nl)
			break;
		i++;
		if (w->len && !on_event(w, w->buf, w->len)) {
			w->relist = true;
			return 0;
		}
		w->len = 0;
	}
	return n;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const struct k8s_client *c = ctx;

	(void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load(&c->stop) ? 1 : 0;
}

/* "Authorization: Bearer <token>" into hdr, the token file read again when
 * it changed (kubelet rotates it); "" when there is no token. */
static void auth_header(struct k8s_client *c, char *hdr, size_t cap)
{
	const struct k8s_cred *t = &c->cfg.token;
	const char *tok = t->data;
	struct stat st;
	size_t len;

	hdr[0] = '\0';
	pthread_mutex_lock(&c->mu);
	if (t->file[0] && stat(t->file, &st) == 0 &&
	    (!c->token || st.st_ino != c->token_st.st_ino || st.st_mtim.tv_sec != c->token_st.st_mtim.tv_sec ||
	     st.st_mtim.tv_nsec != c->token_st.st_mtim.tv_nsec || st.st_size != c->token_st.st_size)) {
		char *fresh = k8s_read_file(t->file, K8S_TOKEN_MAX, &len);

		if (fresh) {
			while (len && (fresh[len - 1] == '\n' || fresh[len - 1] == '\r' || fresh[len - 1] == ' '))
				fresh[--len] = '\0';
			free(c->token);
			c->token = fresh;
			c->token_st = st;
		}
	}
	if (t->file[0])
		tok = c->token;
	/* A token with a line break would smuggle headers in: sent as no token. */
	if (tok && *tok && !strpbrk(tok, "\r\n"))
		snprintf(hdr, cap, "Authorization: Bearer %s", tok);
	pthread_mutex_unlock(&c->mu);
}

static void set_cred(CURL *h, const struct k8s_cred *cr, CURLoption file_opt, CURLoption blob_opt)
{
	struct curl_blob blob = { cr->data, cr->len, CURL_BLOB_COPY };

	if (cr->data)
		curl_easy_setopt(h, blob_opt, &blob);
	else if (cr->file[0])
		curl_easy_setopt(h, file_opt, cr->file);
}

/* GET url into on_data. Returns the HTTP status, or -1 when the transfer
 * failed (w->curl_err says why; stop or a callback may be the cause). */
static long get(struct watcher *w, const char *url, long timeout_s)
{
	struct k8s_client *c = w->c;
	struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
	CURL *h = w->curl;
	CURLcode rc;
	long code = 0;

	auth_header(c, w->auth, sizeof(w->auth));
	if (w->auth[0])
		hdrs = curl_slist_append(hdrs, w->auth);
	curl_easy_reset(h);
	w->curl_err[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, w->curl_err);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	/* A watch is quiet for minutes: keepalive finds a dead peer. */
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
	set_cred(h, &c->cfg.ca, CURLOPT_CAINFO, CURLOPT_CAINFO_BLOB);
	set_cred(h, &c->cfg.cert, CURLOPT_SSLCERT, CURLOPT_SSLCERT_BLOB);
	set_cred(h, &c->cfg.key, CURLOPT_SSLKEY, CURLOPT_SSLKEY_BLOB);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK && !w->curl_err[0])
		snprintf(w->curl_err, sizeof(w->curl_err), "%s", curl_easy_strerror(rc));
	return rc == CURLE_OK ? code : -1;
}

/* The collection's URL with query; extra: "&..." already escaped. */
static void url_of(struct watcher *w, char *url, size_t cap, const char *extra)
{
	char *node = curl_easy_escape(w->curl, w->c->node, 0);

	if (w->kind == K8S_PODS)
		snprintf(url, cap, "%s/api/v1/pods?fieldSelector=spec.nodeName%%3D%s%s", w->c->cfg.server,
			 node ? node : "", extra);
	else
		snprintf(url, cap, "%s/api/v1/services?%s", w->c->cfg.server, extra + 1);
	curl_free(node);
}

/* Every page into a fresh set, swapped in whole. Returns 0, or -1 with w->curl_err set. */
static int list(struct watcher *w)
{
	struct k8s_client *c = w->c;
	struct k8s_set *fresh = k8s_set_new(c->store, w->kind);
	char url[URL_MAX], extra[3 * K8S_CONTINUE_MAX + 64], err[K8S_ERR_MAX], *cont;
	struct k8s_list l = { 0 };
	struct k8s_pod pod;
	struct k8s_service svc;
	const cJSON *item;
	long code;

	if (!fresh) {
		snprintf(w->curl_err, sizeof(w->curl_err), "out of memory");
		return -1;
	}
	snprintf(extra, sizeof(extra), "&limit=%d", K8S_LIST_LIMIT);
	for (;;) {
		url_of(w, url, sizeof(url), extra);
		w->watching = false;
		w->len = 0;
		w->max = K8S_LIST_MAX;
		w->too_long = false;
		code = get(w, url, LIST_TIMEOUT_S);
		if (code != 200) {
			if (code > 0)
				snprintf(w->curl_err, sizeof(w->curl_err), "HTTP status %ld", code);
			break;
		}
		if (k8s_list_parse(w->buf, w->len, &l, err, sizeof(err))) {
			snprintf(w->curl_err, sizeof(w->curl_err), "%s", err);
			break;
		}
		cJSON_ArrayForEach(item, l.items) {
			int r = w->kind == K8S_PODS ? k8s_pod_from_json(item, c->pod_opts, &pod, err, sizeof(err))
						    : k8s_service_from_json(item, &svc, err, sizeof(err));

			if (r)
				atomic_fetch_add(&c->objects_rejected, 1);
			else if (w->kind == K8S_PODS)
				k8s_set_put_pod(fresh, &pod);
			else
				k8s_set_put_service(fresh, &svc);
		}
		memcpy(w->rv, l.rv, sizeof(w->rv));
		if (!l.cont[0]) {
			k8s_list_free(&l);
			k8s_store_replace(c->store, fresh);
			return 0;
		}
		cont = curl_easy_escape(w->curl, l.cont, 0);
		snprintf(extra, sizeof(extra), "&limit=%d&continue=%s", K8S_LIST_LIMIT, cont ? cont : "");
		curl_free(cont);
		k8s_list_free(&l);
	}
	w->rv[0] = '\0';
	k8s_set_free(fresh);
	return -1;
}

static enum outcome watch(struct watcher *w)
{
	char url[URL_MAX], extra[K8S_RV_MAX + 128];
	long code;

	snprintf(extra, sizeof(extra), "&watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d",
		 w->rv, K8S_WATCH_TIMEOUT_S);
	url_of(w, url, sizeof(url), extra);
	w->watching = true;
	w->len = 0;
	w->max = K8S_LINE_MAX;
	w->too_long = w->relist = false;
	code = get(w, url, K8S_WATCH_TIMEOUT_S + 30);
	if (w->too_long)
		atomic_fetch_add(&w->c->lines_too_long, 1);
	if (w->too_long || w->relist || code == 410)
		return WATCH_RELIST;
	if (code == 200)
		return WATCH_ENDED;
	if (code > 0)
		snprintf(w->curl_err, sizeof(w->curl_err), "HTTP status %ld", code);
	return WATCH_FAILED;
}

/* Sleeps the next backoff delay (or until stop); *fails counts them. */
static void backoff(struct watcher *w, unsigned *fails)
{
	struct k8s_client *c = w->c;
	unsigned shift = *fails < 16 ? *fails : 16;
	uint64_t ms = (uint64_t)K8S_BACKOFF_FIRST_MS << shift;
	struct timespec until;

	if (ms > K8S_BACKOFF_MAX_MS)
		ms = K8S_BACKOFF_MAX_MS;
	ms = ms / 2 + (uint64_t)rand_r(&w->seed) % (ms / 2 + 1);
	(*fails)++;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&c->mu);
	while (!atomic_load(&c->stop) && pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&c->mu);
}

static void failed(struct watcher *w, unsigned *fails)
{
	struct k8s_client *c = w->c;

	if (atomic_load(&c->stop))
		return;
	atomic_fetch_add(&c->api_errors, 1);
	if (!atomic_exchange(&c->said_down, true))
		fprintf(stderr,
			"sockspan: kubernetes: %s (%s): %s; spans keep their process names until it answers "
			"(retrying)\n",
			c->cfg.server, kind_names[w->kind], w->curl_err);
	backoff(w, fails);
}

static void *run(void *arg)
{
	struct watcher *w = arg;
	struct k8s_client *c = w->c;
	struct k8s_store_stats st;
	unsigned fails = 0;
	bool listed = false;

	while (!atomic_load(&c->stop)) {
		if (!w->rv[0]) {
			if (list(w)) {
				failed(w, &fails);
				continue;
			}
			if (listed)
				atomic_fetch_add(&c->relists, 1);
			listed = true;
			fails = 0;
			if (w->kind == K8S_PODS && !atomic_exchange(&c->said_synced, true)) {
				k8s_store_stats(c->store, &st);
				fprintf(stderr, "sockspan: kubernetes: %llu pods on node %s (%s)\n",
					(unsigned long long)st.pods, c->node, c->cfg.server);
			}
		}
		switch (watch(w)) {
		case WATCH_RELIST:
			w->rv[0] = '\0';
			break;
		case WATCH_ENDED:
			fails = 0;
			break;
		case WATCH_FAILED:
			failed(w, &fails);
			break;
		}
		if (!atomic_load(&c->stop))
			atomic_fetch_add(&c->watch_restarts, 1);
	}
	return NULL;
}

struct k8s_client *k8s_client_new(struct k8s_config *cfg, const char *node, struct k8s_store *store,
				    const struct k8s_pod_opts *pod_opts, char *err, size_t errcap)
{
	struct k8s_client *c;

	if (strlen(node) > K8S_NAME_MAX || !k8s_check(K8S_CHECK_SUBDOMAIN, node)) {
		snprintf(err, errcap, "kubernetes: node name '%s' is not a DNS-1123 subdomain", node);
		k8s_config_free(cfg);
		return NULL;
	}
	if (!(c = calloc(1, sizeof(*c))) || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errcap, "kubernetes: cannot initialise libcurl");
		free(c);
		k8s_config_free(cfg);
		return NULL;
	}
	c->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	strcpy(c->node, node);
	c->store = store;
	c->pod_opts = pod_opts;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	for (int k = K8S_PODS; k <= K8S_SERVICES; k++) {
		struct watcher *w = &c->w[k];

		w->c = c;
		w->kind = k;
		w->seed = (unsigned)time(NULL) ^ (unsigned)k;
		w->curl = curl_easy_init();
		if (!w->curl) {
			snprintf(err, errcap, "kubernetes: cannot set up the %s watcher", kind_names[k]);
			k8s_client_stop(c);
			return NULL;
		}
	}
	return c;
}

int k8s_client_start(struct k8s_client *c, char *err, size_t errcap)
{
	for (int k = K8S_PODS; k <= K8S_SERVICES; k++) {
		struct watcher *w = &c->w[k];

		if (pthread_create(&w->thread, NULL, run, w) != 0) {
			snprintf(err, errcap, "kubernetes: cannot start the %s watcher", kind_names[k]);
			return -1;
		}
		w->started = true;
	}
	return 0;
}

void k8s_client_stop(struct k8s_client *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	atomic_store(&c->stop, true);
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	for (int k = K8S_PODS; k <= K8S_SERVICES; k++) {
		if (c->w[k].started)
			pthread_join(c->w[k].thread, NULL);
		curl_easy_cleanup(c->w[k].curl);
		free(c->w[k].buf);
	}
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c->token);
	k8s_config_free(&c->cfg);
	free(c);
	curl_global_cleanup();
}

void k8s_client_counters(const struct k8s_client *c, struct k8s_client_counters *out)
{
	out->watch_restarts = atomic_load(&c->watch_restarts);
	out->relists = atomic_load(&c->relists);
	out->api_errors = atomic_load(&c->api_errors);
	out->objects_rejected = atomic_load(&c->objects_rejected);
	out->lines_too_long = atomic_load(&c->lines_too_long);
}
