package schoolgate.uplink;

import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.mqtt.messages.impl.MqttPublishMessageImpl;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.cards.CardEventApplier;
import schoolgate.cards.CardTable;
import schoolgate.config.GatewayConfig;
import schoolgate.demo.CentralSimulator;
import schoolgate.store.Database;
import schoolgate.support.GatewayFixture;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CardFeed} against a real PostgreSQL, fed MQTT messages the way a broker might deliver
 * them: far ahead of the acknowledgements, out of order, with a lost range and a sync answer
 * that overlaps the live stream. Every event is applied exactly once and in seq order, every
 * message is acknowledged exactly once, and a gap costs one sync request, not a loop of them.
 */
class CardFeedIT {

  static final String TOPIC = "schools/test-school/cards";
  /** Holder ids repeat, so that a later event overwrites an earlier one: order shows in the result. */
  static final int HOLDER_IDS = 10;

  @TempDir
  Path dir;

  private Vertx vertx;
  private Database database;
  private CardEventApplier applier;
  private Context context;
  private CardFeed feed;
  private final List<Long> syncs = new CopyOnWriteArrayList<>();
  private final Map<MqttPublishMessage, AtomicInteger> acks = new ConcurrentHashMap<>();
  /** Messages acknowledged before their event was committed, where that is not allowed. */
  private final List<Long> ackedEarly = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    database = GatewayFixture.await(Database.open(vertx,
        new GatewayConfig.Db("embedded", dir.resolve("pg").toString(), 0, null, 4)));
    applier = new CardEventApplier(database.pool(), new CardTable(), Clock.systemUTC());
    context = vertx.getOrCreateContext();
    context.runOnContext(v -> {
      feed = new CardFeed(vertx, applier, syncs::add, () -> { });
      vertx.setPeriodic(200, t -> feed.tick()); // the uplink ticks it once a second
    });
    waitFor(() -> feed != null);
  }

  @AfterEach
  void stop() {
    if (database != null) {
      database.close();
    }
    GatewayFixture.await(vertx.close());
  }

  /** A holder event (the holder id repeats every {@link #HOLDER_IDS} seqs; the name carries the seq). */
  static Buffer event(long seq) {
    return CentralSimulator.holder("h-" + (seq % HOLDER_IDS), "n-" + seq, "5А", true).put("seq", seq).toBuffer();
  }

  /** A QoS 1 message for {@code seq}; {@code mustWaitForCommit}: its ack must come after the commit. */
  private MqttPublishMessage message(long seq, boolean mustWaitForCommit) {
    MqttPublishMessageImpl msg = new MqttPublishMessageImpl((int) (seq % 65_535) + 1, MqttQoS.AT_LEAST_ONCE,
        false, false, TOPIC, event(seq), MqttProperties.NO_PROPERTIES);
    AtomicInteger count = new AtomicInteger();
    acks.put(msg, count);
    msg.setAckCallback(() -> {
      count.incrementAndGet();
      if (mustWaitForCommit && applier.table().appliedSeq() < seq) {
        ackedEarly.add(seq);
      }
    });
    return msg;
  }

  /** Delivers the messages in one go on the feed's context: nothing commits in between. */
  private void deliver(List<MqttPublishMessage> messages) {
    AtomicInteger done = new AtomicInteger();
    context.runOnContext(v -> {
      messages.forEach(feed::onMessage);
      done.set(1);
    });
    waitFor(() -> done.get() == 1);
  }

  private static void waitFor(java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out");
      LockSupport.parkNanos(2_000_000);
    }
  }

  private void assertAppliedOnceInOrder(long head) {
    assertEquals(head, applier.table().appliedSeq());
    List<Row> rows = new ArrayList<>();
    GatewayFixture.await(database.pool().query("SELECT id, name, seq FROM holders ORDER BY id").execute())
        .forEach(rows::add);
    assertEquals(HOLDER_IDS, rows.size());
    for (Row r : rows) {
      // the last event for each holder id wins, as if applied one by one in seq order
      long seq = r.getLong("seq");
      assertTrue(seq > head - HOLDER_IDS, r.getString("id") + " last written by seq " + seq);
      assertEquals("n-" + seq, r.getString("name"));
      assertEquals("h-" + (seq % HOLDER_IDS), r.getString("id"));
    }
    long appliedInDb = GatewayFixture.await(database.pool().query("SELECT applied_seq FROM card_feed")
        .execute()).iterator().next().getLong(0);
    assertEquals(head, appliedInDb);
    waitFor(() -> acks.values().stream().allMatch(c -> c.get() >= 1));
    acks.values().forEach(c -> assertEquals(1, c.get(), "every message acknowledged exactly once"));
  }

  /**
   * Issue 6's first gap: a broker that delivers far more than its in-flight window ahead of
   * the acknowledgements. The run behind the applied seq is committed in full; none of it is
   * dropped (and acknowledged) to keep the hold-back small, which left a gap only a sync
   * request could repair.
   */
  @Test
  @Timeout(120)
  void inOrderEventsFarAheadOfTheCommitsAreAllAppliedWithoutASyncRequest() {
    int head = 3 * CardFeed.MAX_HELD;
    List<MqttPublishMessage> all = new ArrayList<>();
    for (long seq = 1; seq <= head; seq++) {
      all.add(message(seq, true));
    }
    deliver(all);
    waitFor(() -> applier.table().appliedSeq() >= head);
    assertAppliedOnceInOrder(head);
    assertEquals(List.of(), ackedEarly, "acknowledged before committed");
    assertEquals(List.of(), syncs, "no gap, so no sync request");
  }

  /**
   * More events beyond a gap than the hold-back keeps: the highest are dropped, and the one
   * sync answer for the gap (it runs to the head of the log) brings them again; dropping them
   * costs no second request.
   */
  @Test
  @Timeout(120)
  void eventsDroppedBeyondAGapComeWithTheOneSyncAnswer() {
    int head = CardFeed.MAX_HELD + 2000;
    List<MqttPublishMessage> first = new ArrayList<>();
    for (long seq = 1; seq <= head; seq++) {
      if (seq != 11) { // lost on the way
        first.add(message(seq, seq <= 10));
      }
    }
    deliver(first);
    waitFor(() -> !syncs.isEmpty());
    assertEquals(10, applier.table().appliedSeq());
    List<MqttPublishMessage> answer = new ArrayList<>();
    for (long seq = 11; seq <= head; seq++) {
      answer.add(message(seq, false));
    }
    deliver(answer);
    waitFor(() -> applier.table().appliedSeq() >= head);
    assertAppliedOnceInOrder(head);
    LockSupport.parkNanos(2 * CardFeed.SYNC_QUIET_MS * 1_000_000L);
    assertEquals(List.of(10L), syncs, "one sync request, also for the events dropped beyond the gap");
  }

  /**
   * A lost range, the live stream going on beyond it, then the centre's sync answer re-sending
   * everything after the applied seq while the live stream and stray duplicates keep coming:
   * applied once each, in order, with one sync request, and none again once the gap is filled.
   */
  @Test
  @Timeout(120)
  void aSyncAnswerOverlappingTheLiveStreamIsAppliedOnceInOrderAfterOneRequest() {
    List<MqttPublishMessage> first = new ArrayList<>();
    for (long seq = 1; seq <= 100; seq++) {
      first.add(message(seq, true));
    }
    for (long seq = 111; seq <= 300; seq++) { // 101..110 lost on the way
      first.add(message(seq, false));
    }
    deliver(first);
    waitFor(() -> !syncs.isEmpty());
    assertEquals(100, applier.table().appliedSeq());
    assertEquals(List.of(100L), syncs);

    // the answer (101..300) interleaved with the live stream (301..400), duplicates of old ones,
    // and the live events out of order among themselves
    List<MqttPublishMessage> answer = new ArrayList<>();
    for (long seq = 101; seq <= 300; seq++) {
      answer.add(message(seq, seq <= 110));
      if (seq % 2 == 0) {
        long live = 300 + (seq - 100) / 2;
        answer.add(message(live % 7 == 0 ? live + 1 : live % 7 == 1 ? live - 1 : live, false));
      }
      if (seq % 20 == 0) {
        answer.add(message(seq - 60, false)); // already applied
      }
    }
    deliver(answer);
    waitFor(() -> applier.table().appliedSeq() >= 400);
    assertAppliedOnceInOrder(400);
    assertEquals(List.of(), ackedEarly, "acknowledged before committed");
    LockSupport.parkNanos(2 * CardFeed.SYNC_QUIET_MS * 1_000_000L); // ticks keep running
    assertEquals(List.of(100L), syncs, "one sync request for one gap");
  }
}
