/* culler.c — inactivity timeouts and hard lifetimes of sandboxes, on one timer (culler.h). */
#include "culler.h"

#include "jupyter.h"
#include "lifecycle.h"
#include "log.h"
#include "metrics.h"
#include "zmq_bridge.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static lws_sorted_usec_list_t g_sul;
static int64_t g_armed_ms; /* when the timer fires; 0 = not armed */
static int g_running;

int64_t culler_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t rec_int(const gw_sandbox_t *sb, const char *key) {
  return (int64_t)json_integer_value(json_object_get(sb->rec, key));
}

static int64_t last_active_ms(const gw_sandbox_t *sb) {
  int64_t last = rec_int(sb, "last_active_ms"), created = rec_int(sb, "created_at") * 1000;
  return last > created ? last : created;
}

/* The inactivity and hard deadlines (ms), 0 when none. */
static int64_t idle_deadline(const gw_sandbox_t *sb) {
  int64_t t = rec_int(sb, "timeout");
  return t > 0 ? last_active_ms(sb) + t * 1000 : 0;
}

static int64_t ttl_deadline(const gw_sandbox_t *sb) {
  int64_t t = rec_int(sb, "ttl_seconds");
  return t > 0 ? rec_int(sb, "created_at") * 1000 + t * 1000 : 0;
}

static int64_t earliest(int64_t a, int64_t b) { return !a ? b : !b ? a : (a < b ? a : b); }

static void pass_cb(lws_sorted_usec_list_t *sul);

/* A kernel whose notebook is open but quiet is in use: Jupyter's own culler skips connected kernels too. */
static int has_open_channels(const gw_sandbox_t *sb) {
  const jk_kernel_t *k = jk_find(sb->id);
  return k && k->n_conns > 0;
}

static void arm(int64_t at_ms) {
  if (!g_running || !at_ms || !g_gw.ctx) return;
  int64_t now = culler_now_ms();
  if (at_ms < now + CULLER_MIN_REARM_MS) at_ms = now + CULLER_MIN_REARM_MS;
  if (g_armed_ms && g_armed_ms <= at_ms) return; /* an earlier pass is due anyway */
  g_armed_ms = at_ms;
  lws_sul_schedule(g_gw.ctx, 0, &g_sul, pass_cb, (lws_usec_t)(at_ms - now) * 1000);
}

static void persist_activity(gw_sandbox_t *sb, int force) {
  int64_t last = rec_int(sb, "last_active_ms");
  if (!last || last == sb->active_saved_ms) return;
  int64_t every = rec_int(sb, "timeout") * 1000 / CULLER_PERSIST_FRACTION;
  if (every > CULLER_PERSIST_MAX_MS || every <= 0) every = CULLER_PERSIST_MAX_MS;
  if (!force && last - sb->active_saved_ms < every) return;
  if (reg_persist(sb) == 0) sb->active_saved_ms = last;
}

void culler_touch(gw_sandbox_t *sb) {
  if (!sb || sb->deleting) return;
  json_object_set_new(sb->rec, "last_active_ms", json_integer((json_int_t)culler_now_ms()));
  persist_activity(sb, 0);
  /* moving a deadline later needs no timer change (the pass re-arms); arm() is a no-op unless this is
   * the earliest deadline, as for a new sandbox */
  arm(earliest(idle_deadline(sb), ttl_deadline(sb)));
}

void culler_touch_id(const char *sandbox_id) {
  if (sandbox_id) culler_touch(reg_find_id(sandbox_id));
}

int culler_set_timeout(gw_sandbox_t *sb, uint32_t timeout_s) {
  json_object_set_new(sb->rec, "timeout", json_integer(timeout_s));
  json_object_set_new(sb->rec, "last_active_ms", json_integer((json_int_t)culler_now_ms()));
  int rc = reg_persist(sb);
  if (rc == 0) sb->active_saved_ms = rec_int(sb, "last_active_ms");
  arm(idle_deadline(sb)); /* a shorter timeout may be due before the armed pass */
  return rc;
}

/* One pass: deletes what is due; returns the next deadline (0 = none). force: at start, every overdue
 * sandbox goes, also one whose runner has not reconnected yet. */
static int64_t pass(int force) {
  int64_t now = culler_now_ms(), next = 0;
  gw_sandbox_t *due[CULLER_MAX_PER_PASS];
  const char *why[CULLER_MAX_PER_PASS];
  size_t n = 0;
  for (gw_sandbox_t *sb = reg_first(); sb; sb = sb->next) {
    if (sb->deleting || sb->hidden) continue;
    int64_t idle = idle_deadline(sb), ttl = ttl_deadline(sb);
    if (idle && idle <= now && !force &&
        (strcmp(reg_status(sb), "starting") == 0 || zb_pending_for(sb->id) > 0 || has_open_channels(sb))) {
      /* starting, busy with a request, or a notebook is attached to it: not idle */
      json_object_set_new(sb->rec, "last_active_ms", json_integer((json_int_t)now));
      idle = idle_deadline(sb);
    }
    int idle_due = idle && idle <= now, ttl_due = ttl && ttl <= now;
    if ((idle_due || ttl_due) && n < CULLER_MAX_PER_PASS) {
      why[n] = ttl_due ? "ttl" : "idle";
      due[n++] = sb;
      continue;
    }
    next = earliest(next, idle_due || ttl_due ? now : earliest(idle, ttl));
  }
  /* collected first: a delete may finish (and unlink its sandbox) before the loop would move on */
  for (size_t i = 0; i < n; i++) {
    log_event("sandbox_expired", due[i]->id, "{s:s, s:s, s:I, s:I}", "reason", why[i], "message",
              strcmp(why[i], "ttl") == 0 ? "its ttl_seconds elapsed, deleting" : "idle past its timeout, deleting",
              "timeout", (json_int_t)rec_int(due[i], "timeout"), "idle_ms", (json_int_t)(now - last_active_ms(due[i])));
    metrics_culled(why[i]);
    if (lc_delete(due[i], NULL, NULL) < 0) next = earliest(next, now);
  }
  return next;
}

static void pass_cb(lws_sorted_usec_list_t *sul) {
  g_armed_ms = 0;
  arm(pass(0));
}

void culler_start(void) {
  g_running = 1;
  arm(pass(1));
}

void culler_stop(void) {
  for (gw_sandbox_t *sb = reg_first(); sb; sb = sb->next)
    if (!sb->deleting && !sb->hidden) persist_activity(sb, 1);
  g_running = 0;
  g_armed_ms = 0;
  if (g_gw.ctx) lws_sul_cancel(&g_sul);
}
