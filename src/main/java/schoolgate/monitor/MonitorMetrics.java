package schoolgate.monitor;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import schoolgate.Gateway;
import schoolgate.readers.TapMetrics;
import schoolgate.uplink.UplinkStatus;

import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The gateway's meters in Prometheus form for /metrics. Counts and states only: no names,
 * card numbers or photos ever become labels. The tap path counts into {@link TapMetrics};
 * the rest is read from the gateway's state when scraped.
 */
final class MonitorMetrics {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Counter loginOk;
  private final Counter loginWrong;
  private final Counter loginThrottled;
  private final Counter manualOpens;
  private final Counter admits;

  MonitorMetrics(Gateway gateway, TapMetrics taps, LongSupplier outboxBacklog, LongSupplier clients) {
    taps.bindTo(registry);
    Gauge.builder("gate.outbox.backlog", outboxBacklog::getAsLong)
        .description("Pass events committed but not yet acknowledged by the centre")
        .register(registry);
    UplinkStatus uplink = gateway.uplinkStatus();
    for (UplinkStatus.State s : UplinkStatus.State.values()) {
      Gauge.builder("gate.uplink.state", () -> uplink.state() == s ? 1 : 0)
          .description("Uplink state: 1 for the current state, 0 for the others")
          .tag("state", s.name().toLowerCase(Locale.ROOT))
          .register(registry);
    }
    Gauge.builder("gate.passes.waiting", () -> gateway.pendingPasses().waiting())
        .description("Passes decided but not yet committed to PostgreSQL").register(registry);
    Gauge.builder("gate.passes.refused", () -> gateway.pendingPasses().refused())
        .description("Passes refused since start because a buffer was full (database away too long)")
        .register(registry);
    Gauge.builder("gate.card.table.cards", () -> gateway.table().cardCount())
        .description("Cards in the in-memory card table").register(registry);
    Gauge.builder("gate.card.table.holders", () -> gateway.table().holderCount())
        .description("Holders (students) in the in-memory card table").register(registry);
    Gauge.builder("gate.card.table.seq", () -> gateway.table().appliedSeq())
        .description("Last card event seq applied").register(registry);
    Gauge.builder("gate.card.event.last.seconds", () -> gateway.table().lastEventAt() == null
            ? Double.NaN : gateway.table().lastEventAt().toEpochMilli() / 1000.0)
        .description("Unix time when the last card event was applied").register(registry);
    Gauge.builder("gate.readers.listening", () -> gateway.presence().listening() ? 1 : 0)
        .description("1 while the reader listener (or broker subscription) is up").register(registry);
    Gauge.builder("gate.readers.online", () -> gateway.presence()
            .snapshot(gateway.config().readers().map().keySet()).stream()
            .filter(r -> ((io.vertx.core.json.JsonObject) r).getBoolean("online", false)).count())
        .description("Readers connected (embedded) or recently heard from (broker)").register(registry);
    Gauge.builder("gate.monitor.clients", clients::getAsLong)
        .description("Guard screens connected over WebSocket").register(registry);
    String logins = "gate.guard.logins";
    loginOk = Counter.builder(logins).tag("result", "ok").register(registry);
    loginWrong = Counter.builder(logins).tag("result", "wrong").register(registry);
    loginThrottled = Counter.builder(logins).tag("result", "throttled").register(registry);
    String actions = "gate.guard.actions";
    manualOpens = Counter.builder(actions).tag("action", "open").register(registry);
    admits = Counter.builder(actions).tag("action", "admit").register(registry);
  }

  /**
   * The JVM and system meters. They read /proc and the cgroup files when built and when
   * scraped (5 s once on a loaded box), so call this, and {@link #scrape}, off the event loop.
   */
  void bindJvm() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  String scrape() {
    return registry.scrape();
  }

  void login(boolean ok) {
    (ok ? loginOk : loginWrong).increment();
  }

  void loginThrottled() {
    loginThrottled.increment();
  }

  void manualOpen() {
    manualOpens.increment();
  }

  void admit() {
    admits.increment();
  }

  void close() {
    registry.close();
  }
}
