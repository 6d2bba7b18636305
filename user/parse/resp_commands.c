/*
 * The Redis commands sockspan knows by name (Redis 7.0's COMMAND LIST), for
 * resp_command_flags (see resp_parser.h): they tell a Redis request from
 * other text (stream detection, inline commands) and which commands have a
 * subcommand for a second word.
 */
#include "parse/resp_parser.h"

#include <stdbool.h>
#include <stddef.h>

#include "parse/ascii.h"

/* Redis 7.0's top-level commands (COMMAND LIST), sorted as strcmp sorts. */
static const char *const commands[] = {
	"acl", "append", "asking", "auth", "bgrewriteaof", "bgsave", "bitcount", "bitfield",
	"bitfield_ro", "bitop", "bitpos", "blmove", "blmpop", "blpop", "brpop", "brpoplpush", "bzmpop",
	"bzpopmax", "bzpopmin", "client", "cluster", "command", "config", "copy", "dbsize", "debug",
	"decr", "decrby", "del", "discard", "dump", "echo", "eval", "eval_ro", "evalsha", "evalsha_ro",
	"exec", "exists", "expire", "expireat", "expiretime", "failover", "fcall", "fcall_ro",
	"flushall", "flushdb", "function", "geoadd", "geodist", "geohash", "geopos", "georadius",
	"georadius_ro", "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore",
	"get", "getbit", "getdel", "getex", "getrange", "getset", "hdel", "hello", "hexists", "hget",
	"hgetall", "hincrby", "hincrbyfloat", "hkeys", "hlen", "hmget", "hmset", "hrandfield", "hscan",
	"hset", "hsetnx", "hstrlen", "hvals", "incr", "incrby", "incrbyfloat", "info", "keys",
	"lastsave", "latency", "lcs", "lindex", "linsert", "llen", "lmove", "lmpop", "lolwut", "lpop",
	"lpos", "lpush", "lpushx", "lrange", "lrem", "lset", "ltrim", "memory", "mget", "migrate",
	"module", "monitor", "move", "mset", "msetnx", "multi", "object", "persist", "pexpire",
	"pexpireat", "pexpiretime", "pfadd", "pfcount", "pfdebug", "pfmerge", "pfselftest", "ping",
	"psetex", "psubscribe", "psync", "pttl", "publish", "pubsub", "punsubscribe", "quit",
	"randomkey", "readonly", "readwrite", "rename", "renamenx", "replconf", "replicaof", "reset",
	"restore", "restore-asking", "role", "rpop", "rpoplpush", "rpush", "rpushx", "sadd", "save",
	"scan", "scard", "script", "sdiff", "sdiffstore", "select", "set", "setbit", "setex", "setnx",
	"setrange", "shutdown", "sinter", "sintercard", "sinterstore", "sismember", "slaveof",
	"slowlog", "smembers", "smismember", "smove", "sort", "sort_ro", "spop", "spublish",
	"srandmember", "srem", "sscan", "ssubscribe", "strlen", "subscribe", "substr", "sunion",
	"sunionstore", "sunsubscribe", "swapdb", "sync", "time", "touch", "ttl", "type", "unlink",
	"unsubscribe", "unwatch", "wait", "watch", "xack", "xadd", "xautoclaim", "xclaim", "xdel",
	"xgroup", "xinfo", "xlen", "xpending", "xrange", "xread", "xreadgroup", "xrevrange", "xsetid",
	"xtrim", "zadd", "zcard", "zcount", "zdiff", "zdiffstore", "zincrby", "zinter", "zintercard",
	"zinterstore", "zlexcount", "zmpop", "zmscore", "zpopmax", "zpopmin", "zrandmember", "zrange",
	"zrangebylex", "zrangebyscore", "zrangestore", "zrank", "zrem", "zremrangebylex",
	"zremrangebyrank", "zremrangebyscore", "zrevrange", "zrevrangebylex", "zrevrangebyscore",
	"zrevrank", "zscan", "zscore", "zunion", "zunionstore",
};

/* Commands whose second word is a subcommand (they have "name|sub" entries in COMMAND LIST). */
static const char *const containers[] = {
	"acl", "client", "cluster", "command", "config", "function", "latency", "memory", "module",
	"object", "pubsub", "script", "slowlog", "xgroup", "xinfo",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* strcmp of lowercase(name[0..len)) against the NUL-terminated lowercase word. */
static int cmp_lower(const char *name, size_t len, const char *word)
{
	size_t i;

	for (i = 0; i < len && word[i]; i++) {
		unsigned char a = (unsigned char)ascii_lower(name[i]), b = (unsigned char)word[i];

		if (a != b)
			return a < b ? -1 : 1;
	}
	if (i < len)
		return 1;
	return word[i] ? -1 : 0;
}

static bool in_table(const char *const *table, size_t n, const char *name, size_t len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_lower(name, len, table[mid]);

		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

unsigned resp_command_flags(const char *name, size_t len)
{
	unsigned f = 0;

	if (in_table(commands, ARRAY_LEN(commands), name, len))
		f |= RESP_CMD_KNOWN;
	if (in_table(containers, ARRAY_LEN(containers), name, len))
		f |= RESP_CMD_CONTAINER;
	return f;
}
