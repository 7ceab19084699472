package schoolgate.demo;

import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.mqtt.MqttClientOptions;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.messages.MqttPublishMessage;
import schoolgate.mqtt.ReconnectingClient;
import schoolgate.readers.ReaderTopics;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Turnstile readers for the demo: one MQTT client per reader (client id = reader id, and
 * user name = reader id when it has a password), tapping cards of a {@link Roster} at a
 * morning-rush rate. Most taps are students' working cards; some are old cards found again
 * after a replacement (superseded), some unknown cards, and some a second tap of the card
 * just tapped at the same reader (the repeat window). Everything runs on one event loop:
 * create, start and stop it from a non-Vert.x thread or from one context.
 */
public final class SimulatedReaders {

  /** The mix of taps, in percent; the rest are working cards. */
  static final int SUPERSEDED_PERCENT = 5;
  static final int UNKNOWN_PERCENT = 4;
  static final int REPEAT_PERCENT = 6;
  static final long TICK_MS = 50;

  /** What was done, for the demo's console and for tests. */
  public record Stats(long taps, long acknowledged, long repeats, Map<String, Long> decisions) {
  }

  private final Vertx vertx;
  private final String host;
  private final int port;
  private final Map<String, String> passwords;
  private final List<String> readerIds;
  private final double tapsPerSecond;
  private final Random random;
  private final List<String> working;
  private final List<String> superseded;

  private final Map<String, ReconnectingClient> clients = new HashMap<>();
  private final Map<String, Long> seqs = new HashMap<>();
  private final Map<String, String> lastCard = new HashMap<>();
  /** Clients whose PUBACKs are counted (one per connection of a reader). */
  private final java.util.Set<MqttClient> counted = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
  private final AtomicLong awaitingAck = new AtomicLong();
  private final AtomicLong taps = new AtomicLong();
  private final AtomicLong acknowledged = new AtomicLong();
  private final AtomicLong repeats = new AtomicLong();
  private final Map<String, LongAdder> decisions = new ConcurrentHashMap<>();
  private long timer = -1;
  private double credit;

  /**
   * @param readerIds     readers to simulate (they must be in the gateway's readers.map)
   * @param passwords     reader id -> password (readers.auth); a reader not in it sends none
   * @param tapsPerSecond over all readers together; a school's rush is 5-20
   */
  public SimulatedReaders(Vertx vertx, Roster roster, String host, int port, List<String> readerIds,
                          Map<String, String> passwords, double tapsPerSecond, long seed) {
    if (readerIds.isEmpty() || tapsPerSecond <= 0) {
      throw new IllegalArgumentException("need at least one reader and a positive rate");
    }
    this.vertx = vertx;
    this.host = host;
    this.port = port;
    this.readerIds = List.copyOf(readerIds);
    this.passwords = Map.copyOf(passwords);
    this.tapsPerSecond = tapsPerSecond;
    this.random = new Random(seed);
    this.working = roster.workingCards();
    this.superseded = roster.supersededCards();
  }

  /** Connects every reader (retrying until the gateway is there) and starts tapping. */
  public void start() {
    for (String id : readerIds) {
      MqttClientOptions options = new MqttClientOptions()
          .setClientId(id)
          .setCleanSession(true)
          .setMaxInflightQueue(1000)
          .setKeepAliveInterval(30);
      String password = passwords.get(id);
      if (password != null) {
        options.setUsername(id).setPassword(password);
      }
      ReconnectingClient client = new ReconnectingClient(vertx, "simulated reader " + id, options, host, port,
          this::decision, c -> c.subscribe(ReaderTopics.decision(id), 1));
      clients.put(id, client);
      client.start();
    }
    timer = vertx.setPeriodic(TICK_MS, t -> tick());
  }

  /** Stops tapping, waits (30 s at most) for the taps in flight to be acknowledged, disconnects. */
  public Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    io.vertx.core.Promise<Void> drained = io.vertx.core.Promise.promise();
    long giveUpAt = System.currentTimeMillis() + 30_000;
    // Not setPeriodic(0, ...): Vert.x may run a zero-delay first tick before the timer is
    // fully registered, and cancelling it from there throws (the stop then never ended).
    vertx.setPeriodic(TICK_MS, id -> {
      if (awaitingAck.get() <= 0 || System.currentTimeMillis() > giveUpAt) {
        drained.tryComplete();
        vertx.cancelTimer(id);
      }
    });
    return drained.future().compose(v -> {
      List<Future<Void>> stops = new ArrayList<>();
      clients.values().forEach(c -> stops.add(c.stop()));
      clients.clear();
      return Future.join(stops).<Void>mapEmpty();
    }).otherwiseEmpty();
  }

  public Stats stats() {
    Map<String, Long> byReason = new TreeMap<>();
    decisions.forEach((reason, count) -> byReason.put(reason, count.sum()));
    return new Stats(taps.get(), acknowledged.get(), repeats.get(), byReason);
  }

  private void tick() {
    credit += tapsPerSecond * TICK_MS / 1000.0;
    while (credit >= 1) {
      credit--;
      tap();
    }
  }

  private void tap() {
    String reader = readerIds.get(random.nextInt(readerIds.size()));
    ReconnectingClient connection = clients.get(reader);
    MqttClient client = connection == null ? null : connection.client();
    if (client == null) {
      return;
    }
    int roll = random.nextInt(100);
    String card;
    boolean repeat = false;
    if (roll < REPEAT_PERCENT && lastCard.containsKey(reader)) {
      card = lastCard.get(reader);
      repeat = true;
    } else if (roll < REPEAT_PERCENT + SUPERSEDED_PERCENT && !superseded.isEmpty()) {
      card = superseded.get(random.nextInt(superseded.size()));
    } else if (roll < REPEAT_PERCENT + SUPERSEDED_PERCENT + UNKNOWN_PERCENT || working.isEmpty()) {
      card = unknownCard();
    } else {
      card = working.get(random.nextInt(working.size()));
    }
    lastCard.put(reader, card);
    long seq = seqs.merge(reader, 1L, Long::sum);
    JsonObject payload = new JsonObject().put("card", card).put("seq", seq)
        .put("ts", OffsetDateTime.now().toString());
    taps.incrementAndGet();
    if (repeat) {
      repeats.incrementAndGet();
    }
    if (counted.add(client)) {
      // The gateway acknowledges a QoS 1 tap only once its pass is committed.
      client.publishCompletionHandler(id -> {
        acknowledged.incrementAndGet();
        awaitingAck.decrementAndGet();
      });
    }
    awaitingAck.incrementAndGet();
    client.publish(ReaderTopics.tap(reader), payload.toBuffer(), MqttQoS.AT_LEAST_ONCE, false, false)
        .onFailure(e -> awaitingAck.decrementAndGet());
  }

  private String unknownCard() {
    // 08... is never issued by the roster (which uses 04...), so it is always unknown.
    return String.format(Locale.ROOT, "08%06X%06X", random.nextInt(1 << 24), random.nextInt(1 << 24));
  }

  private void decision(MqttPublishMessage message) {
    try {
      String reason = new JsonObject(message.payload()).getString("reason", "?");
      decisions.computeIfAbsent(reason, r -> new LongAdder()).increment();
    } catch (RuntimeException notJson) {
      decisions.computeIfAbsent("unreadable", r -> new LongAdder()).increment();
    }
  }
}
