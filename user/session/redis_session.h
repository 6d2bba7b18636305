/* Redis (RESP2/RESP3) on a connection: the proto_ops is redis_proto in proto.h. */
#ifndef SOCKSPAN_REDIS_SESSION_H
#define SOCKSPAN_REDIS_SESSION_H

#include <stdbool.h>

/* Off by default: argument values are user data. On: every Redis span gets
 * db.statement, the command with each argument replaced by '?' ("SET ? ?"). */
void redis_set_record_statement(bool on);

#endif
