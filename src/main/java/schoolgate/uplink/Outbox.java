package schoolgate.uplink;

import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.mqtt.MqttClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import schoolgate.mqtt.ReconnectingClient;
import schoolgate.passes.PassEvent;
import schoolgate.passes.PassRepository;

import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Pass events to the centre from the durable outbox (the {@code passes} rows not yet sent):
 * read in commit order ({@code n}), published QoS 1 on one connection with at most
 * {@code maxInflight} unacknowledged, and marked sent only when the broker's PUBACK for that
 * very packet arrives. Rows are read ahead in batches of {@link #READ_BATCH}, so that a
 * backlog is published from memory while the next batch is read, not one query per few
 * PUBACKs (the window would stall on every query). One connection delivers in order, so
 * the order per reader holds; after a reconnect or a restart everything not marked sent is
 * published again from the start (the centre de-duplicates by {@code id}). Use from one
 * Vert.x context.
 */
final class Outbox {

  private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);
  static final long RETRY_MS = 1000;
  /** Outbox rows read per query; the next read starts when half of them are published. */
  static final int READ_BATCH = 1000;

  private final Vertx vertx;
  private final PassRepository passes;
  private final String topic;
  private final String school;
  private final int maxInflight;
  private final Duration delayedAfter;
  private final Clock clock;
  private final Runnable changed;

  private MqttClient client;
  /** Packet id -> outbox position, for the current connection. */
  private final Map<Integer, Long> inflight = new HashMap<>();
  private int outstanding;
  /** Position of the last row read (published or in {@link #ready}). */
  private long cursor;
  private boolean fetching;
  /** Read, not yet published, in commit order. */
  private final ArrayDeque<PassRepository.Queued> ready = new ArrayDeque<>();
  /** The last read came back short: read again only when new passes are committed (or on a tick). */
  private boolean exhausted;
  private final List<Long> toMark = new ArrayList<>();
  private boolean marking;
  private long retryTimer = -1;
  private long markTimer = -1;
  private boolean stopped;
  private long published;
  private long acked;

  /**
   * @param changed told when rows were marked sent (the backlog shrank)
   */
  Outbox(Vertx vertx, PassRepository passes, String topic, String school, int maxInflight,
         Duration delayedAfter, Clock clock, Runnable changed) {
    this.vertx = vertx;
    this.passes = passes;
    this.topic = topic;
    this.school = school;
    this.maxInflight = maxInflight;
    this.delayedAfter = delayedAfter;
    this.clock = clock;
    this.changed = changed;
  }

  /** A new connection: publish everything unsent, from the oldest. */
  void connected(MqttClient c) {
    client = c;
    inflight.clear();
    outstanding = 0;
    cursor = 0;
    ready.clear();
    exhausted = false;
    c.publishCompletionHandler(id -> acked(c, id));
    pump();
  }

  /**
   * The uplink stops: nothing more is read, published or marked, and no retry is left
   * behind on a closed database. Rows not yet marked are sent again after the restart
   * (the centre de-duplicates by id).
   */
  void stop() {
    stopped = true;
    disconnected();
    toMark.clear();
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
      retryTimer = -1;
    }
    if (markTimer >= 0) {
      vertx.cancelTimer(markTimer);
      markTimer = -1;
    }
  }

  void disconnected() {
    client = null;
    inflight.clear();
    outstanding = 0;
    cursor = 0;
    ready.clear();
  }

  /** New passes were committed. */
  void wake() {
    exhausted = false;
    pump();
  }

  /**
   * Periodic: when nothing is in flight, start again from the oldest unsent row, so a row
   * that became visible out of {@code n} order (a concurrent writer) is not left behind.
   */
  void tick() {
    if (client != null && outstanding == 0 && !fetching && !marking && toMark.isEmpty() && ready.isEmpty()) {
      cursor = 0;
    }
    exhausted = false;
    pump();
  }

  long published() {
    return published;
  }

  long acked() {
    return acked;
  }

  int inflight() {
    return outstanding;
  }

  private void pump() {
    MqttClient c = client;
    if (stopped || c == null || retryTimer >= 0) {
      return;
    }
    if (outstanding < maxInflight && !ready.isEmpty()) {
      OffsetDateTime now = OffsetDateTime.now(clock);
      while (outstanding < maxInflight && !ready.isEmpty()) {
        publish(c, ready.poll(), now);
      }
    }
    if (fetching || exhausted || ready.size() > READ_BATCH / 2) {
      return;
    }
    fetching = true;
    passes.unsent(cursor, READ_BATCH).onComplete(ar -> {
      fetching = false;
      if (client != c) {
        pump(); // the connection changed meanwhile; connected() started over: read for it
        return;
      }
      if (ar.failed()) {
        LOG.error("cannot read the pass outbox ({}); retrying", ar.cause().toString());
        retryLater();
        return;
      }
      List<PassRepository.Queued> rows = ar.result();
      for (PassRepository.Queued q : rows) {
        cursor = Math.max(cursor, q.n());
        ready.add(q);
      }
      exhausted = rows.size() < READ_BATCH;
      pump();
    });
  }

  private void publish(MqttClient c, PassRepository.Queued q, OffsetDateTime now) {
    outstanding++;
    published++;
    JsonObject json = json(q.pass(), now);
    ReconnectingClient.publish(c, topic, json.toBuffer(), MqttQoS.AT_LEAST_ONCE, false).onComplete(ar -> {
      if (client != c) {
        return;
      }
      if (ar.failed()) {
        // Not written: it stays unsent. Later rows may already be on their way, so to keep
        // the order per reader the connection is dropped and everything goes again, in order.
        LOG.warn("pass not published ({}); reconnecting to re-send in order", ar.cause().toString());
        client = null;
        if (c.isConnected()) {
          c.disconnect();
        }
        return;
      }
      // The write completes before its PUBACK can be read (same event loop; Netty flushes
      // before it reads), so the packet id is known here before its PUBACK arrives.
      inflight.put(ar.result(), q.n());
    });
  }

  JsonObject json(PassEvent pass, OffsetDateTime now) {
    JsonObject json = pass.toUplinkJson(school, null);
    if (Duration.between(pass.at(), now).compareTo(delayedAfter) > 0) {
      json.put("delayed", true);
    }
    return json;
  }

  private void acked(MqttClient c, int packetId) {
    if (client != c) {
      return;
    }
    Long n = inflight.remove(packetId);
    if (n != null) {
      done(n); // other ids: the status and sync publishes of this connection
    }
  }

  private void done(long n) {
    outstanding--;
    acked++;
    toMark.add(n);
    mark();
    pump();
  }

  private void mark() {
    if (stopped || marking || toMark.isEmpty()) {
      return;
    }
    List<Long> batch = new ArrayList<>(toMark);
    toMark.clear();
    marking = true;
    passes.markSent(batch).onComplete(ar -> {
      marking = false;
      if (stopped) {
        return; // a late answer from a database being closed: neither retried nor logged
      }
      if (ar.failed()) {
        // Keep them: re-sending after a restart is harmless (the centre de-duplicates by id).
        toMark.addAll(0, batch);
        LOG.error("cannot mark {} passes sent ({}); retrying", batch.size(), ar.cause().toString());
        markTimer = vertx.setTimer(RETRY_MS, t -> {
          markTimer = -1;
          mark();
        });
        return;
      }
      changed.run();
      mark();
    });
  }

  private void retryLater() {
    retryTimer = vertx.setTimer(RETRY_MS, t -> {
      retryTimer = -1;
      pump();
    });
  }
}
