/* stream_ws_watch.c — watch / unwatch on the native streaming websocket (stream_ws.h,
 * protocol/docs/stream_ws.md). A watch is one sluice_watch_request {op: start} to the runner, which
 * runs inotify inside the sandbox (kernel-runner/watch.h); its sluice_fs_event events become
 *   watching {path}                                once every inotify watch is in place
 *   fs_event {event: create|write|remove|rename|chmod, path, from?}, fs_event {event: overflow}
 * and its reply `done {}` (stopped, or its directory gone) or `error {name, value}`. fs_event frames are
 * droppable past the socket's queue cap; a drop owes the client one overflow, sent before the next
 * event that fits or when the queue has drained (sws_watch_owed), whichever comes first. unwatch {watch_id} sends stop {msg_id} for that watch: the watch's `done` comes
 * first, then the unwatch's own `done`.
 *
 * Ownership: as stream_ws_reqs.c — each sws_req_t is freed by its bridge callback (sws_req_end).
 */
#include "stream_ws.h"

#include "sluice/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWS_UNWATCH_TIMEOUT_MS 30000

static void watch_event(void *ctx, const sl_msg_t *m) {
  sws_req_t *r = ctx;
  if (!r->c || strcmp(sl_msg_type(m), SL_OP_FS_EVENT) != 0) return;
  const json_t *c = m->content;
  const char *ev = json_string_value(json_object_get(c, "event"));
  if (!strcmp(ev, "watching")) {
    sws_send(r->c, "watching", r->id, json_pack("{s:O}", "path", json_object_get(c, "path")), 0);
    return;
  }
  if (r->cut && sws_send(r->c, "fs_event", r->id, json_pack("{s:s}", "event", "overflow"), 1) == 0) r->cut = 0;
  if (r->cut) return; /* still no room: this one is part of what the overflow covers */
  json_t *f = json_pack("{s:s}", "event", ev);
  if (f && json_is_string(json_object_get(c, "path"))) json_object_set(f, "path", json_object_get(c, "path"));
  if (f && json_is_string(json_object_get(c, "from"))) json_object_set(f, "from", json_object_get(c, "from"));
  if (sws_send(r->c, "fs_event", r->id, f, 1) == 1) r->cut = 1;
}

static void watch_reply(void *ctx, const sl_msg_t *m) {
  sws_req_t *r = ctx;
  if (r->c) {
    const json_t *c = m->content;
    if (strcmp(json_string_value(json_object_get(c, "status")), "ok") != 0)
      sws_send_fail(r, json_string_value(json_object_get(c, "code")), json_string_value(json_object_get(c, "message")));
    else
      sws_send(r->c, "done", r->id, NULL, 0);
  }
  sws_req_end(r);
}

static void watch_fail(void *ctx, int status, const char *code, const char *message) {
  (void)status;
  sws_req_t *r = ctx;
  if (r->c) {
    sws_send_fail(r, code, message);
    /* the bridge gave up on it (its timeout): the runner's watcher must not outlive the request */
    if (r->flow_id[0]) sws_watch_stop(r->sb_id, r->flow_id, NULL, NULL);
  }
  sws_req_end(r);
}

const zb_handlers_t SWS_WATCH_H = {watch_event, watch_reply, watch_fail};

void sws_watch_owed(sws_conn_t *c) {
  for (sws_req_t *r = c->reqs; r; r = r->next)
    if (r->type == SL_SF_WATCH && r->cut && sws_send(c, "fs_event", r->id, json_pack("{s:s}", "event", "overflow"), 1) == 0)
      r->cut = 0;
}

static void stop_noop_reply(void *ctx, const sl_msg_t *m) { (void)ctx, (void)m; }
static void stop_noop_fail(void *ctx, int status, const char *code, const char *message) {
  (void)ctx, (void)status, (void)code, (void)message;
}
static const zb_handlers_t STOP_NOOP_H = {NULL, stop_noop_reply, stop_noop_fail};

int sws_watch_stop(const char *sb_id, const char *start_id, const zb_handlers_t *h, void *ctx) {
  return zb_request(sb_id, SL_OP_WATCH_REQUEST, json_pack("{s:s, s:s}", "op", "stop", "msg_id", start_id),
                    h ? h : &STOP_NOOP_H, ctx, SWS_UNWATCH_TIMEOUT_MS);
}

/* ---- unwatch */

static void unwatch_reply(void *ctx, const sl_msg_t *m) {
  sws_req_t *r = ctx;
  const json_t *c = m->content;
  const char *code = json_string_value(json_object_get(c, "code"));
  if (!r->c) {
  } else if (!strcmp(json_string_value(json_object_get(c, "status")), "ok") || (code && !strcmp(code, "not_found")))
    sws_send(r->c, "done", r->id, NULL, 0); /* not_found: it had just ended by itself */
  else
    sws_send_fail(r, code, json_string_value(json_object_get(c, "message")));
  sws_req_end(r);
}

static void unwatch_fail(void *ctx, int status, const char *code, const char *message) {
  (void)status;
  sws_req_t *r = ctx;
  if (r->c) sws_send_fail(r, code, message);
  sws_req_end(r);
}

static const zb_handlers_t UNWATCH_H = {NULL, unwatch_reply, unwatch_fail};

void sws_unwatch(sws_conn_t *c, sl_sf_req_t *q) {
  sws_req_t *w = c->reqs;
  while (w && !(w->type == SL_SF_WATCH && !strcmp(w->id, q->target))) w = w->next;
  if (!w || !w->flow_id[0]) {
    sws_send(c, "error", q->id,
             json_pack("{s:s, s:s}", "name", "not_found", "value", "no running watch with that id on this socket"), 0);
    return;
  }
  sws_req_t *r = sws_req_new(c, q);
  if (!r) return;
  if (sws_watch_stop(c->sb_id, w->flow_id, &UNWATCH_H, r) < 0) {
    free(r);
    sws_send(c, "error", q->id, json_pack("{s:s, s:s}", "name", "busy", "value", "too many requests in flight"), 0);
    return;
  }
  sws_req_link(c, r);
}
