// SPDX-License-Identifier: MIT
/* Unit tests for view_tree.c and view_render.c: exact text of hand-made traces. */
#include "view_spans.h"

#include "view/view_tree.h"

/* driver -> A -> B -> redis: A's and B's SERVER spans share the ids of the CLIENT spans that called
 * them (Zipkin's shared spans), the chain answered 502/500 (errors), Redis did not fail. */
static void chain(struct view_span *s)
{
	s[0] = vspan(1, 0, VIEW_KIND_CLIENT, "chain-drv", "get /chain/{id}", 0, 12000, "502", true);
	s[1] = vspan(1, 0, VIEW_KIND_SERVER, "chain-a", "get /chain/{id}", 300, 11000, "502", true);
	s[2] = vspan(3, 1, VIEW_KIND_CLIENT, "chain-a", "get /chain/{id}", 500, 9000, "500", true);
	s[3] = vspan(3, 1, VIEW_KIND_SERVER, "chain-b", "get /chain/{id}", 800, 8000, "500", true);
	s[4] = vspan(4, 3, VIEW_KIND_CLIENT, "chain-b", "get", 1000, 450, "", false);
	s[5] = vspan(4, 3, VIEW_KIND_SERVER, "redis-server", "get", 1100, 50, "", false);
}

/* The chain as the spans come: leaves first, the root last. */
static void chain_arrived(struct view_span *r)
{
	struct view_span s[6];

	chain(s);
	for (int i = 0; i < 6; i++)
		r[i] = s[5 - i];
}

static void check(char *got, const char *want)
{
	cr_assert_str_eq(got, want);
	free(got);
}

Test(view_tree, shared_spans_nest_under_their_client_children_by_start)
{
	struct view_span r[6];
	struct view_node order[6];
	static const unsigned want_idx[6] = { 5, 4, 3, 2, 1, 0 }, want_depth[6] = { 0, 1, 2, 3, 4, 5 };

	chain_arrived(r);
	cr_assert_eq(view_tree_order(r, 6, order), 0);
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(order[i].idx, want_idx[i], "line %d", i);
		cr_assert_eq(order[i].depth, want_depth[i], "line %d", i);
	}
}

Test(view_tree, siblings_by_start_then_client_first_and_cycles_still_shown)
{
	struct view_span s[5] = {
		vspan(1, 0, VIEW_KIND_SERVER, "a", "root", 0, 100, "200", false),
		vspan(2, 1, VIEW_KIND_CLIENT, "a", "late", 50, 10, "200", false),
		vspan(3, 1, VIEW_KIND_CLIENT, "a", "early", 10, 10, "200", false),
		vspan(4, 5, VIEW_KIND_SERVER, "x", "cycle-a", 20, 10, "200", false), /* 4 -> 5 -> 4 */
		vspan(5, 4, VIEW_KIND_SERVER, "x", "cycle-b", 30, 10, "200", false),
	};
	struct view_node order[5];
	static const unsigned want_idx[5] = { 0, 2, 1, 3, 4 }, want_depth[5] = { 0, 1, 1, 0, 1 };

	cr_assert_eq(view_tree_order(s, 5, order), 0);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(order[i].idx, want_idx[i], "line %d", i);
		cr_assert_eq(order[i].depth, want_depth[i], "line %d", i);
	}
}

Test(view_render, chain_at_80_columns)
{
	struct view_span r[6];

	chain_arrived(r);
	check(render(r, 6, false, 80, false),
	      "22:45:47 trace 4bf92f3577b34da6a3ce929d0e0e4736 6 spans 12.0ms\n"
	      "!    +0µs chain-drv CLIENT get /chain/{id}     502     12.0ms |================|\n"
	      "!  +300µs   chain-a SERVER get /chain/{id}     502     11.0ms |================|\n"
	      "!  +500µs     chain-a CLIENT get /chain/{id}   500     9.00ms |=============   |\n"
	      "!  +800µs       chain-b SERVER get /chain/{id} 500     8.00ms | ===========    |\n"
	      "  +1.00ms         chain-b CLIENT get           -        450µs | =              |\n"
	      "  +1.10ms           redis-server SERVER get    -         50µs | =              |\n");
}

Test(view_render, chain_at_40_columns_shortens_in_the_middle_without_a_bar)
{
	struct view_span r[6];

	chain_arrived(r);
	check(render(r, 6, false, 40, false),
	      "22:45:47 trace 4bf92…4736 6 spans 12.0ms\n"
	      "!    +0µs chain-d…in/{id} 502     12.0ms\n"
	      "!  +300µs   chain-…n/{id} 502     11.0ms\n"
	      "!  +500µs     chain…/{id} 500     9.00ms\n"
	      "!  +800µs       chai…{id} 500     8.00ms\n"
	      "  +1.00ms        chai…get -        450µs\n"
	      "  +1.10ms        redi…get -         50µs\n");
}

Test(view_render, chain_at_200_columns)
{
	struct view_span r[6];
	char pad[128];

	chain_arrived(r);
	memset(pad, ' ', sizeof(pad));
	check(render(r, 6, false, 200, false),
	      "22:45:47 trace 4bf92f3577b34da6a3ce929d0e0e4736 6 spans 12.0ms\n"
	      "!    +0µs chain-drv CLIENT get /chain/{id}                                                                                                     502     12.0ms |========================================|\n"
	      "!  +300µs   chain-a SERVER get /chain/{id}                                                                                                     502     11.0ms | =====================================  |\n"
	      "!  +500µs     chain-a CLIENT get /chain/{id}                                                                                                   500     9.00ms | ===============================        |\n"
	      "!  +800µs       chain-b SERVER get /chain/{id}                                                                                                 500     8.00ms |  ============================          |\n"
	      "  +1.00ms         chain-b CLIENT get                                                                                                           -        450µs |   ==                                   |\n"
	      "  +1.10ms           redis-server SERVER get                                                                                                    -         50µs |   =                                    |\n");
}

Test(view_render, colour_marks_errors_red_and_headers_bold)
{
	struct view_span r[6];

	chain_arrived(r);
	check(render(r, 6, false, 80, true),
	      "\033[1m22:45:47 trace 4bf92f3577b34da6a3ce929d0e0e4736 6 spans 12.0ms\033[0m\n"
	      "\033[31m!    +0µs chain-drv CLIENT get /chain/{id}     502     12.0ms |================|\033[0m\n"
	      "\033[31m!  +300µs   chain-a SERVER get /chain/{id}     502     11.0ms |================|\033[0m\n"
	      "\033[31m!  +500µs     chain-a CLIENT get /chain/{id}   500     9.00ms |=============   |\033[0m\n"
	      "\033[31m!  +800µs       chain-b SERVER get /chain/{id} 500     8.00ms | ===========    |\033[0m\n"
	      "  +1.00ms         chain-b CLIENT get           -        450µs | =              |\n"
	      "  +1.10ms           redis-server SERVER get    -         50µs | =              |\n");
}

Test(view_render, incomplete_trace_and_orphans_are_roots_by_start)
{
	struct view_span s[6], part[4];

	chain(s);
	/* B's half, and a span whose parent (0x77) is in no trace here. */
	part[0] = s[3];
	part[1] = s[4];
	part[2] = s[5];
	part[3] = vspan(8, 0x77, VIEW_KIND_CLIENT, "chain-b", "set", 9000, 100, "", false);
	check(render(part, 4, true, 80, false),
	      "22:45:47 trace 4bf92f3577b34da6a3ce929d0e0e4736 4 spans 8.30ms incomplete\n"
	      "!    +0µs chain-b SERVER get /chain/{id}       500     8.00ms |================|\n"
	      "   +200µs   chain-b CLIENT get                 -        450µs |==              |\n"
	      "   +300µs     redis-server SERVER get          -         50µs |=               |\n"
	      "  +8.20ms chain-b CLIENT set                   -        100µs |               =|\n");
}

Test(view_render, a_lone_span_is_one_line_with_its_time)
{
	struct view_span s[6];

	chain(s);
	check(render(&s[4], 1, false, 80, false),
	      " 22:45:47 chain-b CLIENT get                                      -        450µs\n");
}

Test(view_render, unsafe_characters_never_reach_the_terminal)
{
	/* An OSC title sequence, a bell, right-to-left override, a CSI, wide characters. */
	struct view_span u = vspan(9, 0, VIEW_KIND_SERVER, "py\033]0;x\007",
				   "get /\xe2\x80\xae" "evil\x1b[2J/日本語日本語日本語日本語/end", 0, 2500000,
				   "5\x07" "03", true);

	check(render(&u, 1, false, 80, false),
	      "!22:45:47 py?]0;x? SERVER get /?evil?[2J/日本…語日本語日本語/end  5?03     2.50s\n");
	check(render(&u, 1, false, 40, false), "!22:45:47 py?]0;x…語/end  5?03     2.50s\n");
}
