package schoolgate.readers;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import schoolgate.cards.Reason;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the tap path counts for /metrics: taps received, new decisions by reason (each one a
 * pass; {@code bad_request} included) and their latency. A tap answered again without a new
 * pass (repeat window, retransmission) is the difference: taps minus decisions. One per Vert.x instance ({@link #of}), so the reader verticles and
 * the monitor find the same one without new constructor parameters. A no-op until the
 * monitor {@linkplain #bindTo binds} a registry. Thread-safe.
 */
public final class TapMetrics implements Shareable {

  private static final String MAP = "schoolgate.metrics";
  private static final String KEY = "taps";

  private record Meters(Counter taps, Map<Reason, Counter> decisions, Timer latency) {
  }

  private volatile Meters meters;

  private TapMetrics() {
  }

  /** The tap metrics of this Vert.x instance. */
  public static TapMetrics of(Vertx vertx) {
    LocalMap<String, TapMetrics> map = vertx.sharedData().getLocalMap(MAP);
    return map.computeIfAbsent(KEY, k -> new TapMetrics());
  }

  /** Registers the meters in {@code registry}; from now on taps are counted there. */
  public void bindTo(MeterRegistry registry) {
    Map<Reason, Counter> decisions = new EnumMap<>(Reason.class);
    for (Reason r : Reason.values()) {
      decisions.put(r, Counter.builder("gate.decisions")
          .description("New decisions (each a pass, or a bad request), by reason; taps minus these are repeats")
          .tag("reason", r.wire()).register(registry));
    }
    meters = new Meters(
        Counter.builder("gate.taps").description("Card taps received from readers").register(registry),
        decisions,
        Timer.builder("gate.decision")
            .description("Time from a tap's arrival to its decision (in-memory card table)")
            .serviceLevelObjectives(micros(50), micros(100), micros(250), micros(500), millis(1),
                millis(2), millis(5), millis(10), millis(25), millis(50), millis(100), millis(250))
            .register(registry));
  }

  /** A tap message arrived (whatever becomes of it). */
  void received() {
    Meters m = meters;
    if (m != null) {
      m.taps().increment();
    }
  }

  /** A new tap was decided {@code nanos} after it arrived. */
  void decided(Reason reason, long nanos) {
    Meters m = meters;
    if (m != null) {
      m.decisions().get(reason).increment();
      m.latency().record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** A tap that could not be read, or from an unknown reader. */
  void badRequest() {
    Meters m = meters;
    if (m != null) {
      m.decisions().get(Reason.BAD_REQUEST).increment();
    }
  }

  private static Duration micros(long n) {
    return Duration.ofNanos(n * 1000);
  }

  private static Duration millis(long n) {
    return Duration.ofMillis(n);
  }
}
