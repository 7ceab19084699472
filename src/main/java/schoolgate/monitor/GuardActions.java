package schoolgate.monitor;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import schoolgate.cards.CardRepository;
import schoolgate.cards.CardTable;
import schoolgate.cards.Holder;
import schoolgate.cards.Reason;
import schoolgate.config.GatewayConfig;
import schoolgate.passes.LivePasses;
import schoolgate.passes.PassEvent;
import schoolgate.passes.PassWriter;
import schoolgate.passes.Uuid7;
import schoolgate.readers.ReaderCommands;

import java.text.Collator;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a guard can do besides watching: open a gate by hand, find a child by name and let
 * them in, look at a photo. Every action becomes a pass with {@code source: "guard"},
 * committed (so it reaches the centre and the parents' SMS like a tap) before the answer,
 * and shown on every screen. The logs name the guard and the reader, never the child.
 */
final class GuardActions {

  static final int OPEN_MS = 5000;
  static final int ROSTER_LIMIT = 30;
  private static final int MAX_REASON = 200;
  /** No control characters: a NUL in the id made PostgreSQL refuse the look-up (503, not 404). */
  private static final Pattern HOLDER_ID = Pattern.compile("[^/\\s\\p{Cntrl}]{1,64}");
  private static final Locale RU = Locale.forLanguageTag("ru");
  private static final Logger LOG = LoggerFactory.getLogger(GuardActions.class);

  private final Vertx vertx;
  private final Map<String, GatewayConfig.ReaderPlace> readers;
  private final CardTable table;
  private final CardRepository cards;
  private final PassWriter writer;
  private final Clock clock;
  private final MonitorMetrics metrics;

  GuardActions(Vertx vertx, Map<String, GatewayConfig.ReaderPlace> readers, CardTable table,
               CardRepository cards, PassWriter writer, Clock clock, MonitorMetrics metrics) {
    this.vertx = vertx;
    this.readers = readers;
    this.table = table;
    this.cards = cards;
    this.writer = writer;
    this.clock = clock;
    this.metrics = metrics;
  }

  /** GET /api/readers: the readers a guard can open, with gate and direction, by gate, entrances first. */
  void readers(RoutingContext ctx) {
    JsonArray out = new JsonArray();
    readers.entrySet().stream()
        .sorted(Comparator.<Map.Entry<String, GatewayConfig.ReaderPlace>, String>comparing(e -> e.getValue().gate())
            .thenComparing(e -> "in".equals(e.getValue().direction()) ? 0 : 1)
            .thenComparing(Map.Entry::getKey))
        .forEach(e -> out.add(new JsonObject().put("reader", e.getKey())
            .put("gate", e.getValue().gate()).put("direction", e.getValue().direction())));
    Monitor.json(ctx, 200, new JsonObject().put("readers", out));
  }

  /** POST /api/open {@code {"reader": "r1", "reason": "..."}}: a reason is required. */
  void open(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    String reader = body.getValue("reader") instanceof String s ? s : null;
    GatewayConfig.ReaderPlace place = reader == null ? null : readers.get(reader);
    String reason = text(body.getValue("reason"));
    if (place == null) {
      Monitor.json(ctx, 400, new JsonObject().put("error", "unknown_reader"));
      return;
    }
    if (reason == null) {
      Monitor.json(ctx, 400, new JsonObject().put("error", "reason_required"));
      return;
    }
    String guard = ctx.session().get(GuardAuth.GUARD);
    PassEvent pass = guardPass(reader, place, null, guard, reason);
    metrics.manualOpen();
    LOG.info("guard '{}' opens reader {} by hand", guard, reader);
    act(ctx, pass, null);
  }

  /** POST /api/admit {@code {"holder": "h-1", "reader": "r1", "reason": "..."}}. */
  void admit(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    String reader = body.getValue("reader") instanceof String s ? s : null;
    GatewayConfig.ReaderPlace place = reader == null ? null : readers.get(reader);
    String holderId = body.getValue("holder") instanceof String s ? s : null;
    Holder holder = holderId == null ? null : table.holder(holderId);
    if (place == null) {
      Monitor.json(ctx, 400, new JsonObject().put("error", "unknown_reader"));
      return;
    }
    if (holder == null) {
      Monitor.json(ctx, 404, new JsonObject().put("error", "unknown_holder"));
      return;
    }
    if (!holder.active()) {
      Monitor.json(ctx, 409, new JsonObject().put("error", "holder_inactive"));
      return;
    }
    String guard = ctx.session().get(GuardAuth.GUARD);
    PassEvent pass = guardPass(reader, place, holder.id(), guard, text(body.getValue("reason")));
    metrics.admit();
    LOG.info("guard '{}' admits holder {} at reader {}", guard, holder.id(), reader);
    act(ctx, pass, holder);
  }

  /** GET /api/roster?q=...: active and inactive holders whose name contains q (any case, е = ё). */
  void roster(RoutingContext ctx) {
    String q;
    try {
      q = ctx.request().getParam("q");
    } catch (IllegalArgumentException badEscape) {
      // A query string that is not valid percent-encoding ("%ZZ", a lone "%"): the client's fault.
      Monitor.json(ctx, 400, new JsonObject().put("error", "bad_request"));
      return;
    }
    String needle = q == null ? "" : fold(q.trim());
    if (needle.length() < 2 || needle.length() > 64) {
      Monitor.json(ctx, 200, new JsonObject().put("holders", new JsonArray()).put("more", false));
      return;
    }
    List<Holder> found = new ArrayList<>();
    for (Holder h : table.holders()) {
      if (fold(h.name()).contains(needle)) {
        found.add(h);
      }
    }
    Collator collator = Collator.getInstance(RU);
    found.sort((a, b) -> collator.compare(a.name(), b.name()));
    JsonArray out = new JsonArray();
    found.stream().limit(ROSTER_LIMIT).forEach(h -> out.add(new JsonObject().put("id", h.id())
        .put("name", h.name()).put("class", h.className()).put("active", h.active())
        .put("photo", h.hasPhoto())));
    Monitor.json(ctx, 200, new JsonObject().put("holders", out).put("more", found.size() > ROSTER_LIMIT));
  }

  /** GET /photo/:holder: the holder's JPEG from the local database. */
  void photo(RoutingContext ctx) {
    String id = ctx.pathParam("holder");
    if (id == null || !HOLDER_ID.matcher(id).matches()) {
      Monitor.json(ctx, 404, new JsonObject().put("error", "not_found"));
      return;
    }
    cards.photo(id).onComplete(ar -> {
      if (ar.failed()) {
        LOG.warn("photo lookup failed: {}", ar.cause().toString());
        Monitor.json(ctx, 503, new JsonObject().put("error", "database"));
      } else if (ar.result() == null) {
        Monitor.json(ctx, 404, new JsonObject().put("error", "not_found"));
      } else {
        ctx.response()
            .putHeader(HttpHeaders.CONTENT_TYPE, "image/jpeg")
            .putHeader(HttpHeaders.CACHE_CONTROL, "private, max-age=600")
            .end(ar.result());
      }
    });
  }

  private PassEvent guardPass(String reader, GatewayConfig.ReaderPlace place, String holderId,
                              String guard, String note) {
    long now = clock.millis();
    return new PassEvent(Uuid7.next(now), reader, place.gate(), place.direction(), null, holderId,
        true, Reason.OK, OffsetDateTime.ofInstant(Instant.ofEpochMilli(now), ZoneId.systemDefault()),
        PassEvent.SOURCE_GUARD, guard, note, null);
  }

  /**
   * Opens the turnstile and commits the pass at the same time; answers when the pass is
   * durable, saying whether a reader got the command (an offline reader does not).
   */
  private void act(RoutingContext ctx, PassEvent pass, Holder holder) {
    JsonObject command = new JsonObject().put("reader", pass.reader()).put("command",
        new JsonObject().put("cmd", "open").put("by", pass.guard()).put("openMs", OPEN_MS));
    Future<Integer> delivered = vertx.eventBus()
        .<JsonObject>request(ReaderCommands.ADDRESS, command, new DeliveryOptions().setSendTimeout(3000))
        .map(Message::body)
        .map(reply -> reply.getInteger("delivered", 0))
        .otherwise(e -> {
          LOG.warn("open command to reader {} not sent: {}", pass.reader(), e.getMessage());
          return 0;
        });
    Future<Void> durable = writer.record(pass);
    durable.onSuccess(v -> vertx.eventBus().publish(LivePasses.ADDRESS, LivePasses.json(pass, holder, null)));
    Future.all(delivered, durable).onComplete(ar -> {
      if (durable.failed()) {
        LOG.error("guard pass not committed: {}", durable.cause().getMessage());
        Monitor.json(ctx, 503, new JsonObject().put("error", "not_recorded")
            .put("delivered", delivered.result()));
        return;
      }
      Monitor.json(ctx, 200, new JsonObject().put("id", pass.id().toString())
          .put("delivered", delivered.result()));
    });
  }

  private static JsonObject body(RoutingContext ctx) {
    try {
      JsonObject body = ctx.body().asJsonObject();
      if (body != null) {
        return body;
      }
    } catch (DecodeException | ClassCastException e) {
      // answered below
    }
    Monitor.json(ctx, 400, new JsonObject().put("error", "bad_request"));
    return null;
  }

  /** A non-blank string of at most MAX_REASON characters, trimmed; else null. */
  private static String text(Object value) {
    if (!(value instanceof String s) || s.isBlank()) {
      return null;
    }
    String t = s.strip();
    return t.length() > MAX_REASON ? t.substring(0, MAX_REASON) : t;
  }

  /** Case- and ё-insensitive form of a name for searching. */
  static String fold(String s) {
    return s.toLowerCase(RU).replace('ё', 'е').replaceAll("\\s+", " ");
  }
}
