package schoolgate.monitor;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.support.GatewayFixture;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static schoolgate.monitor.MonitorTestSupport.ALYONA;
import static schoolgate.monitor.MonitorTestSupport.GUARD;
import static schoolgate.monitor.MonitorTestSupport.MARIA;
import static schoolgate.monitor.MonitorTestSupport.MARIA_CARD;
import static schoolgate.monitor.MonitorTestSupport.MARIA_NAME;
import static schoolgate.monitor.MonitorTestSupport.PASSWORD;

/** Who may see what on http.port, against a real gateway with a real database. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MonitorAccessIT {

  /** Everything behind the login: the page, its script, the feed, photos, roster, actions. */
  private static final List<String> PRIVATE_GETS = List.of("/", "/index.html", "/app/app.js",
      "/app/index.html", "/ws", "/api/me", "/api/readers", "/api/roster?q=%D0%B8%D0%B2%D0%B0%D0%BD",
      "/photo/" + MARIA, "/photo/nobody", "/passes", "/api/anything", "/public/../app/app.js");
  private static final List<String> PRIVATE_POSTS = List.of("/api/open", "/api/admit", "/api/logout",
      "/api/anything");

  private Vertx vertx;
  private Gateway gateway;

  @BeforeAll
  void start(@TempDir Path dir) {
    vertx = Vertx.vertx();
    gateway = GatewayFixture.start(vertx, MonitorTestSupport.config(dir));
    MonitorTestSupport.loadSchool(gateway);
  }

  @AfterAll
  void stop() {
    GatewayFixture.await(gateway.stop().eventually(vertx::close));
  }

  private MonitorTestSupport.Http http() {
    return new MonitorTestSupport.Http(gateway.httpPort());
  }

  @Test
  @Order(1)
  void everyUrlButTheLoginPageAnswers401OrRedirectWithoutASession() {
    MonitorTestSupport.Http anonymous = http();
    for (String accept : List.of("text/html,application/xhtml+xml", "application/json", "*/*")) {
      for (String path : PRIVATE_GETS) {
        assertRefused(anonymous.get(path, "Accept", accept), "GET " + path + " (" + accept + ")");
      }
      for (String path : PRIVATE_POSTS) {
        assertRefused(anonymous.post(path, "{\"reader\":\"r1\",\"reason\":\"x\",\"holder\":\"" + MARIA + "\"}",
            "Accept", accept, "X-CSRF-Token", "guess"), "POST " + path);
      }
    }
    // A page request is sent to the login page.
    HttpResponse<String> page = anonymous.get("/", "Accept", "text/html");
    assertEquals(302, page.statusCode());
    assertEquals("/login", page.headers().firstValue("Location").orElse(""));
    // Nothing above left a pass behind.
    assertTrue(MonitorTestSupport.guardPasses(gateway).isEmpty());

    // What is public: the login page and its assets, /health, /metrics.
    HttpResponse<String> login = anonymous.get("/login");
    assertEquals(200, login.statusCode());
    assertTrue(login.body().contains("login-form"));
    assertEquals(200, anonymous.get("/public/login.js").statusCode());
    assertEquals(200, anonymous.get("/public/style.css").statusCode());
    assertEquals(200, anonymous.get("/health").statusCode());
    assertEquals(200, anonymous.get("/metrics").statusCode());
  }

  @Test
  @Order(2)
  void aMadeUpSessionCookieIsNoSession() {
    String forged = "gate.session=" + HexFormat.of().formatHex(new SecureRandom().generateSeed(32));
    MonitorTestSupport.Http anonymous = http();
    assertRefused(anonymous.get("/api/me", "Cookie", forged), "forged cookie");
    assertRefused(anonymous.get("/photo/" + MARIA, "Cookie", forged), "forged cookie, photo");
  }

  @Test
  @Order(3)
  void theLiveFeedNeedsASessionAndThisOrigin() throws Exception {
    MonitorTestSupport.Http guard = http();
    URI ws = URI.create("ws://127.0.0.1:" + gateway.httpPort() + "/ws");

    ExecutionException noSession = assertThrows(ExecutionException.class, () -> HttpClient.newHttpClient()
        .newWebSocketBuilder().buildAsync(ws, new Collect()).get(10, TimeUnit.SECONDS));
    WebSocketHandshakeException refused = assertInstanceOf(WebSocketHandshakeException.class, noSession.getCause());
    assertEquals(401, refused.getResponse().statusCode());

    assertEquals(200, guard.login(GUARD, PASSWORD).statusCode());
    String cookie = guard.cookieHeader();
    assertEquals(400, guard.get("/ws").statusCode(), "a plain GET of the feed is answered, not left hanging");

    ExecutionException otherSite = assertThrows(ExecutionException.class, () -> HttpClient.newHttpClient()
        .newWebSocketBuilder().header("Cookie", cookie).header("Origin", "http://evil.example")
        .buildAsync(ws, new Collect()).get(10, TimeUnit.SECONDS));
    assertEquals(403, ((WebSocketHandshakeException) otherSite.getCause()).getResponse().statusCode());

    Collect received = new Collect();
    WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder().header("Cookie", cookie)
        .buildAsync(ws, received).get(10, TimeUnit.SECONDS);
    JsonObject hello = new JsonObject(received.first.get(10, TimeUnit.SECONDS));
    assertEquals("hello", hello.getString("type"));
    assertEquals(GUARD, hello.getString("guard"));
    assertEquals(4, hello.getJsonObject("status").getInteger("cards"));
    socket.abort();
  }

  @Test
  @Order(4)
  void aGuardGetsThePagePhotosAndTheRosterByAnyCaseAndYo() {
    MonitorTestSupport.Http guard = http();
    assertEquals(401, guard.login(GUARD, "wrong").statusCode());
    assertEquals(403, guard.post("/login", new JsonObject().put("login", GUARD).put("password", PASSWORD).encode(),
        "Origin", "http://evil.example").statusCode(), "no login from another site's page");
    HttpResponse<String> ok = guard.login(GUARD, PASSWORD);
    assertEquals(200, ok.statusCode());
    String cookie = ok.headers().firstValue("Set-Cookie").orElseThrow();
    assertTrue(cookie.contains("HTTPOnly") || cookie.contains("HttpOnly"), cookie);
    assertTrue(cookie.contains("SameSite=Strict"), cookie);

    assertEquals(200, guard.get("/", "Accept", "text/html").statusCode());
    assertEquals("/", guard.get("/login").headers().firstValue("Location").orElse(""), "logged in: login page leads on");
    assertEquals(200, guard.get("/app/app.js").statusCode());
    assertEquals(GUARD, new JsonObject(guard.get("/api/me").body()).getString("guard"));

    HttpResponse<byte[]> photo = bytes(guard, "/photo/" + MARIA);
    assertEquals(200, photo.statusCode());
    assertEquals("image/jpeg", photo.headers().firstValue("Content-Type").orElse(""));
    assertArrayEquals(photoInDatabase(MARIA), photo.body());
    assertEquals(404, guard.get("/photo/nobody").statusCode());

    assertEquals(List.of(MARIA), rosterIds(guard, "ИВАНОВА"));
    assertEquals(List.of(MARIA), rosterIds(guard, "мария петр"));
    assertEquals(List.of(ALYONA), rosterIds(guard, "алена"), "е finds ё");
    assertEquals(List.of(), rosterIds(guard, "zz"));
  }

  @Test
  @Order(5)
  void postsNeedTheCsrfTokenOfTheirOwnSession() {
    MonitorTestSupport.Http guard = http();
    MonitorTestSupport.Http other = http();
    assertEquals(200, guard.login(GUARD, PASSWORD).statusCode());
    assertEquals(200, other.login(GUARD, PASSWORD).statusCode());
    String token = guard.csrf();
    String otherToken = other.csrf();
    assertFalse(token.equals(otherToken));
    String open = "{\"reader\":\"r1\",\"reason\":\"проверка\"}";

    assertEquals(403, guard.post("/api/open", open).statusCode());
    assertEquals(403, guard.post("/api/open", open, "X-CSRF-Token", token + "x").statusCode());
    assertEquals(403, guard.post("/api/open", open, "X-CSRF-Token", otherToken).statusCode());
    assertEquals(403, guard.post("/api/open", open, "X-CSRF-Token", token, "Origin", "http://evil.example").statusCode());
    assertTrue(MonitorTestSupport.guardPasses(gateway).isEmpty(), "a refused action leaves no pass");

    assertEquals(400, guard.post("/api/open", "{\"reader\":\"r1\",\"reason\":\"  \"}", "X-CSRF-Token", token).statusCode(),
        "a reason is required");
    assertEquals(200, guard.post("/api/open", open, "X-CSRF-Token", token).statusCode());
    assertEquals(1, MonitorTestSupport.guardPasses(gateway).size());

    assertEquals(200, guard.post("/api/logout", "{}", "X-CSRF-Token", token).statusCode());
    assertRefused(guard.post("/api/open", open, "X-CSRF-Token", token), "after logout");
    assertRefused(guard.get("/api/me"), "after logout");
    assertEquals(1, MonitorTestSupport.guardPasses(gateway).size());
  }

  /**
   * Session fixation: a session cookie planted in the guard's browser before login (made up,
   * or a real anonymous session the attacker got from the login page) is not the session
   * after login; the attacker's cookie stays logged out.
   */
  @Test
  @Order(6)
  void aSessionCookiePlantedBeforeLoginIsNotTheSessionAfterIt() {
    List<String> planted = new java.util.ArrayList<>();
    planted.add(HexFormat.of().formatHex(new SecureRandom().generateSeed(32)));
    // What the attacker's own visit to the login page leaves in a cookie, if anything.
    MonitorTestSupport.Http attacker = http();
    attacker.get("/login");
    attacker.post("/login", new JsonObject().put("login", "nobody").put("password", "x").encode());
    String issued = sessionId(attacker);
    if (issued != null) {
      planted.add(issued);
    }
    for (String id : planted) {
      MonitorTestSupport.Http victim = http();
      HttpResponse<String> login = victim.post("/login", new JsonObject().put("login", GUARD).put("password", PASSWORD)
          .encode(), "Cookie", "gate.session=" + id);
      assertEquals(200, login.statusCode());
      String setCookie = login.headers().firstValue("Set-Cookie").orElse("");
      assertTrue(setCookie.startsWith("gate.session="), "a session cookie is set at login: " + setCookie);
      String after = setCookie.substring("gate.session=".length(), setCookie.indexOf(';'));
      assertFalse(after.equals(id), "the session id did not change at login: " + id);
      assertEquals(GUARD, new JsonObject(victim.get("/api/me").body()).getString("guard"));
      assertRefused(http().get("/api/me", "Cookie", "gate.session=" + id), "the planted cookie after the guard's login");
    }
  }

  /** Both actions, open and admit: no token, a wrong token, the right token from another site. */
  @Test
  @Order(6)
  void bothActionsRefuseMissingOrWrongCsrfTokensAndOtherSites() {
    MonitorTestSupport.Http guard = http();
    assertEquals(200, guard.login(GUARD, PASSWORD).statusCode());
    String token = guard.csrf();
    int before = MonitorTestSupport.guardPasses(gateway).size();
    String open = "{\"reader\":\"r1\",\"reason\":\"проверка\"}";
    String admit = "{\"holder\":\"" + MARIA + "\",\"reader\":\"r1\",\"reason\":\"забыла карту\"}";
    for (String[] action : List.of(new String[] {"/api/open", open}, new String[] {"/api/admit", admit})) {
      String path = action[0];
      String body = action[1];
      assertEquals(403, guard.post(path, body).statusCode(), path + " without a token");
      assertEquals(403, guard.post(path, body, "X-CSRF-Token", "").statusCode(), path + " with an empty token");
      assertEquals(403, guard.post(path, body, "X-CSRF-Token", token.substring(1)).statusCode(), path + " wrong token");
      assertEquals(403, guard.post(path, body, "X-CSRF-Token", token.toUpperCase(java.util.Locale.ROOT) + "A").statusCode(),
          path + " wrong token");
      for (String origin : List.of("http://evil.example", "null", "http://127.0.0.1:1", "https://evil.example")) {
        assertEquals(403, guard.post(path, body, "X-CSRF-Token", token, "Origin", origin).statusCode(),
            path + " from " + origin);
      }
      // A cross-site form post: no token header, a form body, another Origin.
      assertEquals(403, guard.postForm(path, "reader=r1&reason=x&holder=" + MARIA, "Origin", "http://evil.example")
          .statusCode(), path + " as a cross-site form");
    }
    assertEquals(before, MonitorTestSupport.guardPasses(gateway).size(), "a refused action leaves no pass");
    assertEquals(200, guard.post("/api/admit", admit, "X-CSRF-Token", token).statusCode(), "the right token admits");
    assertEquals(before + 1, MonitorTestSupport.guardPasses(gateway).size());
  }

  private static String sessionId(MonitorTestSupport.Http http) {
    return http.cookies.getCookieStore().getCookies().stream().filter(c -> c.getName().equals("gate.session"))
        .map(java.net.HttpCookie::getValue).findFirst().orElse(null);
  }

  @Test
  @Order(7)
  void metricsCountTapsAndDecisionsAndNameNobody() throws Exception {
    MqttClient reader = new MqttClient("tcp://127.0.0.1:" + gateway.readerPort(), "r1", new MemoryPersistence());
    MqttConnectOptions options = new MqttConnectOptions();
    options.setCleanSession(true);
    reader.connect(options);
    reader.publish("readers/r1/tap", new JsonObject().put("card", MARIA_CARD).put("seq", 1).toBuffer().getBytes(), 1, false);
    reader.publish("readers/r1/tap", new JsonObject().put("card", "DEADBEEF").put("seq", 2).toBuffer().getBytes(), 1, false);
    reader.publish("readers/r1/tap", "not json".getBytes(StandardCharsets.UTF_8), 1, false);
    // The same card again within the repeat window: answered, but no new decision or pass.
    reader.publish("readers/r1/tap", new JsonObject().put("card", MARIA_CARD).put("seq", 3).toBuffer().getBytes(), 1, false);
    reader.disconnect();
    reader.close();

    String metrics = http().get("/metrics").body();
    assertTrue(metrics.contains("gate_taps_total 4.0"), metrics);
    assertTrue(metrics.contains("gate_decisions_total{reason=\"bad_request\"} 1.0"), metrics);
    assertTrue(metrics.contains("gate_decisions_total{reason=\"ok\"} 1.0"), metrics);
    assertTrue(metrics.contains("gate_decisions_total{reason=\"unknown_card\"} 1.0"), metrics);
    assertTrue(metrics.contains("gate_decision_seconds_count 2"), metrics);
    assertTrue(metrics.contains("gate_card_table_cards 4.0"), metrics);
    assertTrue(metrics.contains("gate_card_table_seq 7.0"), metrics);
    assertTrue(metrics.contains("gate_uplink_state{state=\"disabled\"} 1.0"), metrics);
    assertTrue(metrics.contains("gate_outbox_backlog "), metrics);
    for (String personal : List.of(MARIA, MARIA_NAME, "Иванова", MARIA_CARD, "DEADBEEF", ALYONA)) {
      assertFalse(metrics.contains(personal), "metrics mention " + personal);
    }
  }

  @Test
  @Order(8)
  void healthIsUpWithListenerAndDatabaseAndDownWithoutTheDatabase() {
    HttpResponse<String> up = http().get("/health");
    assertEquals(200, up.statusCode());
    JsonObject body = new JsonObject(up.body());
    assertEquals("up", body.getString("status"));
    assertTrue(body.getJsonObject("readers").getBoolean("up"));
    assertTrue(body.getJsonObject("database").getBoolean("up"));

    GatewayFixture.await(gateway.database().pool().close());
    HttpResponse<String> down = http().get("/health");
    assertEquals(503, down.statusCode());
    JsonObject downBody = new JsonObject(down.body());
    assertEquals("down", downBody.getString("status"));
    assertFalse(downBody.getJsonObject("database").getBoolean("up"));
    assertTrue(downBody.getJsonObject("readers").getBoolean("up"));
  }

  private static void assertRefused(HttpResponse<String> response, String what) {
    int status = response.statusCode();
    boolean toLogin = status == 302 && "/login".equals(response.headers().firstValue("Location").orElse(""));
    assertTrue(status == 401 || toLogin, what + " answered " + status);
    assertFalse(response.body().contains(MARIA_NAME) || response.body().contains("Иванова"), what + " leaked a name");
  }

  private List<String> rosterIds(MonitorTestSupport.Http guard, String q) {
    String encoded = java.net.URLEncoder.encode(q, StandardCharsets.UTF_8);
    JsonArray holders = new JsonObject(guard.get("/api/roster?q=" + encoded).body()).getJsonArray("holders");
    return holders.stream().map(h -> ((JsonObject) h).getString("id")).toList();
  }

  private byte[] photoInDatabase(String holder) {
    return GatewayFixture.await(new schoolgate.cards.CardRepository(gateway.database().pool()).photo(holder)).getBytes();
  }

  private static HttpResponse<byte[]> bytes(MonitorTestSupport.Http http, String path) {
    try {
      return http.client.send(java.net.http.HttpRequest.newBuilder(URI.create(http.base + path)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Collects the first text message of a WebSocket. */
  private static final class Collect implements WebSocket.Listener {
    final CompletableFuture<String> first = new CompletableFuture<>();
    private final StringBuilder text = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        first.complete(text.toString());
        text.setLength(0);
      }
      webSocket.request(1);
      return null;
    }
  }
}
