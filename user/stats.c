#include "stats.h"

struct sockspan_stats stats;
