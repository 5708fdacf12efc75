/* Who the tool's messages come from: "socktrace view", so that every
 * layer speaks with the command's own prefix (set once, by main). */
#ifndef SOCKTRACE_MSG_H
#define SOCKTRACE_MSG_H

void msg_set_who(const char *who);
/* "socktrace CMD", or "socktrace" before a command is known. */
const char *msg_who(void);

#endif
