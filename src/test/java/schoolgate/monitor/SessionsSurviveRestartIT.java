package schoolgate.monitor;

import at.favre.lib.crypto.bcrypt.BCrypt;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.support.GatewayFixture;
import schoolgate.support.Pg;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static schoolgate.monitor.MonitorTestSupport.GUARD;
import static schoolgate.monitor.MonitorTestSupport.PASSWORD;

/**
 * A restart of the gateway (an upgrade, a crash at 7:45) does not log the guards out: their
 * screens reconnect with the session they had. What ends a session still ends it across a
 * restart: logging out, the guard's removal from {@code guards}, a new password.
 */
class SessionsSurviveRestartIT {

  @TempDir
  Path dir;

  private final Vertx vertx = Vertx.vertx();
  private Gateway gateway;
  /** Made once: every bcrypt hash has its own salt, and a new hash is a new password. */
  private JsonObject config;

  @AfterEach
  void tearDown() {
    if (gateway != null) {
      GatewayFixture.await(gateway.stop());
    }
    GatewayFixture.await(vertx.close());
  }

  /** (Re)starts the gateway on the same database, with {@code change} applied to its config. */
  private MonitorTestSupport.Http restart(Consumer<JsonObject> change) {
    if (gateway != null) {
      GatewayFixture.await(gateway.stop());
    }
    if (config == null) {
      config = MonitorTestSupport.config(dir);
    }
    JsonObject changed = config.copy();
    change.accept(changed);
    gateway = GatewayFixture.start(vertx, changed);
    return new MonitorTestSupport.Http(gateway.httpPort());
  }

  private MonitorTestSupport.Http restart() {
    return restart(config -> { });
  }

  /** A guard logged in on a fresh gateway; its session cookie. */
  private String loggedIn() {
    MonitorTestSupport.Http http = restart();
    assertEquals(200, http.login(GUARD, PASSWORD).statusCode());
    return http.cookieHeader();
  }

  private static HttpResponse<String> me(MonitorTestSupport.Http http, String cookie) {
    return http.get("/api/me", "Cookie", cookie);
  }

  @Test
  void aGuardIsStillLoggedInAfterARestartUntilLoggingOut() {
    MonitorTestSupport.Http http = restart();
    assertEquals(200, http.login(GUARD, PASSWORD).statusCode());
    String cookie = http.cookieHeader();
    String csrf = http.csrf();

    MonitorTestSupport.Http again = restart();
    HttpResponse<String> me = me(again, cookie);
    assertEquals(200, me.statusCode(), "the session outlived the restart");
    assertEquals(GUARD, new JsonObject(me.body()).getString("guard"));
    assertEquals(csrf, new JsonObject(me.body()).getString("csrf"), "and its CSRF token with it");
    assertEquals(200, again.get("/", "Cookie", cookie, "Accept", "text/html").statusCode(), "the page itself");
    // The database keeps a digest of the id, never the cookie's value.
    String id = cookie.substring(cookie.indexOf('=') + 1);
    assertEquals(1, Pg.count(gateway.database().pool(),
        "SELECT count(*) FROM guard_sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))", id));
    assertEquals(0, Pg.count(gateway.database().pool(),
        "SELECT count(*) FROM guard_sessions WHERE position($1 in data) > 0", id));

    assertEquals(200, again.post("/api/logout", "{}", "Cookie", cookie, "X-CSRF-Token", csrf).statusCode());
    assertEquals(401, me(again, cookie).statusCode(), "logged out");
    assertEquals(401, me(restart(), cookie).statusCode(), "and still logged out after a restart");
  }

  @Test
  void aGuardRemovedFromTheConfigurationLosesTheSessionAtTheRestart() {
    String cookie = loggedIn();
    MonitorTestSupport.Http http = restart(config -> config.put("guards", new JsonObject()
        .put("boris", BCrypt.withDefaults().hashToString(4, "Other-Guard-1".toCharArray()))));
    assertEquals(401, me(http, cookie).statusCode());
  }

  @Test
  void aNewPasswordEndsTheSessionsOpenedWithTheOldOne() {
    String cookie = loggedIn();
    MonitorTestSupport.Http http = restart(config -> config.put("guards", new JsonObject()
        .put(GUARD, BCrypt.withDefaults().hashToString(4, "A-New-Password-2".toCharArray()))));
    assertEquals(401, me(http, cookie).statusCode());
    assertEquals(200, http.login(GUARD, "A-New-Password-2").statusCode(), "the new password works");
  }
}
