package schoolgate.readers;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import schoolgate.cards.CardTable;
import schoolgate.cards.Holder;
import schoolgate.cards.Reason;
import schoolgate.cards.Verdict;
import schoolgate.config.GatewayConfig;
import schoolgate.log.RateLimitedLog;
import schoolgate.passes.LivePasses;
import schoolgate.passes.PassEvent;
import schoolgate.passes.PassRepository;
import schoolgate.passes.PassWriter;
import schoolgate.passes.Uuid7;

import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What happens to one tap, whichever way it arrived (embedded listener or external broker):
 * validate, drop duplicates, decide against the in-memory table, build the pass event and
 * hand it to the group-commit writer. The decision is returned at once; {@link Outcome#durable}
 * completes when the pass is committed (or at once when there is none to commit), and only
 * then may the tap be acknowledged. Use from one Vert.x context.
 */
public final class TapHandler {

  /** How long a repeated {@code seq} from a reader is recognised as the same tap. */
  static final long SEQ_MEMORY_MS = 15 * 60 * 1000;
  /** Without a {@code seq}, a retransmitted (DUP) tap of the same card within this is the same tap. */
  static final long DUP_WINDOW_MS = 60 * 1000;
  /**
   * A bound on the seqs remembered per reader, for memory's sake only: entries leave when they
   * are {@link #SEQ_MEMORY_MS} old. A turnstile cannot tap 70 times a second, so in practice
   * the 15 minutes hold; a count of 4,096 did not (4.5 taps/s), and a broker re-delivering a
   * tap after that many newer ones made it a second pass.
   */
  static final int SEQ_MEMORY_ENTRIES = 65_536;

  private static final Logger LOG = LoggerFactory.getLogger(TapHandler.class);

  /**
   * The decision to publish to the reader, encoded once (never null), and when the tap may be
   * acknowledged.
   */
  public record Outcome(Buffer payload, Future<Void> durable) {
    Outcome(JsonObject decision, Future<Void> durable) {
      this(decision.toBuffer(), durable);
    }

    /** The decision as JSON, decoded from the payload. */
    public JsonObject decision() {
      return new JsonObject(payload);
    }
  }

  /**
   * A remembered tap. The decision is kept encoded: a reader's seqs are remembered for 15
   * minutes, and as {@code JsonObject}s (a map, the holder's name as its own string) they
   * made most of the gateway's live heap at a high tap rate, which every young collection
   * copied (G1 pauses of 17–29 ms at 5,000 taps/s; docs/benchmarks.md). Decoded only when a
   * tap is repeated.
   */
  private record Recent(String card, long atMs, byte[] encoded, Future<Void> durable) {
    JsonObject decision() {
      return new JsonObject(Buffer.buffer(encoded));
    }
  }

  private final Vertx vertx;
  private final GatewayConfig.Readers config;
  private final CardTable table;
  private final PassWriter writer;
  private final ReaderPresence presence;
  private final Clock clock;
  private final RateLimitedLog badInput = new RateLimitedLog(LOG, 10_000);
  private final TapMetrics metrics;
  /** reader -> seq -> the tap that had it. */
  private final Map<String, LinkedHashMap<Long, Recent>> bySeq = new HashMap<>();
  /** reader -> card -> the last pass of that card there (for the repeat window). */
  private final Map<String, LinkedHashMap<String, Recent>> byCard = new HashMap<>();

  public TapHandler(Vertx vertx, GatewayConfig.Readers config, CardTable table, PassWriter writer,
                    ReaderPresence presence, Clock clock) {
    this.vertx = vertx;
    this.config = config;
    this.table = table;
    this.writer = writer;
    this.presence = presence;
    this.clock = clock;
    this.metrics = TapMetrics.of(vertx);
  }

  /** Rebuilds duplicate detection from the passes committed before a restart. */
  public Future<Void> warmUp(PassRepository passes) {
    OffsetDateTime since = OffsetDateTime.now(clock).minusNanos(SEQ_MEMORY_MS * 1_000_000);
    return passes.recentTaps(since).map(list -> {
      for (PassEvent p : list) {
        Verdict verdict = new Verdict(p.card(), p.reason(), null,
            p.holderId() == null ? null : table.holder(p.holderId()), null);
        byte[] decision = decisionJson(p.tapSeq(), p.card(), verdict).toBuffer().getBytes();
        remember(p.reader(), p.tapSeq(), p.card(), p.at().toInstant().toEpochMilli(), decision,
            Future.succeededFuture());
      }
      LOG.info("duplicate detection rebuilt from {} recent taps", list.size());
      return null;
    });
  }

  public Outcome handle(String readerId, Buffer payload, boolean dup) {
    long arrived = System.nanoTime();
    metrics.received();
    Tap tap;
    try {
      tap = Tap.parse(payload, config.maxPayloadBytes());
    } catch (Tap.Bad bad) {
      return badRequest(readerId, bad.getMessage(), bad.partial().seq(), bad.partial().card());
    }
    GatewayConfig.ReaderPlace place = config.map().get(readerId);
    if (place == null) {
      return badRequest(readerId, "reader is not in readers.map", tap.seq(), tap.card());
    }
    presence.tapped(readerId);
    long now = clock.millis();

    if (tap.seq() != null) {
      LinkedHashMap<Long, Recent> seqs = bySeq.get(readerId);
      Recent same = seqs == null ? null : seqs.get(tap.seq());
      if (same != null && same.card.equals(tap.card()) && now - same.atMs < SEQ_MEMORY_MS
          && !same.durable.failed()) {
        return new Outcome(Buffer.buffer(same.encoded), same.durable);
      }
    }
    Verdict verdict = table.decide(tap.card());
    LinkedHashMap<String, Recent> cards = byCard.get(readerId);
    Recent last = cards == null ? null : cards.get(tap.card());
    if (last != null && !last.durable.failed()) {
      // (a pass that could not be committed is recorded afresh when the reader retransmits)
      long age = now - last.atMs;
      // The repeat window spares a second pass for the same outcome, never a stale one: a card
      // superseded, blocked or activated since its last tap is decided and recorded anew.
      boolean inWindow = age < config.repeatSeconds() * 1000L;
      boolean retransmit = dup && tap.seq() == null && age < DUP_WINDOW_MS;
      if (inWindow || retransmit) {
        JsonObject again = last.decision();
        if (retransmit || sameDecision(again, tap.card(), verdict)) {
          putSeq(again, tap.seq());
          Buffer encoded = again.toBuffer();
          if (tap.seq() != null) {
            rememberSeq(readerId, tap.seq(), new Recent(tap.card(), last.atMs, encoded.getBytes(), last.durable));
          }
          return new Outcome(encoded, last.durable);
        }
      }
    }

    JsonObject decision = decisionJson(tap.seq(), tap.card(), verdict);
    metrics.decided(verdict.reason(), System.nanoTime() - arrived);
    PassEvent pass = new PassEvent(Uuid7.next(now), readerId, place.gate(), place.direction(),
        tap.card(), verdict.holderId(), verdict.open(), verdict.reason(),
        OffsetDateTime.ofInstant(java.time.Instant.ofEpochMilli(now), ZoneId.systemDefault()),
        PassEvent.SOURCE_TAP, null, null, tap.seq());
    Future<Void> durable = writer.record(pass);
    durable.onFailure(e -> badInput.warn("reader " + readerId, "pass not committed: " + e.getMessage()));
    Buffer encoded = decision.toBuffer(); // encoded once: published, and remembered as bytes
    remember(readerId, tap.seq(), tap.card(), now, encoded.getBytes(), durable);
    vertx.eventBus().publish(LivePasses.ADDRESS, LivePasses.json(pass, verdict.holder(), verdict.replacedAt()));
    return new Outcome(encoded, durable);
  }

  private Outcome badRequest(String readerId, String why, Long seq, String card) {
    badInput.warn("reader " + readerId, "bad tap: " + why);
    metrics.badRequest();
    JsonObject decision = new JsonObject();
    putSeq(decision, seq);
    if (card != null) {
      decision.put("card", card);
    }
    decision.put("open", false).put("reason", Reason.BAD_REQUEST.wire()).put("error", why);
    return new Outcome(decision, Future.succeededFuture());
  }

  static JsonObject decisionJson(Long seq, String card, Verdict verdict) {
    JsonObject json = new JsonObject();
    putSeq(json, seq);
    json.put("card", card).put("open", verdict.open()).put("reason", verdict.reason().wire());
    Holder h = verdict.holder();
    if (verdict.open() && h != null) {
      json.put("name", h.name()).put("class", h.className());
    }
    return json;
  }

  /** Would {@code verdict} answer the reader as {@code before} did (seq aside)? */
  private static boolean sameDecision(JsonObject before, String card, Verdict verdict) {
    JsonObject earlier = before.copy();
    earlier.remove("seq");
    return earlier.equals(decisionJson(null, card, verdict));
  }

  private static void putSeq(JsonObject json, Long seq) {
    if (seq != null) {
      json.put("seq", seq);
    } else {
      json.remove("seq");
    }
  }

  private void remember(String readerId, Long seq, String card, long atMs, byte[] decision,
                        Future<Void> durable) {
    Recent recent = new Recent(card, atMs, decision, durable);
    if (seq != null) {
      rememberSeq(readerId, seq, recent);
    }
    LinkedHashMap<String, Recent> cards = byCard.computeIfAbsent(readerId, k -> new LinkedHashMap<>());
    cards.remove(card);
    cards.put(card, recent);
    // Oldest first: drop what is past every window.
    long horizon = Math.max(DUP_WINDOW_MS, config.repeatSeconds() * 1000L);
    for (Iterator<Recent> it = cards.values().iterator(); it.hasNext(); ) {
      if (atMs - it.next().atMs <= horizon) {
        break;
      }
      it.remove();
    }
  }

  private void rememberSeq(String readerId, long seq, Recent recent) {
    LinkedHashMap<Long, Recent> seqs = bySeq.computeIfAbsent(readerId, k -> new LinkedHashMap<>());
    seqs.remove(seq);
    seqs.put(seq, recent);
    // Oldest first: drop what is past the window, then, only if still over the bound, the oldest.
    for (Iterator<Recent> it = seqs.values().iterator(); it.hasNext(); ) {
      if (recent.atMs - it.next().atMs < SEQ_MEMORY_MS) {
        break;
      }
      it.remove();
    }
    if (seqs.size() > SEQ_MEMORY_ENTRIES) {
      seqs.remove(seqs.keySet().iterator().next());
      badInput.warn("reader " + readerId, "more than " + SEQ_MEMORY_ENTRIES + " taps in "
          + SEQ_MEMORY_MS / 60_000 + " minutes: a retransmission of the oldest may be recorded again");
    }
  }

  /** Logs bad input about a reader or client at most once per interval. */
  void warnBadInput(String key, String message) {
    badInput.warn(key, message);
  }
}
