/* gRPC spans: names and rpc.* tags from the :path, which the peer chooses:
 * a query string never reaches the span, and a path that is not a gRPC method
 * is named the way HTTP paths are (ids templated), so names stay few. */
#include <criterion/criterion.h>
#include <string.h>

#include "span/span_exchange.h"

static struct span s;

static void grpc_span(const char *path)
{
	struct exchange_grpc x = { .path = path, .path_len = strlen(path), .http_status = 200, .grpc_status = 0 };

	span_init(&s);
	span_set_grpc(&s, &x, -1);
}

static void expect(const char *path, const char *name, const char *service, const char *method)
{
	grpc_span(path);
	cr_expect_str_eq(s.name, name, "%s: name %s", path, s.name);
	if (service) {
		cr_expect_str_eq(span_tag(&s, "rpc.service") ? span_tag(&s, "rpc.service") : "(none)", service, "%s", path);
		cr_expect_str_eq(span_tag(&s, "rpc.method") ? span_tag(&s, "rpc.method") : "(none)", method, "%s", path);
	} else {
		cr_expect_null(span_tag(&s, "rpc.service"), "%s: rpc.service %s", path, span_tag(&s, "rpc.service"));
		cr_expect_null(span_tag(&s, "rpc.method"), "%s: rpc.method %s", path, span_tag(&s, "rpc.method"));
	}
	cr_expect_str_eq(span_tag(&s, "rpc.system"), "grpc");
}

/* Nothing of the span, name or tag, holds text. */
static void expect_nowhere(const char *path, const char *text)
{
	grpc_span(path);
	cr_expect_null(strstr(s.name, text), "%s: name %s", path, s.name);
	for (unsigned i = 0; i < s.num_tags; i++)
		cr_expect_null(strstr(s.tags[i].value, text), "%s: tag %s=%s", path, s.tags[i].key, s.tags[i].value);
}

Test(span_grpc, a_method_path_names_the_span)
{
	expect("/demo.Echo/Say", "/demo.Echo/Say", "demo.Echo", "Say");
	expect("/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Check", "grpc.health.v1.Health", "Check");
	expect("/Svc/Method_2", "/Svc/Method_2", "Svc", "Method_2");
}

Test(span_grpc, a_query_string_never_reaches_the_span)
{
	expect("/demo.Echo/Say?key=SECRET", "/demo.Echo/Say", "demo.Echo", "Say");
	expect("/demo.Echo/Say#SECRET", "/demo.Echo/Say", "demo.Echo", "Say");
	expect_nowhere("/demo.Echo/Say?key=SECRET", "SECRET");
	expect_nowhere("/demo.Echo/M?key=SECRET", "SECRET");
	expect_nowhere("/x/y/z?token=SECRET", "SECRET");
}

Test(span_grpc, other_paths_are_named_like_http_paths)
{
	expect("/users/123/orders", "post /users/{id}/orders", NULL, NULL);
	expect("/demo.Echo/0123456789abcdef0123", "post /demo.echo/{id}", NULL, NULL);
	expect("/demo.Echo/Say%20it", "post /demo.echo/say%20it", NULL, NULL);
	expect("/demo.Echo/", "post /demo.echo/", NULL, NULL);
	expect("/.Echo/Say", "post /.echo/say", NULL, NULL);
	expect("/demo..Echo/Say", "post /demo..echo/say", NULL, NULL);
	expect("/demo.Echo/Say/more", "post /demo.echo/say/more", NULL, NULL);
	expect("demo.Echo/Say", "post demo.echo/say", NULL, NULL);
	expect("", "post /", NULL, NULL);
}
