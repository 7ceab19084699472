package schoolgate.monitor;

import at.favre.lib.crypto.bcrypt.BCrypt;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Guard login, logout and the checks every other request passes: a session with a guard in
 * it, and for POSTs a CSRF token tied to that session. Passwords are checked against the
 * bcrypt hashes in {@code guards} on a small worker pool, never on the event loop, and
 * failed logins are throttled per login and per address ({@link LoginThrottle}).
 */
final class GuardAuth {

  static final String GUARD = "guard";
  static final String CSRF = "csrf";
  /** Which password the session was opened with (a digest of its hash, not the hash). */
  static final String CREDENTIAL = "credential";
  static final String CSRF_HEADER = "X-CSRF-Token";

  private static final Logger LOG = LoggerFactory.getLogger(GuardAuth.class);
  /** bcrypt looks at 72 bytes at most; hash-password refuses longer, so must we. */
  private static final int MAX_PASSWORD_BYTES = 71;
  private static final int MAX_LOGIN_CHARS = 64;
  private static final Pattern BCRYPT_COST = Pattern.compile("^\\$2[abxy]?\\$(\\d\\d)\\$");

  private final Map<String, String> guards;
  /** Per login, the {@link #CREDENTIAL} a session of that guard must carry. */
  private final Map<String, String> credentials = new HashMap<>();
  private final WorkerExecutor hashing;
  private final LoginThrottle throttle;
  private final MonitorMetrics metrics;
  private final LiveFeed feed;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  /** Checked for unknown logins, so that they take as long as known ones. */
  private volatile String decoyHash;
  /** The cost of the configured hashes, so that the decoy costs the same. */
  private final int decoyCost;

  GuardAuth(Map<String, String> guards, WorkerExecutor hashing, LoginThrottle throttle,
            MonitorMetrics metrics, LiveFeed feed, Clock clock) {
    this.guards = guards;
    this.hashing = hashing;
    this.throttle = throttle;
    this.metrics = metrics;
    this.feed = feed;
    this.clock = clock;
    if (guards.isEmpty()) {
      LOG.warn("no guards configured: nobody can log in to the monitor (add logins and hashes"
          + " from 'hash-password' under \"guards\")");
    }
    this.decoyCost = guards.values().stream()
        .map(BCRYPT_COST::matcher)
        .filter(Matcher::find)
        .map(m -> Integer.parseInt(m.group(1)))
        .findFirst().orElse(12);
    guards.forEach((login, hash) -> {
      if (hash != null) {
        credentials.put(login, credential(hash));
      }
      if (hash == null || !hash.startsWith("$2")) {
        LOG.warn("guard '{}': the password hash is not a bcrypt hash from 'hash-password';"
            + " this guard cannot log in", login);
      }
    });
  }

  /** POST /login {@code {"login": .., "password": ..}} (JSON, or a form). */
  void login(RoutingContext ctx) {
    if (!sameOrigin(ctx)) {
      // Another site must not log a guard's browser into some account of its choosing.
      Monitor.json(ctx, 403, new JsonObject().put("error", "origin"));
      return;
    }
    String login;
    String password;
    try {
      JsonObject body = bodyOf(ctx);
      login = body.getValue("login") instanceof String s ? s.trim() : "";
      password = body.getValue("password") instanceof String s ? s : "";
    } catch (DecodeException | ClassCastException e) {
      Monitor.json(ctx, 400, new JsonObject().put("error", "bad_request"));
      return;
    }
    if (login.isEmpty() || login.length() > MAX_LOGIN_CHARS || password.isEmpty()) {
      Monitor.json(ctx, 400, new JsonObject().put("error", "bad_request"));
      return;
    }
    String address = ctx.request().remoteAddress() == null ? "?" : ctx.request().remoteAddress().hostAddress();
    LoginThrottle.Attempt attempt = throttle.begin(login, address, clock.millis());
    if (!attempt.allowed()) {
      metrics.loginThrottled();
      long seconds = Math.max(1, (attempt.retryAfterMs() + 999) / 1000);
      ctx.response().putHeader("Retry-After", Long.toString(seconds));
      Monitor.json(ctx, 429, new JsonObject().put("error", "throttled").put("retryAfter", seconds));
      return;
    }
    String hash = guards.get(login);
    char[] secret = password.toCharArray();
    boolean tooLong = password.getBytes(StandardCharsets.UTF_8).length > MAX_PASSWORD_BYTES;
    Future<Boolean> verified = hashing.executeBlocking(() -> {
      if (hash == null || !hash.startsWith("$2") || tooLong) {
        // Same work as a real check, so timing does not tell which logins exist.
        BCrypt.verifyer().verify("decoy".toCharArray(), decoy());
        return false;
      }
      return BCrypt.verifyer().verify(secret, hash.toCharArray()).verified;
    }, false);
    verified.onComplete(ar -> {
      boolean ok = ar.succeeded() && ar.result();
      if (ar.failed()) {
        LOG.warn("password check for a guard login failed: {}", ar.cause().toString());
      }
      metrics.login(ok);
      if (!ok) {
        LOG.info("failed guard login for '{}' from {}", printable(login), address);
        Monitor.json(ctx, 401, new JsonObject().put("error", "wrong_login"));
        return;
      }
      throttle.succeeded(attempt);
      Session session = ctx.session();
      // A new session id at login: a planted cookie never becomes a logged-in session.
      session.regenerateId();
      session.put(GUARD, login);
      session.put(CSRF, token());
      session.put(CREDENTIAL, credentials.get(login));
      LOG.info("guard '{}' logged in from {}", login, address);
      Monitor.json(ctx, 200, new JsonObject().put("guard", login));
    });
  }

  /** POST /api/logout. */
  void logout(RoutingContext ctx) {
    Session session = ctx.session();
    String guard = session.get(GUARD);
    feed.closeSession(session.id());
    session.destroy();
    LOG.info("guard '{}' logged out", guard);
    Monitor.json(ctx, 200, new JsonObject().put("ok", true));
  }

  /** GET /login: the login page, or the screen for a guard who is logged in already. */
  void loginPage(RoutingContext ctx, Buffer page) {
    Session session = ctx.session();
    if (isGuard(session)) {
      ctx.response().setStatusCode(302).putHeader(HttpHeaders.LOCATION, "/").end();
      return;
    }
    Monitor.html(ctx, page);
  }

  /** GET /api/me: who is logged in, and the CSRF token the page sends with its actions. */
  void me(RoutingContext ctx) {
    Session session = ctx.session();
    Monitor.json(ctx, 200, new JsonObject().put("guard", session.get(GUARD))
        .put("csrf", session.get(CSRF)));
  }

  /**
   * Lets through only requests of a logged-in guard. A page request without a session is
   * sent to the login page; anything else (API, photos, WebSocket, scripts) gets 401.
   */
  void requireGuard(RoutingContext ctx) {
    Session session = ctx.session();
    if (isGuard(session)) {
      ctx.next();
      return;
    }
    String accept = ctx.request().getHeader(HttpHeaders.ACCEPT);
    // Only a WebSocket upgrade is not a page (a client offering h2c, as Java's HttpClient does,
    // still asks for one).
    boolean page = ctx.request().method() == HttpMethod.GET && accept != null && accept.contains("text/html")
        && !"websocket".equalsIgnoreCase(ctx.request().getHeader(HttpHeaders.UPGRADE));
    if (page) {
      ctx.response().setStatusCode(302).putHeader(HttpHeaders.LOCATION, "/login")
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-store").end();
    } else {
      Monitor.json(ctx, 401, new JsonObject().put("error", "login_required"));
    }
  }

  /**
   * A session of a guard who is still in {@code guards} with the password the session was
   * opened with. Sessions outlive restarts (DurableSessionStore), so a guard removed from the
   * configuration, or whose password was changed because it leaked, must lose them there.
   */
  private boolean isGuard(Session session) {
    if (session == null) {
      return false;
    }
    String login = session.get(GUARD);
    String credential = login == null ? null : credentials.get(login);
    return credential != null && credential.equals(session.get(CREDENTIAL));
  }

  private static String credential(String hash) {
    return HexFormat.of().formatHex(DurableSessionStore.sha256(hash), 0, 16);
  }

  /**
   * For state-changing requests: the CSRF token of this session must come back in the
   * {@value #CSRF_HEADER} header (a cross-site form cannot set headers nor read the token),
   * and a browser's Origin, if sent, must be this server.
   */
  void requireCsrf(RoutingContext ctx) {
    String expected = ctx.session().get(CSRF);
    String given = ctx.request().getHeader(CSRF_HEADER);
    if (expected == null || given == null || !MessageDigest.isEqual(
        expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8))
        || !sameOrigin(ctx)) {
      Monitor.json(ctx, 403, new JsonObject().put("error", "csrf"));
      return;
    }
    ctx.next();
  }

  /** The Origin header, when present, names this host (cross-site WebSocket and fetch). */
  static boolean sameOrigin(RoutingContext ctx) {
    String origin = ctx.request().getHeader(HttpHeaders.ORIGIN);
    if (origin == null) {
      return true;
    }
    String host = ctx.request().getHeader(HttpHeaders.HOST);
    return host != null && (origin.equals("http://" + host) || origin.equals("https://" + host));
  }

  private String token() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private char[] decoy() {
    String h = decoyHash;
    if (h == null) {
      h = BCrypt.withDefaults().hashToString(decoyCost, token().toCharArray());
      decoyHash = h;
    }
    return h.toCharArray();
  }

  private static JsonObject bodyOf(RoutingContext ctx) {
    String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    if (type != null && type.startsWith("application/x-www-form-urlencoded")) {
      return new JsonObject().put("login", ctx.request().getFormAttribute("login"))
          .put("password", ctx.request().getFormAttribute("password"));
    }
    JsonObject body = ctx.body().asJsonObject();
    return body == null ? new JsonObject() : body;
  }

  /** A login as typed, safe for one log line. */
  private static String printable(String login) {
    return login.replaceAll("[^\\p{L}\\p{N}._@-]", "?");
  }
}
