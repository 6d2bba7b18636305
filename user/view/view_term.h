/* SPDX-License-Identifier: MIT */
/* view_term.h - what the terminal on an fd can do: its width, colours. */
#ifndef SOCKSPAN_VIEW_TERM_H
#define SOCKSPAN_VIEW_TERM_H

#include <stdbool.h>

/* Width when neither the terminal nor COLUMNS says. */
#define VIEW_DEFAULT_WIDTH 80

enum view_color { VIEW_COLOR_AUTO, VIEW_COLOR_ALWAYS, VIEW_COLOR_NEVER };

/* What stdout shows: auto is the tree on a terminal, lines elsewhere; off
 * when the spans go to a file or a collector and no view was asked for. */
enum view_mode { VIEW_MODE_AUTO, VIEW_MODE_TREE, VIEW_MODE_LINES, VIEW_MODE_OFF };

/* Columns of the terminal on fd (TIOCGWINSZ), else $COLUMNS, else 80. */
unsigned view_term_width(int fd);
/* always: yes; never: no; auto: when fd is a terminal, TERM is not "dumb"
 * and NO_COLOR is unset or empty (no-color.org). */
bool view_term_color(enum view_color c, int fd);

#endif
