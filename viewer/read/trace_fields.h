/* A record's fields as the fast path of the reader decodes them (with
 * jscan, no jansson): only those the reader, the pairing model and the
 * statistics look at. One allocation per record holds the values and
 * their strings. */
#ifndef SOCKTRACE_TRACE_FIELDS_H
#define SOCKTRACE_TRACE_FIELDS_H

#include "read/jscan.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tf_slot {
	TF_REC,
	TF_TS,
	TF_DUR,
	TF_PID,
	TF_TID,
	TF_FN,
	TF_FD,
	TF_RET,
	TF_ERRNO,
	TF_LOCAL,
	TF_PEER,
	TF_ADDR,
	TF_BYTES,
	TF_DATA,
	TF_DATA_CUT,
	TF_HOW,
	TF_KIND,     /* a warning's kind */
	TF_MESSAGE,
	TF_OP,       /* a ctl record's operation */
	TF_TYPE,
	TF_OPT,
	TF_VALUE,
	TF_DROPPED,
	TF_REASON,   /* an end record's */
	TF_FDS,      /* socketpair: [fd0, fd1] */
	TF_FDS0,
	TF_FDS1,
	TF_DIR,      /* a two-way call's direction: "out" or "in" */
	TF_FLAGS,    /* send, recv: "MSG_PEEK|MSG_DONTWAIT", ... */
	TF_PEER_PID, /* accept on a unix socket: the client's pid */
	TF_INO,      /* connect of a unix socket: its inode */
	TF_PEER_INO, /* accept of a unix socket: the client socket's inode */
	/* What the labels of the diagrams show (render/diagram.c). */
	TF_PATH,     /* exec */
	TF_FAMILY,
	TF_BACKLOG,
	TF_VLEN,
	TF_NEWFD,
	TF_CMD,
	TF_VALUE_US,
	TF_HOST,
	TF_SERVICE,
	TF_ADDRS,    /* getaddrinfo: [addr, ...] */
	TF_ADDRS0,
	TF_FAULT,
	TF_FAULT_RULE,
	TF_FAULT_ACTION,
	TF_FAULT_MADE,
	TF_NSLOTS
};

struct tr_fields {
	struct js_val v[TF_NSLOTS];
	const char *raw;  /* the line itself, when kept; else NULL */
	size_t raw_len;
	char arena[];     /* the strings, then the kept line */
};

/* Decodes one line, keeping a copy of it with keep_line; NULL when the
 * fast path cannot take it (anything jansson must judge, or out of
 * memory). */
struct tr_fields *tr_fields_parse(const char *line, size_t n, bool keep_line);
void tr_fields_free(struct tr_fields *f);

/* The schema, prepared (NULL if it cannot be): its keys are those of
 * declared fields (tests check). */
const struct js_schema *tf_record_schema(void);

/* The slot of each call field (fields.def) the fast path decodes, by id:
 * the slot of its key in the schema, else 0 (TF_REC, no call field's).
 * NULL if the schema cannot be prepared. */
const unsigned char *tf_call_slots(void);

/* Slot s of a record read by jansson, as the fast path would have
 * decoded it (the string points into j). */
struct js_val tf_json_val(json_t *j, enum tf_slot s);

/* The string in slot s, NULL when absent or not a string. */
static inline const char *tf_str(const struct tr_fields *f, enum tf_slot s)
{
	return f->v[s].type == JS_STR ? f->v[s].s : NULL;
}

/* The integer in slot s into *v: false when absent or not an integer. */
static inline bool tf_int(const struct tr_fields *f, enum tf_slot s, int64_t *v)
{
	if (f->v[s].type != JS_INT)
		return false;
	*v = f->v[s].i;
	return true;
}

static inline int64_t tf_int_or(const struct tr_fields *f, enum tf_slot s, int64_t dflt)
{
	return f->v[s].type == JS_INT ? f->v[s].i : dflt;
}

#endif
