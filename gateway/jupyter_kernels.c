/* jupyter_kernels.c — per-kernel state of the Jupyter personality: execution state, last activity,
 * attached websocket connections and the bounded replay buffer (jupyter.h). */
#include "jupyter.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static jk_kernel_t *g_kernels;
static size_t g_n_kernels;

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *jk_python_version(void) {
  static char v[16];
  if (v[0]) return v;
  snprintf(v, sizeof(v), "3");
  glob_t g;
  int best = -1;
  if (glob("/usr/lib/python3.[0-9]*", GLOB_ONLYDIR, NULL, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; i++) {
      int minor = atoi(g.gl_pathv[i] + strlen("/usr/lib/python3."));
      if (minor > best) best = minor;
    }
    globfree(&g);
  }
  if (best >= 0) snprintf(v, sizeof(v), "3.%d", best);
  return v;
}

/* The first line a command prints (≤ 31 bytes), or "" — run once per language and cached. */
static void first_line(const char *cmd, char *out, size_t len) {
  out[0] = 0;
  FILE *f = popen(cmd, "re");
  if (!f) return;
  if (!fgets(out, (int)len, f)) out[0] = 0;
  out[strcspn(out, "\r\n")] = 0;
  pclose(f);
}

const char *jk_language_version(const char *kernel_name) {
  static char bash[32], node[32];
  const char *lang = sl_jk_spec_language(kernel_name);
  if (lang && strcmp(lang, "bash") == 0) {
    if (!bash[0]) first_line("/bin/bash -c 'echo ${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]}.${BASH_VERSINFO[2]}' 2>/dev/null",
                             bash, sizeof bash);
    return bash;
  }
  if (lang && strcmp(lang, "javascript") == 0) {
    if (!node[0]) first_line("/usr/bin/node --version 2>/dev/null", node, sizeof node);
    return node[0] == 'v' ? node + 1 : node;
  }
  return jk_python_version();
}

const char *jk_kernel_name(const gw_sandbox_t *sb) {
  const char *n = json_string_value(json_object_get(json_object_get(sb->rec, "jupyter"), "kernel_name"));
  return n ? n : "python3";
}

static void item_free(jk_item_t *it) {
  sl_msg_free(&it->msg);
  free(it);
}

static void buf_clear(jk_kernel_t *k) {
  while (k->buf_head) {
    jk_item_t *it = k->buf_head;
    k->buf_head = it->next;
    item_free(it);
  }
  k->buf_tail = NULL;
  k->buf_n = k->buf_bytes = 0;
}

static void kernel_free(jk_kernel_t *k) {
  for (jws_conn_t *c = k->conns; c; c = c->next) {
    c->attached = 0;
    jws_close(c, "the kernel is gone");
  }
  buf_clear(k);
  free(k);
}

static void unlink_kernel(jk_kernel_t *k) {
  for (jk_kernel_t **pp = &g_kernels; *pp; pp = &(*pp)->next) {
    if (*pp == k) {
      *pp = k->next;
      g_n_kernels--;
      return;
    }
  }
}

jk_kernel_t *jk_find(const char *id) {
  for (jk_kernel_t *k = g_kernels; k; k = k->next) {
    if (strcmp(k->id, id) != 0) continue;
    gw_sandbox_t *sb = reg_find_id(id);
    if (!sb || sb->deleting) {
      jk_forget(id, 1);
      return NULL;
    }
    return k;
  }
  return NULL;
}

jk_kernel_t *jk_get(gw_sandbox_t *sb) {
  jk_kernel_t *k = jk_find(sb->id);
  if (k) return k;
  if (g_n_kernels >= JK_MAX_KERNELS) return NULL;
  k = calloc(1, sizeof(*k));
  if (!k) return NULL;
  snprintf(k->id, sizeof(k->id), "%s", sb->id);
  snprintf(k->name, sizeof(k->name), "%s", jk_kernel_name(sb));
  sl_uuid_str(k->session);
  k->state = sb->connected ? "idle" : "starting";
  k->last_activity_us = now_us();
  k->next = g_kernels;
  g_kernels = k;
  g_n_kernels++;
  return k;
}

void jk_forget(const char *id, int say_dead) {
  jk_kernel_t *k = g_kernels;
  while (k && strcmp(k->id, id) != 0) k = k->next;
  if (!k) return;
  unlink_kernel(k);
  jr_kernel_gone(k->id);
  if (say_dead) {
    k->state = "dead";
    jk_emit(k, NULL, "iopub", "status", NULL, json_pack("{s:s}", "execution_state", "dead"));
  }
  kernel_free(k);
}

void jk_touch(jk_kernel_t *k) { k->last_activity_us = now_us(); }

static void buffer_msg(jk_kernel_t *k, const sl_msg_t *msg, const char *channel) {
  jk_item_t *it = calloc(1, sizeof(*it));
  if (!it) return;
  it->msg = sl_msg_new("x", "", NULL, NULL);
  if (!it->msg) {
    free(it);
    return;
  }
  json_decref(it->msg->header);
  json_decref(it->msg->parent_header);
  json_decref(it->msg->metadata);
  json_decref(it->msg->content);
  it->msg->header = json_deep_copy(msg->header);
  it->msg->parent_header = json_deep_copy(msg->parent_header);
  it->msg->metadata = json_deep_copy(msg->metadata);
  it->msg->content = json_deep_copy(msg->content);
  snprintf(it->channel, sizeof(it->channel), "%s", channel);
  char *txt = json_dumps(msg->content, JSON_COMPACT);
  it->bytes = 512 + (txt ? strlen(txt) : 0);
  free(txt);
  if (!it->msg->header || !it->msg->content || it->bytes > JK_BUF_MAX_BYTES) {
    item_free(it);
    k->buf_dropped++;
    return;
  }
  if (k->buf_tail)
    k->buf_tail->next = it;
  else
    k->buf_head = it;
  k->buf_tail = it;
  k->buf_n++;
  k->buf_bytes += it->bytes;
  while (k->buf_head && (k->buf_n > JK_BUF_MAX_MSGS || k->buf_bytes > JK_BUF_MAX_BYTES)) {
    jk_item_t *old = k->buf_head;
    k->buf_head = old->next;
    if (!k->buf_head) k->buf_tail = NULL;
    k->buf_n--;
    k->buf_bytes -= old->bytes;
    item_free(old);
    k->buf_dropped++;
  }
}

void jk_attach(jk_kernel_t *k, jws_conn_t *c) {
  /* a reconnect of the same client session replaces its stale connection */
  for (jws_conn_t *o = k->conns; o; o = o->next)
    if (o != c && c->session_id[0] && strcmp(o->session_id, c->session_id) == 0) jws_close(o, "replaced by a new connection");
  c->next = k->conns;
  k->conns = c;
  k->n_conns++;
  c->attached = 1;
  if (k->buf_head && c->session_id[0] && strcmp(c->session_id, k->last_session_id) == 0) {
    for (jk_item_t *it = k->buf_head; it; it = it->next) jws_send(c, it->msg, it->channel);
    if (k->buf_dropped)
      fprintf(stderr, "sluice-gateway: kernel %s: %lu buffered messages were dropped while no client was connected\n",
              k->id, k->buf_dropped);
  }
  buf_clear(k);
  k->buf_dropped = 0;
  snprintf(k->last_session_id, sizeof(k->last_session_id), "%s", c->session_id);
}

void jk_detach(jws_conn_t *c) {
  if (!c->attached) return;
  c->attached = 0;
  jk_kernel_t *k = NULL;
  for (k = g_kernels; k; k = k->next)
    if (strcmp(k->id, c->kernel_id) == 0) break;
  if (!k) return;
  for (jws_conn_t **pp = &k->conns; *pp; pp = &(*pp)->next) {
    if (*pp == c) {
      *pp = c->next;
      k->n_conns--;
      break;
    }
  }
  c->next = NULL;
}

void jk_publish(jk_kernel_t *k, jws_conn_t *target, const sl_msg_t *msg, const char *channel) {
  if (target && target->attached && !target->closing) {
    jws_send(target, msg, channel);
    return;
  }
  int sent = 0;
  if (strcmp(channel, "iopub") == 0) {
    for (jws_conn_t *c = k->conns, *next; c; c = next) {
      next = c->next;
      if (!c->closing && jws_send(c, msg, channel) == 0) sent = 1;
    }
  }
  if (!sent && !k->n_conns) buffer_msg(k, msg, channel);
}

void jk_emit(jk_kernel_t *k, jws_conn_t *target, const char *channel, const char *msg_type, const json_t *parent,
             json_t *content) {
  sl_msg_t *m = sl_jf_message(msg_type, k->session, parent, content);
  if (!m) return;
  jk_publish(k, target, m, channel);
  sl_msg_free(&m);
}

void jk_set_state(jk_kernel_t *k, const char *state, const json_t *parent) {
  k->state = state;
  jk_emit(k, NULL, "iopub", "status", parent, json_pack("{s:s}", "execution_state", state));
}
