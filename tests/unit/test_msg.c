/* test_msg.c — message builders, accessors, ids and timestamps (protocol/src/msg.c). */
#include "sluice/msg.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_test.h"

static int is_uuid4(const char *s) {
  if (strlen(s) != 36) return 0;
  for (int i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return 0;
    } else if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
      return 0;
    }
  }
  return s[14] == '4' && strchr("89ab", s[19]) != NULL; /* version 4, RFC 4122 variant */
}

static void test_uuid(void) {
  enum { N = 2000 };
  static char ids[N][37];
  for (int i = 0; i < N; i++) {
    sl_uuid_str(ids[i]);
    CHECK(is_uuid4(ids[i]));
  }
  int dups = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < i; j++) dups += strcmp(ids[i], ids[j]) == 0;
  CHECK_EQ_INT(dups, 0);
}

/* RFC 3339 UTC with exactly six fractional digits and "Z". */
static int is_iso_time(const char *s) {
  const char *pat = "dddd-dd-ddTdd:dd:dd.ddddddZ";
  if (strlen(s) != strlen(pat)) return 0;
  for (size_t i = 0; pat[i]; i++) {
    if (pat[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != pat[i]) return 0;
  }
  return 1;
}

static void test_time(void) {
  char t[32];
  memset(t, 'x', sizeof t);
  sl_time_iso(t);
  CHECK(is_iso_time(t));
  /* the value is "now" in UTC: parse it back and compare with time() (a sanity bound of a day, not a
   * timing assertion) */
  struct tm tm = {0};
  char *end = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm);
  REQUIRE(end && *end == '.');
  time_t parsed = timegm(&tm), now = time(NULL);
  CHECK(parsed <= now + 1 && now - parsed < 86400);
}

static void test_new_fields(void) {
  sl_msg_t *m = sl_msg_new("execute_request", "sess-abc", NULL, NULL);
  REQUIRE(m);
  CHECK(is_uuid4(sl_msg_id(m)));
  CHECK_STREQ(sl_msg_type(m), "execute_request");
  CHECK_STREQ(sl_msg_session(m), "sess-abc");
  CHECK_STREQ(json_string_value(json_object_get(m->header, "username")), "sluice");
  CHECK_STREQ(json_string_value(json_object_get(m->header, "version")), SL_PROTOCOL_VERSION);
  CHECK_STREQ(SL_PROTOCOL_VERSION, "5.3");
  const char *date = json_string_value(json_object_get(m->header, "date"));
  CHECK(date && is_iso_time(date));
  CHECK_EQ_INT(json_object_size(m->header), 6);
  /* no parent: {} parent header, {} metadata, {} content, no idents or buffers */
  CHECK(json_is_object(m->parent_header) && json_object_size(m->parent_header) == 0);
  CHECK(json_is_object(m->metadata) && json_object_size(m->metadata) == 0);
  CHECK(json_is_object(m->content) && json_object_size(m->content) == 0);
  CHECK_STREQ(sl_msg_parent_id(m), "");
  CHECK_EQ_INT(m->n_idents, 0);
  CHECK_EQ_INT(m->n_buffers, 0);
  /* distinct ids per message */
  sl_msg_t *m2 = sl_msg_new("execute_request", "sess-abc", NULL, NULL);
  REQUIRE(m2);
  CHECK(strcmp(sl_msg_id(m), sl_msg_id(m2)) != 0);
  sl_msg_free(&m2);
  sl_msg_free(&m);
  CHECK(m == NULL);
  sl_msg_free(&m); /* NULL is fine */
  sl_msg_free(NULL);

  /* NULL session becomes "" (still a string, so decode's header check passes) */
  m = sl_msg_new("status", NULL, NULL, NULL);
  REQUIRE(m);
  CHECK(json_is_string(json_object_get(m->header, "session")));
  CHECK_STREQ(sl_msg_session(m), "");
  sl_msg_free(&m);
}

static void test_content_stolen(void) {
  json_t *c = json_pack("{s:s}", "code", "1+1");
  REQUIRE(c);
  sl_msg_t *m = sl_msg_new("execute_request", "s", NULL, c);
  REQUIRE(m);
  CHECK(m->content == c);
  CHECK_EQ_INT(c->refcount, 1); /* the message holds the only reference */
  sl_msg_free(&m);

  /* a failing build still consumes content: no leak under ASan */
  json_t *c2 = json_pack("{s:i}", "x", 1);
  sl_msg_t *bad = sl_msg_new(NULL, "s", NULL, c2);
  CHECK(bad == NULL);
}

static void test_parent(void) {
  sl_msg_t *p = sl_msg_new("execute_request", "client-session", NULL, json_pack("{s:s}", "code", "x"));
  REQUIRE(p);
  CHECK_EQ_INT(sl_msg_add_ident(p, "router-a", 8), 0);
  CHECK_EQ_INT(sl_msg_add_ident(p, "", 0), 0); /* empty ident is a valid frame */
  CHECK_EQ_INT(sl_msg_add_ident(p, "\x00\xff", 2), 0);
  CHECK_EQ_INT(p->n_idents, 3);

  sl_msg_t *r = sl_msg_new("execute_reply", "runner-session", p, NULL);
  REQUIRE(r);
  /* parent_header is a copy of the parent's header, not a shared reference */
  CHECK(json_equal(r->parent_header, p->header));
  CHECK(r->parent_header != p->header);
  CHECK_STREQ(sl_msg_parent_id(r), sl_msg_id(p));
  CHECK_STREQ(sl_msg_session(r), "runner-session");
  CHECK(strcmp(sl_msg_id(r), sl_msg_id(p)) != 0);
  /* idents copied so the reply routes back */
  CHECK_EQ_INT(r->n_idents, 3);
  CHECK(r->idents[0].len == 8 && memcmp(r->idents[0].data, "router-a", 8) == 0);
  CHECK(r->idents[0].data != p->idents[0].data);
  CHECK_EQ_INT(r->idents[1].len, 0);
  CHECK(r->idents[2].len == 2 && memcmp(r->idents[2].data, "\x00\xff", 2) == 0);
  /* content and metadata of the parent are not inherited */
  CHECK_EQ_INT(json_object_size(r->content), 0);

  /* the copy survives the parent */
  char pid[37];
  snprintf(pid, sizeof pid, "%s", sl_msg_id(p));
  sl_msg_free(&p);
  CHECK_STREQ(sl_msg_parent_id(r), pid);
  CHECK(r->idents[0].len == 8 && memcmp(r->idents[0].data, "router-a", 8) == 0);
  sl_msg_free(&r);
}

static void test_accessors_absent(void) {
  sl_msg_t m = {0};
  CHECK_STREQ(sl_msg_type(&m), "");
  CHECK_STREQ(sl_msg_id(&m), "");
  CHECK_STREQ(sl_msg_session(&m), "");
  CHECK_STREQ(sl_msg_parent_id(&m), "");
  m.header = json_pack("{s:i, s:n}", "msg_type", 3, "msg_id");
  m.parent_header = json_array();
  CHECK_STREQ(sl_msg_type(&m), "");
  CHECK_STREQ(sl_msg_id(&m), "");
  CHECK_STREQ(sl_msg_parent_id(&m), "");
  json_decref(m.header);
  json_decref(m.parent_header);
}

static void test_many_idents(void) {
  sl_msg_t *m = sl_msg_new("status", "s", NULL, NULL);
  REQUIRE(m);
  for (int i = 0; i < 100; i++) {
    char id[16];
    int n = snprintf(id, sizeof id, "peer-%d", i);
    CHECK_EQ_INT(sl_msg_add_ident(m, id, (size_t)n), 0);
  }
  CHECK_EQ_INT(m->n_idents, 100);
  CHECK(m->idents[99].len == 7 && memcmp(m->idents[99].data, "peer-99", 7) == 0);
  sl_msg_free(&m);
}

int main(void) {
  SL_RUN(test_uuid);
  SL_RUN(test_time);
  SL_RUN(test_new_fields);
  SL_RUN(test_content_stolen);
  SL_RUN(test_parent);
  SL_RUN(test_accessors_absent);
  SL_RUN(test_many_idents);
  return sl_test_summary();
}
