/* The HTML explorer's stylesheet and script (viewer/render/html/), put
 * into the tool at build time by html/embed.py. */
#ifndef SOCKTRACE_HTML_ASSETS_H
#define SOCKTRACE_HTML_ASSETS_H

#include <stddef.h>

extern const char html_explorer_css[];
extern const size_t html_explorer_css_len;
extern const char html_explorer_js[];
extern const size_t html_explorer_js_len;

#endif
