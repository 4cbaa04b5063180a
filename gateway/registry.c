/* registry.c — sandboxes in memory, mirrored to their sandbox.json. */
#include "registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_sandbox_t *g_head;
static size_t g_count;

gw_sandbox_t *reg_first(void) { return g_head; }
size_t reg_count(void) { return g_count; }

void reg_path(const char *id, const char *leaf, char *out, size_t len) {
  if (leaf)
    snprintf(out, len, "%s/sandboxes/%s/%s", g_gw.cfg.state_dir, id, leaf);
  else
    snprintf(out, len, "%s/sandboxes/%s", g_gw.cfg.state_dir, id);
}

gw_sandbox_t *reg_add(const char *id, json_t *rec, unsigned slot) {
  gw_sandbox_t *sb = calloc(1, sizeof(*sb));
  if (!sb) {
    json_decref(rec);
    return NULL;
  }
  snprintf(sb->id, sizeof(sb->id), "%s", id);
  sb->rec = rec;
  sb->slot = slot;
  /* append, so listings keep creation order */
  gw_sandbox_t **pp = &g_head;
  while (*pp) pp = &(*pp)->next;
  *pp = sb;
  g_count++;
  return sb;
}

void reg_remove(gw_sandbox_t *sb) {
  for (gw_sandbox_t **pp = &g_head; *pp; pp = &(*pp)->next) {
    if (*pp == sb) {
      *pp = sb->next;
      g_count--;
      break;
    }
  }
  json_decref(sb->rec);
  free(sb);
}

gw_sandbox_t *reg_find_id(const char *id) {
  for (gw_sandbox_t *sb = g_head; sb; sb = sb->next)
    if (strcmp(sb->id, id) == 0) return sb;
  return NULL;
}

static gw_sandbox_t *visible(gw_sandbox_t *sb) { return sb && !sb->hidden ? sb : NULL; }

const char *reg_str(const gw_sandbox_t *sb, const char *key) {
  const char *s = json_string_value(json_object_get(sb->rec, key));
  return s ? s : "";
}

gw_sandbox_t *reg_find_name(const char *name, const char *ns) {
  if (!ns) ns = "default";
  for (gw_sandbox_t *sb = g_head; sb; sb = sb->next)
    if (!sb->hidden && strcmp(reg_str(sb, "name"), name) == 0 && strcmp(reg_str(sb, "namespace"), ns) == 0)
      return sb;
  return NULL;
}

gw_sandbox_t *reg_lookup(const char *id_or_name, const char *ns) {
  gw_sandbox_t *sb = visible(reg_find_id(id_or_name));
  return sb ? sb : reg_find_name(id_or_name, ns);
}

int reg_alloc_slot(void) {
  for (unsigned s = 0; s < GW_MAX_SLOTS; s++) {
    int used = 0;
    for (gw_sandbox_t *sb = g_head; sb && !used; sb = sb->next) used = sb->slot == s;
    if (!used) return (int)s;
  }
  return -ENOSPC;
}

const char *reg_status(const gw_sandbox_t *sb) {
  const char *s = reg_str(sb, "status");
  return *s ? s : "starting";
}

int reg_persist(gw_sandbox_t *sb) {
  char path[4096];
  reg_path(sb->id, "sandbox.json", path, sizeof(path));
  char *s = json_dumps(sb->rec, JSON_INDENT(2) | JSON_SORT_KEYS);
  if (!s) return -ENOMEM;
  int rc = gw_write_atomic(path, s, strlen(s), 0600);
  free(s);
  if (rc < 0) fprintf(stderr, "sluice-gateway: persist %s: %s\n", path, strerror(-rc));
  return rc;
}

int reg_set_status(gw_sandbox_t *sb, const char *status, const char *err) {
  json_object_set_new(sb->rec, "status", json_string(status));
  if (err)
    json_object_set_new(sb->rec, "error_message", json_string(err));
  else if (strcmp(status, "running") == 0)
    json_object_del(sb->rec, "error_message");
  return reg_persist(sb);
}
