// SPDX-License-Identifier: MIT
/* view_term.c - terminal width and colour, from the fd and the environment. */
#include "view/view_term.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

unsigned view_term_width(int fd)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");
	char *end;
	long v;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (cols && *cols) {
		v = strtol(cols, &end, 10);
		if (!*end && v > 0 && v < 100000)
			return (unsigned)v;
	}
	return VIEW_DEFAULT_WIDTH;
}

bool view_term_color(enum view_color c, int fd)
{
	const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

	if (c != VIEW_COLOR_AUTO)
		return c == VIEW_COLOR_ALWAYS;
	return isatty(fd) && !(no_color && *no_color) && !(term && strcmp(term, "dumb") == 0);
}
