package schoolgate.monitor;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.netty.handler.codec.TooLongFrameException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.SessionHandler;
import io.vertx.ext.web.handler.StaticHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import schoolgate.Gateway;
import schoolgate.cards.CardRepository;
import schoolgate.cards.CardTable;
import schoolgate.cards.Holder;
import schoolgate.cards.Reason;
import schoolgate.config.GatewayConfig;
import schoolgate.net.ListenFailure;
import schoolgate.passes.LivePasses;
import schoolgate.passes.PassEvent;
import schoolgate.passes.PassWriter;
import schoolgate.readers.ReaderPresence;
import schoolgate.readers.TapMetrics;
import schoolgate.uplink.UplinkStatus;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The guard's monitor, /health and /metrics on {@code http.host}:{@code http.port}.
 *
 * <p>Public: the login page and its assets ({@code /login}, {@code /public/*}), {@code /health},
 * and {@code /metrics} (counts only, no personal data; {@code http.metrics: false} turns it
 * off). Everything else needs a guard's session: the page ({@code /}, {@code /app/*}), the
 * live feed ({@code /ws}), photos ({@code /photo/*}) and the API ({@code /api/*}, POSTs with
 * the session's CSRF token). See docs/decisions.md.
 */
public final class Monitor extends VerticleBase {

  /** How often the status (outbox backlog, card table, readers) is refreshed and pushed. */
  static final long STATUS_EVERY_MS = 2000;
  /** After a commit, the outbox is recounted this much later (commits come in bursts). */
  static final long RECOUNT_AFTER_MS = 300;
  /** A guard's session lives this long without a request (the page touches it every few minutes). */
  static final long SESSION_TIMEOUT_MS = TimeUnit.HOURS.toMillis(12);

  private static final Logger LOG = LoggerFactory.getLogger(Monitor.class);

  private final Gateway gateway;
  private HttpServer server;
  private WorkerExecutor hashing;
  private MonitorMetrics metrics;
  private final LiveFeed feed = new LiveFeed();
  private SlowClients slowClients;
  private DurableSessionStore sessions;
  private volatile long outboxBacklog = -1;
  private long statusTimer = -1;
  private boolean recountPending;

  public Monitor(Gateway gateway) {
    this.gateway = gateway;
  }

  @Override
  public Future<?> start() {
    GatewayConfig config = gateway.config();
    metrics = new MonitorMetrics(gateway, TapMetrics.of(vertx), () -> outboxBacklog, feed::clients);
    hashing = vertx.createSharedWorkerExecutor("guard-login", 2);
    GuardAuth auth = new GuardAuth(config.guards(), hashing, LoginThrottle.standard(), metrics, feed,
        gateway.clock());
    PassWriter writer = new PassWriter(vertx, gateway.passes(), 1000, gateway.pendingPasses());
    GuardActions actions = new GuardActions(vertx, config.readers().map(), gateway.table(),
        new CardRepository(gateway.database().pool()), writer, gateway.clock(), metrics);
    HealthCheck health = new HealthCheck(gateway);
    boolean metricsOn = metricsEnabled(config);

    vertx.eventBus().<JsonObject>localConsumer(LivePasses.ADDRESS, msg -> feed.pass(msg.body()));
    vertx.eventBus().localConsumer(ReaderPresence.CHANGED, msg -> pushStatus());
    vertx.eventBus().localConsumer(UplinkStatus.CHANGED, msg -> pushStatus());
    // Every commit (taps, guard actions) and every uplink ack changes the backlog: recount soon.
    vertx.eventBus().localConsumer(PassWriter.COMMITTED, msg -> recountSoon());
    statusTimer = vertx.setPeriodic(0, STATUS_EVERY_MS, t -> refreshBacklog().onComplete(ar -> pushStatus()));

    return vertx.executeBlocking(() -> {
          metrics.bindJvm();
          return null;
        }, false)
        .compose(v -> preloadRecent())
        .compose(v -> Future.all(page("webroot/public/login.html"), page("webroot/app/index.html")))
        .compose(pages -> {
          Buffer loginPage = pages.resultAt(0);
          Buffer indexPage = pages.resultAt(1);
          Router router = Router.router(vertx);
          router.route().handler(Monitor::securityHeaders);
          router.route().handler(Monitor::decodableQuery);
          router.get("/health").handler(health::handle);
          if (metricsOn) {
            // The JVM meters read /proc and cgroup files while scraped: not on the event loop.
            router.get("/metrics").handler(ctx -> vertx.executeBlocking(metrics::scrape, false)
                .onSuccess(text -> ctx.response()
                    .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                    .end(text))
                .onFailure(ctx::fail));
          }
          router.get("/public/*").handler(staticFiles("webroot/public"));
          sessions = new DurableSessionStore(vertx, "schoolgate.guard-sessions", gateway.database().pool());
          router.route().handler(SessionHandler.create(sessions)
              .setSessionCookieName("gate.session")
              .setCookieHttpOnlyFlag(true)
              .setCookieSameSite(CookieSameSite.STRICT)
              .setSessionTimeout(SESSION_TIMEOUT_MS)
              .setLazySession(true)
              .setMinLength(32));
          router.get("/login").handler(ctx -> auth.loginPage(ctx, loginPage));
          router.post("/login").handler(BodyHandler.create().setBodyLimit(4096)).handler(auth::login);

          // Below this line: a guard's session only.
          router.route().handler(auth::requireGuard);
          router.get("/").handler(ctx -> html(ctx, indexPage));
          router.get("/ws").handler(this::upgrade);
          router.get("/app/*").handler(staticFiles("webroot/app"));
          router.get("/photo/:holder").handler(actions::photo);
          router.get("/api/me").handler(auth::me);
          router.get("/api/readers").handler(actions::readers);
          router.get("/api/roster").handler(actions::roster);
          router.post("/api/*").handler(BodyHandler.create().setBodyLimit(16 * 1024)).handler(auth::requireCsrf);
          router.post("/api/logout").handler(auth::logout);
          router.post("/api/open").handler(actions::open);
          router.post("/api/admit").handler(actions::admit);
          router.route().handler(ctx -> json(ctx, 404, new JsonObject().put("error", "not_found")));

          server = vertx.createHttpServer(new HttpServerOptions()
              .setHost(config.http().host())
              .setPort(config.http().port())
              .setMaxWebSocketFrameSize(4096)
              // HTTP/1.1 only: with the h2c upgrade on (Vert.x's default) a connection is made
              // known (connectionHandler) only at its first request, too late for SlowClients.
              .setHttp2ClearTextEnabled(false)
              .setIdleTimeout(0)); // SlowClients bounds idle and slow connections; live screens stay
          slowClients = new SlowClients(vertx, config.http().requestTimeoutSeconds() * 1000L);
          slowClients.start();
          server.connectionHandler(slowClients::connection);
          server.invalidRequestHandler(Monitor::invalidRequest);
          server.requestHandler(request -> {
            slowClients.request(request);
            router.handle(request);
          });
          return server.listen().recover(e -> ListenFailure.explain(e, "guard monitor", config.http().host(),
              config.http().port(), "http.host, http.port", ""));
        })
        .onSuccess(s -> LOG.info("guard monitor on http://{}:{}/ ({} guards; /metrics {})",
            config.http().host(), s.actualPort(), config.guards().size(), metricsOn ? "on" : "off"));
  }

  @Override
  public Future<?> stop() {
    if (statusTimer >= 0) {
      vertx.cancelTimer(statusTimer);
    }
    if (slowClients != null) {
      slowClients.stop();
    }
    if (sessions != null) {
      sessions.close();
    }
    feed.closeAll();
    Future<Void> closed = server == null ? Future.succeededFuture() : server.close();
    return closed.eventually(() -> {
      if (hashing != null) {
        hashing.close();
      }
      if (metrics != null) {
        metrics.close();
      }
      return Future.succeededFuture();
    });
  }

  /** The port actually listened on (useful when configured as 0). */
  public int port() {
    return server == null ? -1 : server.actualPort();
  }

  /**
   * After a restart the screens start from the taps of the last half hour in the database,
   * not from nothing. Best effort: without it the feed simply starts empty.
   */
  private Future<Void> preloadRecent() {
    OffsetDateTime since = OffsetDateTime.now(gateway.clock()).minusMinutes(30);
    CardTable table = gateway.table();
    return gateway.passes().recentTaps(since)
        .map(taps -> {
          List<PassEvent> last = taps.subList(Math.max(0, taps.size() - LiveFeed.RECENT), taps.size());
          for (PassEvent p : last) {
            Holder holder = p.holderId() == null ? null : table.holder(p.holderId());
            Instant replacedAt = p.reason() == Reason.SUPERSEDED ? table.decide(p.card()).replacedAt() : null;
            feed.pass(LivePasses.json(p, holder, replacedAt));
          }
          return (Void) null;
        })
        .recover(e -> {
          LOG.warn("recent passes not loaded for the screens: {}", e.toString());
          return Future.succeededFuture();
        });
  }

  /** The live feed upgrade: only for a guard's session, only from this origin. */
  private void upgrade(RoutingContext ctx) {
    if (!GuardAuth.sameOrigin(ctx)) {
      json(ctx, 403, new JsonObject().put("error", "origin"));
      return;
    }
    if (!ctx.request().canUpgradeToWebSocket()) {
      json(ctx, 400, new JsonObject().put("error", "websocket_expected"));
      return;
    }
    String sessionId = ctx.session().id();
    String guard = ctx.session().get(GuardAuth.GUARD);
    slowClients.upgraded(ctx.request().connection());
    ctx.request().toWebSocket()
        .onSuccess(ws -> feed.join(ws, sessionId, guard, status()))
        .onFailure(e -> LOG.debug("WebSocket upgrade failed: {}", e.toString()));
  }

  /** At most one recount of the outbox per {@link #RECOUNT_AFTER_MS}, however many commits. */
  private void recountSoon() {
    if (!recountPending) {
      recountPending = true;
      vertx.setTimer(RECOUNT_AFTER_MS, t -> {
        recountPending = false;
        refreshBacklog().onComplete(ar -> pushStatus());
      });
    }
  }

  private Future<Void> refreshBacklog() {
    return gateway.passes().backlog()
        .onSuccess(n -> outboxBacklog = n)
        .onFailure(e -> outboxBacklog = -1)
        .mapEmpty();
  }

  private void pushStatus() {
    feed.status(status());
  }

  /** Everything the screen's status bar shows. */
  JsonObject status() {
    CardTable table = gateway.table();
    Instant last = table.lastEventAt();
    JsonArray readers = gateway.presence().snapshot(gateway.config().readers().map().keySet());
    readers.forEach(r -> {
      JsonObject reader = (JsonObject) r;
      GatewayConfig.ReaderPlace place = gateway.config().readers().map().get(reader.getString("reader"));
      if (place != null) {
        reader.put("gate", place.gate()).put("direction", place.direction());
      }
    });
    return new JsonObject()
        .put("now", gateway.clock().instant().toString())
        .put("uplink", gateway.uplinkStatus().toJson())
        .put("outbox", outboxBacklog < 0 ? null : outboxBacklog)
        .put("cardSeq", table.appliedSeq())
        .put("cards", table.cardCount())
        .put("holders", table.holderCount())
        .put("lastCardEventAt", last == null ? null : last.toString())
        .put("listening", gateway.presence().listening())
        .put("readers", readers);
  }

  private Future<Buffer> page(String resource) {
    return vertx.fileSystem().readFile(resource);
  }

  private static boolean metricsEnabled(GatewayConfig config) {
    JsonObject http = config.raw().getJsonObject("http");
    Object on = http == null ? null : http.getValue("metrics");
    return on == null || Boolean.TRUE.equals(on) || "true".equals(on);
  }

  static void html(RoutingContext ctx, Buffer page) {
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(page);
  }

  static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(body.encode());
  }

  /**
   * A query string that is not valid percent-encoding ({@code ?%ZZ}) is the client's fault: 400
   * here, before any handler trips over it. (The body handler, merging a form's attributes
   * into the parameters, threw on it and left POST /login and /api/* unanswered for good.)
   */
  private static void decodableQuery(RoutingContext ctx) {
    try {
      ctx.request().params();
    } catch (IllegalArgumentException badEscape) {
      json(ctx, 400, new JsonObject().put("error", "bad_request"));
      return;
    }
    ctx.next();
  }

  /**
   * A request that could not be parsed at all: answered 414 (request line too long), 431
   * (headers too large) or 400, and the connection closed. Vert.x's default closes all but the
   * first two without a word, which leaves a client (or its operator) guessing.
   */
  private static void invalidRequest(HttpServerRequest request) {
    Throwable cause = request.decoderResult() == null ? null : request.decoderResult().cause();
    int status = 400;
    if (cause instanceof TooLongFrameException && cause.getMessage() != null) {
      if (cause.getMessage().startsWith("An HTTP line is larger")) {
        status = 414;
      } else if (cause.getMessage().startsWith("HTTP header is larger")) {
        status = 431;
      }
    }
    HttpServerResponse response = request.response();
    if (response.ended() || response.closed()) {
      request.connection().close();
      return;
    }
    response.setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
        .putHeader(HttpHeaders.CONNECTION, "close")
        .end(new JsonObject().put("error", "bad_request").encode())
        .onComplete(v -> request.connection().close());
  }

  /**
   * The page's files, always declared UTF-8: the handler's default is the JVM's charset,
   * which Java 17 takes from the locale, and a box or a shell without one (POSIX) would
   * have the guard's Russian served as US-ASCII and shown as mojibake.
   */
  private static StaticHandler staticFiles(String root) {
    return StaticHandler.create(root).setMaxAgeSeconds(300).setDefaultContentEncoding("UTF-8");
  }

  /** Same-origin everything; no framing; nothing sniffed; no referrer leaves the page. */
  private static void securityHeaders(RoutingContext ctx) {
    ctx.response()
        .putHeader("Content-Security-Policy", "default-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none';"
            + " base-uri 'none'; form-action 'self'")
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Referrer-Policy", "no-referrer");
    ctx.next();
  }
}
