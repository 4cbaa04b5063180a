/* http_util.c — header and query helpers over lws. */
#include "http_util.h"

#include <stdio.h>
#include <string.h>

int http_header(struct lws *wsi, enum lws_token_indexes tok, char *buf, size_t len) {
  int n = lws_hdr_total_length(wsi, tok);
  if (n <= 0 || (size_t)n >= len) return -1;
  return lws_hdr_copy(wsi, buf, (int)len, tok) < 0 ? -1 : n;
}

int http_custom_header(struct lws *wsi, const char *name, char *buf, size_t len) {
  int nl = (int)strlen(name);
  int n = lws_hdr_custom_length(wsi, name, nl);
  if (n <= 0 || (size_t)n >= len) return -1;
  return lws_hdr_custom_copy(wsi, buf, (int)len, name, nl) < 0 ? -1 : n;
}

int http_query_arg(struct lws *wsi, const char *name, char *buf, size_t len) {
  char frag[1024];
  size_t nl = strlen(name);
  for (int i = 0; i < 64; i++) {
    int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0) return -1;
    if ((size_t)n > nl && strncmp(frag, name, nl) == 0 && frag[nl] == '=') {
      if ((size_t)n - nl - 1 >= len) return -1;
      memcpy(buf, frag + nl + 1, (size_t)n - nl);
      return n - (int)nl - 1;
    }
  }
  return -1;
}

const char *http_status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}
