package schoolgate.uplink;

import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.mqtt.messages.MqttPublishMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import schoolgate.log.RateLimitedLog;
import schoolgate.cards.BadInput;
import schoolgate.cards.CardEvent;
import schoolgate.cards.CardEventApplier;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongConsumer;

/**
 * Card events from the centre, applied strictly in {@code seq} order: consecutive events are
 * committed in batches (one {@link CardEventApplier} call, at most {@link #MAX_BATCH} events,
 * so that a full resync never holds a long transaction), and each MQTT message is
 * acknowledged only after its event is committed. A {@code seq} already applied is
 * acknowledged and ignored. Events beyond a gap are held back (bounded) while the missing
 * range is asked for with a sync request; those are acknowledged at once (see
 * {@link #onMessage}), since the broker would send nothing more while they are outstanding.
 *
 * <p>A bad event (not JSON, or not a valid card event) is acknowledged, logged without its
 * content, and NOT skipped: the gateway does not apply anything after a seq it could not
 * apply, because a later event may depend on it (a card bound to a holder the bad event
 * created). The feed stays at that seq, keeps asking for it slowly ({@link #BAD_EVENT_RESYNC_MS}),
 * and shows it in the retained status as {@code badSeq}, until the centre republishes that
 * seq in a valid form. Use from one Vert.x context.
 */
final class CardFeed {

  static final int MAX_BATCH = 1000;
  static final long MAX_BATCH_BYTES = 16L * 1024 * 1024;
  /** Held back beyond a gap: more is acknowledged and dropped, to be fetched again by sync. */
  static final int MAX_HELD = 5000;
  /**
   * The run that continues the applied seq (unacknowledged, next to be committed) is not cut at
   * {@link #MAX_HELD}: a broker that does not keep to its in-flight window (Mosquitto 2.0.11
   * delivered thousands ahead of the acknowledgements) would otherwise make the gateway drop,
   * and acknowledge, events that nothing sends again. Only memory bounds it: all held events
   * together up to this many, and up to {@link #MAX_HELD_BYTES} of payload.
   */
  static final int MAX_RUN = 100_000;
  static final long MAX_HELD_BYTES = 64L * 1024 * 1024;
  /** No second sync request while a recent one is being answered (progress counts as answered). */
  static final long SYNC_QUIET_MS = 3000;
  static final long BAD_EVENT_RESYNC_MS = 60_000;
  static final long DB_RETRY_MS = 1000;
  /** While streaming, how long to let the next events arrive before the next transaction. */
  static final long LINGER_MS = 2;

  private static final Logger LOG = LoggerFactory.getLogger(CardFeed.class);

  private static final class Held {
    final CardEvent event;
    final int bytes;
    final List<MqttPublishMessage> messages = new ArrayList<>(1);

    Held(CardEvent event, int bytes) {
      this.event = event;
      this.bytes = bytes;
    }
  }

  private final Vertx vertx;
  private final CardEventApplier applier;
  private final LongConsumer requestSync;
  private final Runnable changed;
  private final RateLimitedLog badLog = new RateLimitedLog(LOG, 10_000);
  private final TreeMap<Long, Held> held = new TreeMap<>();
  private final TreeSet<Long> badSeqs = new TreeSet<>();
  private long heldBytes;
  private boolean committing;
  private long runEnd;
  private long lastSyncAfter = -1;
  private long syncBackoffMs = SYNC_QUIET_MS;
  /** The lowest seq dropped from a full buffer and not applied since (0: none). */
  private long dropped;
  /**
   * An event of the run was dropped (memory bound) since the last sync request: nothing will
   * send it again, so it is asked for as soon as the run before it is committed.
   */
  private boolean runDroppedSinceSync;
  private boolean lingering;
  private long retryTimer = -1;
  private boolean stopped;
  private long lastSyncAt = Long.MIN_VALUE / 2;
  private long lastProgressAt = Long.MIN_VALUE / 2;
  private long received;
  private long duplicates;
  private long progressLoggedAt = System.currentTimeMillis();
  private long eventsSinceLog;
  private long batchesSinceLog;

  /**
   * @param requestSync publishes {@code {"after": n}} (called with n)
   * @param changed     told when the applied seq or the bad seq changed
   */
  CardFeed(Vertx vertx, CardEventApplier applier, LongConsumer requestSync, Runnable changed) {
    this.vertx = vertx;
    this.applier = applier;
    this.requestSync = requestSync;
    this.changed = changed;
  }

  long appliedSeq() {
    return applier.table().appliedSeq();
  }

  /** The seq the feed is stuck at because its event was bad, or null. */
  Long badSeq() {
    long next = appliedSeq() + 1;
    return badSeqs.contains(next) ? next : null;
  }

  int heldCount() {
    return held.size();
  }

  /** A new connection: ask for everything after the applied seq. */
  void connected() {
    sync();
  }

  void onMessage(MqttPublishMessage msg) {
    received++;
    String text = msg.payload().toString(StandardCharsets.UTF_8);
    CardEvent event;
    try {
      event = CardEvent.parse(text);
    } catch (BadInput e) {
      bad(text, e.getMessage());
      ack(msg);
      return;
    } catch (DecodeException | ClassCastException e) {
      bad(text, "not a valid JSON object"); // the parser's message may quote the content
      ack(msg);
      return;
    }
    long seq = event.seq();
    if (seq <= appliedSeq()) {
      duplicates++;
      ack(msg);
      return;
    }
    badSeqs.remove(seq);
    Held h = held.get(seq);
    if (h == null) {
      h = new Held(event, msg.payload().length());
      held.put(seq, h);
      heldBytes += h.bytes;
    }
    if (seq <= runEnd()) {
      h.messages.add(msg); // acknowledged when committed
    } else {
      // Beyond a gap: acknowledged now. Held unacknowledged, these would fill the broker's
      // in-flight window (10-32 messages) and the missing events, queued behind them, would
      // never come. Safe: until it is committed the gateway asks for it again (sync from its
      // committed seq on every connect and on every gap), so a crash loses nothing.
      ack(msg);
    }
    trim();
    drain();
  }

  /**
   * The uplink stops: no further commit is started and a pending retry is cancelled. Without
   * this, a commit that failed as the database closed was retried once a second for as long as
   * the Vert.x instance lived (a gateway stopped in-process, as tests and the demo do).
   */
  void stop() {
    stopped = true;
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
      retryTimer = -1;
    }
  }

  /** Periodic check: re-ask for a gap whose answer did not come. */
  void tick() {
    if (!committing) {
      drain();
    }
  }

  private void bad(String text, String why) {
    Long seq = null;
    try {
      Object s = new JsonObject(text).getValue("seq");
      if (s instanceof Number n && n.longValue() > 0 && n.doubleValue() == Math.rint(n.doubleValue())) {
        seq = n.longValue();
      }
    } catch (RuntimeException notJson) {
      // no seq to be had
    }
    if (seq != null && seq > appliedSeq()) {
      boolean fresh = badSeqs.add(seq);
      if (badSeqs.size() > MAX_HELD) {
        badSeqs.pollLast();
      }
      if (fresh && seq == appliedSeq() + 1) {
        changed.run();
      }
    }
    // The reason names a field and a rule, never the content (which may hold a name or photo).
    badLog.warn("centre", "bad card event {} from the centre, acknowledged, not applied: {}; the card table"
        + " stays at seq {} until the centre sends a valid event for seq {}",
        seq == null ? "(no seq)" : "seq " + seq, why, appliedSeq(), appliedSeq() + 1);
  }

  /**
   * The end of the run of held events that continues the applied seq without a gap (the
   * applied seq itself when there is none): those can be committed as soon as it is their turn.
   */
  private long runEnd() {
    runEnd = Math.max(runEnd, appliedSeq());
    while (held.containsKey(runEnd + 1)) {
      runEnd++;
    }
    return runEnd;
  }

  /**
   * Keeps the held-back events bounded. Events beyond a gap go first, the highest first: they
   * were acknowledged on arrival and the sync answer that repairs the gap (it runs to the head
   * of the centre's log) brings them again. The run that continues the applied seq goes only
   * when memory demands it ({@link #MAX_RUN}, {@link #MAX_HELD_BYTES}): it is acknowledged
   * (else the broker would keep it in flight until the next connection) and asked for again
   * as soon as the run before it is committed.
   */
  private void trim() {
    long end = runEnd();
    while (held.size() - (end - appliedSeq()) > MAX_HELD
        || (heldBytes > MAX_HELD_BYTES && held.lastKey() > end)) {
      drop(held.pollLastEntry());
    }
    while (held.size() > 1 && (held.size() > MAX_RUN || heldBytes > MAX_HELD_BYTES)) {
      drop(held.pollLastEntry());
      runDroppedSinceSync = true;
    }
  }

  private void drop(Map.Entry<Long, Held> last) {
    heldBytes -= last.getValue().bytes;
    runEnd = Math.min(runEnd, last.getKey() - 1);
    dropped = dropped == 0 ? last.getKey() : Math.min(dropped, last.getKey());
    last.getValue().messages.forEach(CardFeed::ack);
  }

  private void drain() {
    if (committing || lingering || stopped) {
      return;
    }
    long applied = appliedSeq();
    // Anything at or below the applied seq (e.g. applied by a concurrent import): done.
    while (!held.isEmpty() && held.firstKey() <= applied) {
      Held h = held.pollFirstEntry().getValue();
      heldBytes -= h.bytes;
      h.messages.forEach(CardFeed::ack);
    }
    if (dropped != 0 && applied >= dropped) {
      dropped = 0;
    }
    if (held.isEmpty()) {
      if (badSeqs.contains(applied + 1)) {
        gap(applied); // stuck on a bad event: keep asking, slowly, for a corrected one
      } else if (dropped != 0) {
        gap(applied); // events were dropped from a full buffer: fetch them again
      }
      return;
    }
    if (held.firstKey() != applied + 1) {
      gap(applied);
      return;
    }
    List<CardEvent> batch = new ArrayList<>();
    long bytes = 0;
    long expected = applied + 1;
    for (Map.Entry<Long, Held> e : held.entrySet()) {
      if (e.getKey() != expected || batch.size() >= MAX_BATCH
          || (bytes > 0 && bytes + e.getValue().bytes > MAX_BATCH_BYTES)) {
        break;
      }
      batch.add(e.getValue().event);
      bytes += e.getValue().bytes;
      expected++;
    }
    committing = true;
    applier.apply(batch).onComplete(ar -> {
      committing = false;
      if (stopped) {
        return; // not retried, not logged: the next start asks the centre from the committed seq
      }
      if (ar.succeeded()) {
        lastProgressAt = System.currentTimeMillis();
        long upTo = ar.result().appliedSeq();
        while (!held.isEmpty() && held.firstKey() <= upTo) {
          Held h = held.pollFirstEntry().getValue();
          heldBytes -= h.bytes;
          h.messages.forEach(CardFeed::ack);
        }
        badSeqs.headSet(upTo, true).clear();
        changed.run();
        logProgress(ar.result().applied(), upTo);
        if (batch.size() > 1 && held.size() < MAX_BATCH) {
          // Streaming (a sync answer): the acks just sent free the broker's in-flight window,
          // and its next events are a round trip away. Waiting that long makes the next
          // transaction carry a full window instead of the few that arrived meanwhile.
          lingering = true;
          vertx.setTimer(LINGER_MS, t -> {
            lingering = false;
            drain();
          });
        } else {
          drain();
        }
      } else if (ar.cause() instanceof CardEventApplier.SeqGap) {
        // The database is not where the table is (cannot happen while this gateway holds the
        // data directory): nothing was applied; try again shortly, without spinning.
        LOG.warn("card events not applied: {}", ar.cause().getMessage());
        retryLater();
      } else {
        LOG.error("cannot commit {} card events ({}); retrying", batch.size(), ar.cause().toString());
        retryLater();
      }
    });
  }

  /** During a long catch-up, what was applied every few seconds (an operator sees it move). */
  private void logProgress(int applied, long seq) {
    eventsSinceLog += applied;
    batchesSinceLog++;
    long now = System.currentTimeMillis();
    if (now - progressLoggedAt >= 5000) {
      LOG.info("card table at seq {}: {} events applied in {} transactions in the last {} s",
          seq, eventsSinceLog, batchesSinceLog, (now - progressLoggedAt) / 1000);
      progressLoggedAt = now;
      eventsSinceLog = 0;
      batchesSinceLog = 0;
    }
  }

  private void gap(long applied) {
    long now = System.currentTimeMillis();
    boolean stuckOnBad = badSeqs.contains(applied + 1);
    // Asking again for the same range backs off (3, 6, 12 ... 60 s): the answer may be queued
    // at the broker behind many events, and every request makes the centre send it all again.
    long quiet = stuckOnBad ? BAD_EVENT_RESYNC_MS
        : applied == lastSyncAfter ? syncBackoffMs : SYNC_QUIET_MS;
    // Dropped from the run: nothing is on its way, so no point in waiting for it.
    boolean refetch = runDroppedSinceSync && dropped != 0 && applied < dropped;
    if (refetch || now - Math.max(lastSyncAt, lastProgressAt) >= quiet) {
      LOG.info("card events after seq {} missing (next held: {}); asking the centre", applied,
          held.isEmpty() ? "none" : held.firstKey());
      syncBackoffMs = applied == lastSyncAfter
          ? Math.min(BAD_EVENT_RESYNC_MS, syncBackoffMs * 2) : SYNC_QUIET_MS * 2;
      sync();
    }
  }

  private void sync() {
    runDroppedSinceSync = false;
    lastSyncAt = System.currentTimeMillis();
    lastSyncAfter = appliedSeq();
    requestSync.accept(lastSyncAfter);
  }

  private void retryLater() {
    if (retryTimer >= 0 || stopped) {
      return;
    }
    retryTimer = vertx.setTimer(DB_RETRY_MS, t -> {
      retryTimer = -1;
      drain();
    });
  }

  /** Acknowledges on the connection the message came from, if that is still up. */
  private static void ack(MqttPublishMessage msg) {
    if (msg.qosLevel() == MqttQoS.AT_MOST_ONCE) {
      return;
    }
    try {
      msg.ack();
    } catch (RuntimeException connectionGone) {
      // That connection is closed: the broker delivers the message again on the next one.
    }
  }

  long received() {
    return received;
  }

  long duplicates() {
    return duplicates;
  }
}
