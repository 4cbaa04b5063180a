/* test_gw_routes.c — the route matcher and listen-address parsing. */
#include "config.h"
#include "routes.h"
#include "tcheck.h"

#include <string.h>

int main(void) {
  gw_match_t m;
  CHECK(gw_route_match(GW_M_GET, "/health", &m) == 0 && m.route->id == GW_R_HEALTH);
  CHECK(gw_route_match(GW_M_HEAD, "/health", &m) == 0);
  CHECK(gw_route_match(GW_M_POST, "/health", &m) == -405);
  CHECK(gw_route_match(GW_M_GET, "/api/v1/sandboxes", &m) == 0 && m.route->id == GW_R_SB_LIST);
  CHECK(gw_route_match(GW_M_GET, "/api/v1/sandboxes/", &m) == 0 && m.route->id == GW_R_SB_LIST);
  CHECK(gw_route_match(GW_M_POST, "/api/v1/sandboxes", &m) == 0 && m.route->id == GW_R_SB_CREATE);
  CHECK(m.route->flags & GW_RF_JSON_BODY);
  CHECK(gw_route_match(GW_M_DELETE, "/api/v1/sandboxes", &m) == 0 && m.route->id == GW_R_SB_DELETE_ALL);
  CHECK(gw_route_match(GW_M_PUT, "/api/v1/sandboxes", &m) == -405);
  CHECK(gw_route_match(GW_M_GET, "/api/v1/sandboxes/abc", &m) == 0 && m.route->id == GW_R_SB_GET);
  CHECK(m.n_params == 1 && strcmp(m.params[0], "abc") == 0);
  CHECK(gw_route_match(GW_M_DELETE, "/api/v1/sandboxes/abc", &m) == 0 && m.route->id == GW_R_SB_DELETE);
  CHECK(gw_route_match(GW_M_POST, "/api/v1/sandboxes/x-1/exec", &m) == 0 && m.route->id == GW_R_SB_EXEC);
  CHECK(strcmp(m.params[0], "x-1") == 0);
  CHECK(gw_route_match(GW_M_POST, "/api/v1/sandboxes/x/code", &m) == 0 && m.route->id == GW_R_SB_CODE);
  CHECK(gw_route_match(GW_M_GET, "/api/v1/sandboxes/x/code", &m) == -405);
  CHECK(gw_route_match(GW_M_POST, "/api/v1/sandboxes//exec", &m) == -404);
  CHECK(gw_route_match(GW_M_GET, "/api/v1/no-such-route", &m) == -404);
  CHECK(gw_route_match(GW_M_GET, "/api/v1/sandboxes/a/b/c", &m) == -404);
  CHECK(gw_route_match(GW_M_GET, "", &m) == -404);
  CHECK(gw_route_match(GW_M_GET, "relative", &m) == -404);
  char longp[4000];
  memset(longp, 'a', sizeof(longp) - 1);
  longp[0] = '/';
  longp[sizeof(longp) - 1] = 0;
  CHECK(gw_route_match(GW_M_GET, longp, &m) == -404);
  char param[300] = "/api/v1/sandboxes/";
  memset(param + strlen(param), 'b', 200);
  CHECK(gw_route_match(GW_M_GET, param, &m) == -404); /* a parameter over its maximum never matches */
  CHECK(gw_method_from_str("GET") == GW_M_GET && gw_method_from_str("PATCH") == GW_M_OTHER);

  char host[64];
  int port;
  CHECK(gw_parse_listen("127.0.0.1:0", host, sizeof(host), &port) == 0 && port == 0 && !strcmp(host, "127.0.0.1"));
  CHECK(gw_parse_listen("[::1]:7700", host, sizeof(host), &port) == 0 && port == 7700 && !strcmp(host, "::1"));
  CHECK(gw_parse_listen("localhost", host, sizeof(host), &port) < 0);
  CHECK(gw_parse_listen("h:99999", host, sizeof(host), &port) < 0);
  CHECK(gw_parse_listen(":80", host, sizeof(host), &port) < 0);
  CHECK(gw_parse_listen("h:8x", host, sizeof(host), &port) < 0);
  T_DONE();
}
