#include "util/msg.h"

#include <stdio.h>

static char who[64] = "socktrace";

void msg_set_who(const char *name)
{
	snprintf(who, sizeof(who), "%s", name && *name ? name : "socktrace");
}

const char *msg_who(void)
{
	return who;
}
