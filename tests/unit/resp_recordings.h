/*
 * Redis conversations recorded from real peers for the RESP parser and Redis
 * session tests, and an independent reference splitter to find where each
 * value starts and ends.
 *
 * Recorded with a logging TCP proxy between the client and redis-server
 * 7.0.15 (started with --save '' --appendonly no --enable-debug-command yes):
 * each event is one recv() of the proxy, in the order it saw them. Request
 * bytes (REC_REQ) flow client -> server, replies (REC_REP) server -> client.
 */
#ifndef SOCKSPAN_TEST_RESP_RECORDINGS_H
#define SOCKSPAN_TEST_RESP_RECORDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct lit {
	const char *p;
	size_t len;
};
#define S(x) { x, sizeof(x) - 1 }
#define REC_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum rec_dir { REC_REQ, REC_REP };

struct rec_event {
	enum rec_dir dir;
	struct lit data;
};

struct recording {
	const char *name;
	const struct rec_event *events;
	size_t n;
};

/* redis-cli 7.0.15 reading commands from stdin (its COMMAND DOCS exchange, 250 KB, left out) */
static const struct rec_event rec_cli_events[] = {
	{ REC_REQ, S("*3\r\n$3\r\nSET\r\n$8\r\ngreeting\r\n$5\r\nhello\r\n") },
	{ REC_REP, S("+OK\r\n") },
	{ REC_REQ, S("*2\r\n$3\r\nGET\r\n$8\r\ngreeting\r\n") },
	{ REC_REP, S("$5\r\nhello\r\n") },
	{ REC_REQ, S("*6\r\n$4\r\nHSET\r\n$6\r\nuser:1\r\n$4\r\nname\r\n$6\r\narthur\r\n$3\r\nage\r\n$2\r\n"
		     "42\r\n") },
	{ REC_REP, S(":2\r\n") },
	{ REC_REQ, S("*2\r\n$4\r\nINCR\r\n$8\r\ngreeting\r\n") },
	{ REC_REP, S("-ERR value is not an integer or out of range\r\n") },
	{ REC_REQ, S("*2\r\n$3\r\nGET\r\n$6\r\nuser:1\r\n") },
	{ REC_REP, S("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n") },
	{ REC_REQ, S("*2\r\n$3\r\nDEL\r\n$5\r\nnokey\r\n") },
	{ REC_REP, S(":0\r\n") },
	{ REC_REQ, S("*2\r\n$3\r\nGET\r\n$5\r\nnokey\r\n") },
	{ REC_REP, S("$-1\r\n") },
	{ REC_REQ, S("*5\r\n$5\r\nLPUSH\r\n$1\r\nq\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n") },
	{ REC_REP, S(":3\r\n") },
	{ REC_REQ, S("*4\r\n$6\r\nLRANGE\r\n$1\r\nq\r\n$1\r\n0\r\n$2\r\n-1\r\n") },
	{ REC_REP, S("*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n") },
};
static const struct recording rec_cli = {
	"cli", rec_cli_events, REC_LEN(rec_cli_events),
};

/* redis-py 4.3.4: pipeline(transaction=False) of 5 commands, then pipeline(transaction=True):
 * MULTI ... EXEC, one of the queued commands failing */
static const struct rec_event rec_py_pipeline_events[] = {
	{ REC_REQ, S("*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$2\r\nv1\r\n*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n*3\r\n$6\r\n"
		     "INCRBY\r\n$7\r\ncounter\r\n$1\r\n1\r\n*6\r\n$4\r\nHSET\r\n$1\r\nh\r\n$2\r\nf1\r\n$1\r\n"
		     "a\r\n$2\r\nf2\r\n$1\r\nb\r\n*2\r\n$7\r\nHGETALL\r\n$1\r\nh\r\n") },
	{ REC_REP, S("+OK\r\n$2\r\nv1\r\n:1\r\n:2\r\n*4\r\n$2\r\nf1\r\n$1\r\na\r\n$2\r\nf2\r\n$1\r\nb\r\n") },
	{ REC_REQ, S("*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$2\r\nk2\r\n$1\r\nx\r\n*3\r\n$6\r\nINCRBY\r\n"
		     "$2\r\nk2\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$2\r\nk2\r\n*1\r\n$4\r\nEXEC\r\n") },
	{ REC_REP, S("+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n"
		     "-ERR value is not an integer or out of range\r\n$1\r\nx\r\n") },
};
static const struct recording rec_py_pipeline = {
	"py_pipeline", rec_py_pipeline_events, REC_LEN(rec_py_pipeline_events),
};

/* redis-py 4.3.4 PubSub: SUBSCRIBE to 2 channels, messages, PSUBSCRIBE, then UNSUBSCRIBE and
 * PUNSUBSCRIBE without arguments (one confirmation per subscription of the kind) */
static const struct rec_event rec_py_pubsub_events[] = {
	{ REC_REQ, S("*3\r\n$9\r\nSUBSCRIBE\r\n$4\r\nnews\r\n$6\r\nalerts\r\n") },
	{ REC_REP, S("*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$6\r\nalerts\r\n"
		     ":2\r\n") },
	{ REC_REP, S("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n") },
	{ REC_REP, S("*3\r\n$7\r\nmessage\r\n$6\r\nalerts\r\n$4\r\nfire\r\n") },
	{ REC_REQ, S("*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\nn*\r\n") },
	{ REC_REP, S("*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n") },
	{ REC_REP, S("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nagain\r\n*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n"
		     "$4\r\nnews\r\n$5\r\nagain\r\n") },
	{ REC_REQ, S("*1\r\n$11\r\nUNSUBSCRIBE\r\n") },
	{ REC_REP, S("*3\r\n$11\r\nunsubscribe\r\n$6\r\nalerts\r\n:2\r\n*3\r\n$11\r\nunsubscribe\r\n$4\r\n"
		     "news\r\n:1\r\n") },
	{ REC_REQ, S("*1\r\n$12\r\nPUNSUBSCRIBE\r\n") },
	{ REC_REP, S("*3\r\n$12\r\npunsubscribe\r\n$2\r\nn*\r\n:0\r\n") },
};
static const struct recording rec_py_pubsub = {
	"py_pubsub", rec_py_pubsub_events, REC_LEN(rec_py_pubsub_events),
};

/* redis-py 4.3.4: BLPOP answered 0.3 s later by another client's RPUSH, then one that times out */
static const struct rec_event rec_py_blpop_events[] = {
	{ REC_REQ, S("*3\r\n$5\r\nBLPOP\r\n$4\r\njobs\r\n$1\r\n5\r\n") },
	{ REC_REP, S("*2\r\n$4\r\njobs\r\n$4\r\njob1\r\n") },
	{ REC_REQ, S("*3\r\n$5\r\nBLPOP\r\n$5\r\nempty\r\n$3\r\n0.2\r\n") },
	{ REC_REP, S("*-1\r\n") },
};
static const struct recording rec_py_blpop = {
	"py_blpop", rec_py_blpop_events, REC_LEN(rec_py_blpop_events),
};

/* HELLO 3 over a socket, then RESP3 replies of every kind Redis 7.0 sends (DEBUG PROTOCOL for
 * the rare ones), a CLIENT TRACKING invalidation push, pub/sub as pushes */
static const struct rec_event rec_resp3_events[] = {
	{ REC_REQ, S("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n") },
	{ REC_REP, S("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n"
		     ":3\r\n$2\r\nid\r\n:12\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\n"
		     "master\r\n$7\r\nmodules\r\n*0\r\n") },
	{ REC_REQ, S("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n") },
	{ REC_REP, S("+OK\r\n") },
	{ REC_REQ, S("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") },
	{ REC_REP, S("$1\r\nv\r\n") },
	{ REC_REQ, S("*2\r\n$3\r\nGET\r\n$5\r\nnokey\r\n") },
	{ REC_REP, S("_\r\n") },
	{ REC_REQ, S("*6\r\n$4\r\nHSET\r\n$2\r\nh3\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n") },
	{ REC_REP, S(":2\r\n") },
	{ REC_REQ, S("*2\r\n$7\r\nHGETALL\r\n$2\r\nh3\r\n") },
	{ REC_REP, S("%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n") },
	{ REC_REQ, S("*4\r\n$4\r\nSADD\r\n$2\r\ns3\r\n$1\r\nx\r\n$1\r\ny\r\n") },
	{ REC_REP, S(":2\r\n") },
	{ REC_REQ, S("*2\r\n$8\r\nSMEMBERS\r\n$2\r\ns3\r\n") },
	{ REC_REP, S("~2\r\n$1\r\ny\r\n$1\r\nx\r\n") },
	{ REC_REQ, S("*4\r\n$4\r\nZADD\r\n$2\r\nz3\r\n$3\r\n1.5\r\n$1\r\nm\r\n") },
	{ REC_REP, S(":1\r\n") },
	{ REC_REQ, S("*3\r\n$6\r\nZSCORE\r\n$2\r\nz3\r\n$1\r\nm\r\n") },
	{ REC_REP, S(",1.5\r\n") },
	{ REC_REQ, S("*4\r\n$7\r\nZINCRBY\r\n$2\r\nz3\r\n$3\r\ninf\r\n$1\r\nm\r\n") },
	{ REC_REP, S(",inf\r\n") },
	{ REC_REQ, S("*2\r\n$6\r\nEXISTS\r\n$1\r\nk\r\n") },
	{ REC_REP, S(":1\r\n") },
	{ REC_REQ, S("*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$6\r\nbignum\r\n") },
	{ REC_REP, S("(1234567999999999999999999999999999999\r\n") },
	{ REC_REQ, S("*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$4\r\ntrue\r\n") },
	{ REC_REP, S("#t\r\n") },
	{ REC_REQ, S("*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$5\r\nfalse\r\n") },
	{ REC_REP, S("#f\r\n") },
	{ REC_REQ, S("*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$8\r\nverbatim\r\n") },
	{ REC_REP, S("=29\r\ntxt:This is a verbatim\nstring\r\n") },
	{ REC_REQ, S("*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$6\r\nattrib\r\n") },
	{ REC_REP, S("|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\n"
		     "Some real reply following the attribute\r\n") },
	{ REC_REQ, S("*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$4\r\npush\r\n") },
	{ REC_REP, S(">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\n"
		     "Some real reply following the push reply\r\n") },
	{ REC_REQ, S("*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$6\r\ndouble\r\n") },
	{ REC_REP, S(",3.141\r\n") },
	{ REC_REQ, S("*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$4\r\nnull\r\n") },
	{ REC_REP, S("_\r\n") },
	{ REC_REQ, S("*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$3\r\nmap\r\n") },
	{ REC_REP, S("%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n") },
	{ REC_REQ, S("*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$3\r\nset\r\n") },
	{ REC_REP, S("~3\r\n:0\r\n:1\r\n:2\r\n") },
	{ REC_REQ, S("*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n") },
	{ REC_REP, S("-ERR value is not an integer or out of range\r\n") },
	{ REC_REQ, S("*3\r\n$6\r\nCLIENT\r\n$8\r\nTRACKING\r\n$2\r\non\r\n") },
	{ REC_REP, S("+OK\r\n") },
	{ REC_REQ, S("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") },
	{ REC_REP, S("$1\r\nv\r\n") },
	{ REC_REQ, S("*1\r\n$4\r\nPING\r\n") },
	{ REC_REP, S("+PONG\r\n") },
	{ REC_REP, S(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n") },
	{ REC_REQ, S("*3\r\n$9\r\nSUBSCRIBE\r\n$2\r\nc1\r\n$2\r\nc2\r\n") },
	{ REC_REP, S(">3\r\n$9\r\nsubscribe\r\n$2\r\nc1\r\n:1\r\n"
		     ">3\r\n$9\r\nsubscribe\r\n$2\r\nc2\r\n:2\r\n") },
	{ REC_REQ, S("*1\r\n$4\r\nPING\r\n") },
	{ REC_REP, S("+PONG\r\n") },
	{ REC_REP, S(">3\r\n$7\r\nmessage\r\n$2\r\nc1\r\n$2\r\nm1\r\n") },
	{ REC_REQ, S("*1\r\n$11\r\nUNSUBSCRIBE\r\n") },
	{ REC_REP, S(">3\r\n$11\r\nunsubscribe\r\n$2\r\nc1\r\n:1\r\n>3\r\n$11\r\nunsubscribe\r\n$2\r\nc2\r\n"
		     ":0\r\n") },
	{ REC_REQ, S("*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$4\r\nrec3\r\n") },
	{ REC_REP, S("+OK\r\n") },
	{ REC_REQ, S("*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n") },
	{ REC_REP, S("=273\r\n"
		     "txt:id=12 addr=127.0.0.1:59914 laddr=127.0.0.1:58825 fd=7 name=rec3 age=9 "
		     "idle=0 flags=t db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=26 qbuf-free=20448 "
		     "argv-mem=10 multi-mem=0 rbs=1024 rbp=79 obl=0 oll=0 omem=0 tot-mem=22330 "
		     "events=r cmd=client|info user=default redir=0 resp=3\n"
		     "\r\n") },
};
static const struct recording rec_resp3 = {
	"resp3", rec_resp3_events, REC_LEN(rec_resp3_events),
};

/* redis-benchmark -P 16 -t set,get -c 1: the CONFIG GETs it starts with */
static const struct rec_event rec_bench_config_events[] = {
	{ REC_REQ, S("*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$4\r\nsave\r\n*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n"
		     "$10\r\nappendonly\r\n") },
	{ REC_REP, S("*2\r\n$4\r\nsave\r\n$0\r\n\r\n*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n") },
};
static const struct recording rec_bench_config = {
	"bench_config", rec_bench_config_events, REC_LEN(rec_bench_config_events),
};

/* redis-benchmark -P 16 -t set: two batches of 16 pipelined SETs */
static const struct rec_event rec_bench_set_events[] = {
	{ REC_REQ, S("*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\n"
		     "key:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\n"
		     "VXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n"
		     "$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n"
		     "$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\n"
		     "SET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\n"
		     "key:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\n"
		     "VXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n"
		     "$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n"
		     "$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\n"
		     "SET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\n"
		     "key:__rand_int__\r\n$3\r\nVXK\r\n") },
	{ REC_REP, S("+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n"
		     "+OK\r\n+OK\r\n+OK\r\n+OK\r\n") },
	{ REC_REQ, S("*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\n"
		     "key:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\n"
		     "VXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n"
		     "$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n"
		     "$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\n"
		     "SET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\n"
		     "key:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\n"
		     "VXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n"
		     "$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n"
		     "$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\n"
		     "SET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n*3\r\n$3\r\nSET\r\n$16\r\n"
		     "key:__rand_int__\r\n$3\r\nVXK\r\n") },
	{ REC_REP, S("+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n"
		     "+OK\r\n+OK\r\n+OK\r\n+OK\r\n") },
};
static const struct recording rec_bench_set = {
	"bench_set", rec_bench_set_events, REC_LEN(rec_bench_set_events),
};

/* Written by hand: inline commands as typed into nc (Redis also accepts bare
 * LF, quotes and empty lines), answered as redis-server answers them. */
static const struct rec_event rec_inline_events[] = {
	{ REC_REQ, S("PING\r\n") },
	{ REC_REP, S("+PONG\r\n") },
	{ REC_REQ, S("set greeting \"hello world\"\r\n") },
	{ REC_REP, S("+OK\r\n") },
	{ REC_REQ, S("\r\n\n  get 'greeting'\n") },
	{ REC_REP, S("$11\r\nhello world\r\n") },
	{ REC_REQ, S("CLIENT setname  inline-client\r\n") },
	{ REC_REP, S("+OK\r\n") },
};
static const struct recording rec_inline = {
	"inline", rec_inline_events, REC_LEN(rec_inline_events),
};

/* Written by hand after the RESP3 specification: what Redis never sends
 * itself but a RESP3 server may (a blob error, a big number, an attribute
 * inside an array, an empty map). */
static const struct rec_event rec_resp3_spec_events[] = {
	{ REC_REQ, S("*2\r\n$4\r\nEVAL\r\n$6\r\nreturn\r\n") },
	{ REC_REP, S("!21\r\nSYNTAX invalid syntax\r\n") },
	{ REC_REQ, S("*1\r\n$4\r\nTIME\r\n") },
	{ REC_REP, S("*2\r\n|1\r\n+ttl\r\n:3600\r\n(-3492890328409238509324850943850943825024385\r\n"
		     "%0\r\n") },
};
static const struct recording rec_resp3_spec = {
	"resp3_spec", rec_resp3_spec_events, REC_LEN(rec_resp3_spec_events),
};

/* ---- reference splitter: recursive, for complete buffers only ---- */

/* Offset just past the CRLF ending the line at i, or 0 if there is none. */
static inline size_t ref_line_end(const char *b, size_t len, size_t i)
{
	for (; i + 1 < len; i++)
		if (b[i] == '\r' && b[i + 1] == '\n')
			return i + 2;
	return 0;
}

/* Offset just past the value at i (an attribute is a value here), or 0 if malformed. */
static inline size_t ref_skip(const char *b, size_t len, size_t i)
{
	size_t e = ref_line_end(b, len, i);
	long long n;

	if (i >= len || !e)
		return 0;
	n = atoll(b + i + 1);
	switch (b[i]) {
	case '$': case '!': case '=':
		if (n < 0)
			return e;
		return e + (size_t)n + 2 <= len ? e + (size_t)n + 2 : 0;
	case '%': case '|':
		n *= 2;
		/* fall through */
	case '*': case '~': case '>':
		for (long long k = 0; k < n; k++) {
			bool attr = b[e] == '|';

			e = ref_skip(b, len, e);
			if (!e)
				return 0;
			if (attr)
				k--; /* an attribute is not an element */
		}
		return e;
	default:
		return e;
	}
}

/*
 * Splits a complete stream into top-level values: starts[k] and ends[k]
 * (one past the last byte) of each, at most max. A reply's attribute belongs
 * to the value after it; in a request stream, lines not starting with '*'
 * are inline commands (starting at their first word), and empty lines, "*0"
 * and "*-1" are no commands.
 * Returns the count, or -1 if the bytes are malformed or run short.
 */
static inline int ref_values(const char *b, size_t len, bool requests, size_t *starts, size_t *ends,
			     int max)
{
	size_t i = 0;
	int n = 0;

	while (i < len) {
		size_t start = i, e;

		if (requests && b[i] != '*') {
			const char *nl = memchr(b + i, '\n', len - i);
			bool blank = true;

			if (!nl)
				return -1;
			e = (size_t)(nl - b) + 1;
			for (size_t k = i; k < e; k++)
				blank &= b[k] == ' ' || b[k] == '\t' || b[k] == '\r' || b[k] == '\n';
			/* An inline command starts at its first word. */
			while (b[start] == ' ' || b[start] == '\t' || b[start] == '\r')
				start++;
			i = e;
			if (blank)
				continue;
		} else if (requests && (strncmp(b + i, "*0\r\n", 4) == 0 || strncmp(b + i, "*-1\r\n", 5) == 0)) {
			i = ref_line_end(b, len, i);
			continue;
		} else {
			e = ref_skip(b, len, i);
			if (e && b[i] == '|')
				e = ref_skip(b, len, e);
			if (!e)
				return -1;
			i = e;
		}
		if (n == max)
			return -1;
		starts[n] = start;
		ends[n++] = i;
	}
	return n;
}

/* The bytes of one direction of a recording, concatenated (malloc'ed, caller frees). */
static inline char *rec_stream(const struct recording *r, enum rec_dir dir, size_t *len)
{
	size_t n = 0;
	char *s;

	for (size_t i = 0; i < r->n; i++)
		n += r->events[i].dir == dir ? r->events[i].data.len : 0;
	s = malloc(n ? n : 1);
	*len = 0;
	for (size_t i = 0; s && i < r->n; i++) {
		if (r->events[i].dir != dir)
			continue;
		memcpy(s + *len, r->events[i].data.p, r->events[i].data.len);
		*len += r->events[i].data.len;
	}
	return s;
}

#endif
