package schoolgate.mqtt;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import io.vertx.mqtt.messages.MqttPublishMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * An MQTT client connection that is kept up forever: on a failed connect or a lost
 * connection it tries again after an exponential back-off with full jitter (0.5 s doubling
 * to 30 s), so that hundreds of schools do not reconnect to the centre in lock-step.
 * {@code onConnected} runs after each successful connect (subscribe there); the session's
 * {@code connected} state is what callers check before acknowledging.
 */
public final class ReconnectingClient {

  private static final Logger LOG = LoggerFactory.getLogger(ReconnectingClient.class);
  static final long MIN_DELAY_MS = 500;
  static final long MAX_DELAY_MS = 30_000;
  /** A broker that takes the TCP connection but never answers CONNECT must not hold us forever. */
  static final long CONNECT_TIMEOUT_MS = 30_000;

  private final Vertx vertx;
  private final String name;
  private final MqttClientOptions options;
  private final String host;
  private final int port;
  private final Handler<MqttPublishMessage> onMessage;
  private final Function<MqttClient, Future<?>> onConnected;
  private Handler<Boolean> stateHandler = up -> { };
  private long maxDelayMs = MAX_DELAY_MS;
  private long connectTimeoutMs = CONNECT_TIMEOUT_MS;

  private MqttClient client;
  private boolean connected;
  private boolean stopped;
  private int failures;
  private int attempts;
  private long timer = -1;

  public ReconnectingClient(Vertx vertx, String name, MqttClientOptions options, String host, int port,
                            Handler<MqttPublishMessage> onMessage, Function<MqttClient, Future<?>> onConnected) {
    this.vertx = vertx;
    this.name = name;
    this.options = options;
    this.host = host;
    this.port = port;
    this.onMessage = onMessage;
    this.onConnected = onConnected;
  }

  /** Told true when a connection is up (after {@code onConnected}), false when it is lost. */
  public ReconnectingClient stateHandler(Handler<Boolean> handler) {
    this.stateHandler = handler;
    return this;
  }

  /** The back-off cap (default 30 s): a long outage is retried at least this often. */
  public ReconnectingClient maxDelay(long ms) {
    this.maxDelayMs = Math.max(MIN_DELAY_MS, ms);
    return this;
  }

  /** How long to wait for the broker's CONNACK before trying again (default 30 s). */
  public ReconnectingClient connectTimeout(long ms) {
    this.connectTimeoutMs = ms;
    return this;
  }

  public void start() {
    stopped = false;
    connect();
  }

  public Future<Void> stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    MqttClient c = client;
    client = null;
    connected = false;
    return c != null && c.isConnected() ? c.disconnect() : Future.succeededFuture();
  }

  /**
   * Publishes on {@code c}; a connection that closed a moment ago (its close not yet handled)
   * makes the vertx client throw, and that becomes a failed future here.
   */
  public static Future<Integer> publish(MqttClient c, String topic, io.vertx.core.buffer.Buffer payload,
                                        io.netty.handler.codec.mqtt.MqttQoS qos, boolean retain) {
    try {
      return c.publish(topic, payload, qos, false, retain);
    } catch (RuntimeException closed) {
      return Future.failedFuture(closed);
    }
  }

  public boolean connected() {
    return connected && client != null && client.isConnected();
  }

  /** The client of the current connection, or null between connections. */
  public MqttClient client() {
    return connected() ? client : null;
  }

  /**
   * The client of the connection that is up at the MQTT level, even while {@code onConnected}
   * is still running: a broker resuming a persistent session delivers queued messages right
   * after CONNACK, before any SUBACK, and those must be handled on this connection.
   */
  public MqttClient session() {
    MqttClient c = client;
    return c != null && c.isConnected() ? c : null;
  }

  private void connect() {
    timer = -1;
    if (stopped) {
      return;
    }
    attempts++;
    MqttClient c = MqttClient.create(vertx, options);
    client = c;
    c.publishHandler(onMessage);
    c.closeHandler(v -> lost(c));
    c.exceptionHandler(e -> LOG.debug("{}: {}", name, e.toString()));
    long guard = vertx.setTimer(connectTimeoutMs, t -> {
      if (client == c && !connected) {
        LOG.warn("{}: no answer from {}:{} within {} ms; trying again", name, host, port,
            connectTimeoutMs);
        client = null; // what c reports from now on is ignored
        try {
          c.disconnect();
        } catch (RuntimeException ignored) {
          // it was not really connected
        }
        retry();
      }
    });
    c.connect(port, host)
        .compose(ack -> onConnected.apply(c))
        .onComplete(ar -> vertx.cancelTimer(guard))
        .onSuccess(v -> {
          if (client != c) {
            return;
          }
          failures = 0;
          attempts = 0;
          connected = true;
          LOG.info("{}: connected to {}:{}", name, host, port);
          stateHandler.handle(true);
        })
        .onFailure(e -> {
          if (client != c) {
            return;
          }
          // A long outage must not fill the log: attempts 1, 2, 4, 8, ... are logged.
          if (Integer.bitCount(attempts) == 1) {
            LOG.warn("{}: cannot connect to {}:{} (attempt {}): {}", name, host, port, attempts,
                describe(e));
          } else {
            LOG.debug("{}: cannot connect to {}:{}: {}", name, host, port, describe(e));
          }
          if (c.isConnected()) {
            c.disconnect();
          } else {
            retry();
          }
        });
  }

  private void lost(MqttClient c) {
    if (client != c) {
      return;
    }
    boolean wasUp = connected;
    connected = false;
    if (wasUp) {
      LOG.warn("{}: connection to {}:{} lost", name, host, port);
      stateHandler.handle(false);
    }
    retry();
  }

  private void retry() {
    if (stopped || timer >= 0) {
      return;
    }
    failures++;
    long cap = Math.min(maxDelayMs, MIN_DELAY_MS << Math.min(failures - 1, 10));
    long delay = Math.max(100, ThreadLocalRandom.current().nextLong(cap + 1));
    timer = vertx.setTimer(delay, t -> connect());
  }

  /**
   * A failure with its causes: "Failed to create SSL connection" alone does not tell an operator
   * that the broker's certificate is not trusted (uplink.caFile); its causes do ("PKIX path
   * building failed ... unable to find valid certification path"). Messages already contained
   * in an earlier one are left out; at most 600 characters.
   */
  static String describe(Throwable e) {
    StringBuilder out = new StringBuilder(String.valueOf(e.getMessage()));
    Throwable c = e.getCause();
    for (int depth = 0; c != null && c != e && depth < 10; depth++, c = c.getCause()) {
      String m = c.getMessage();
      if (m != null && !out.toString().contains(m)) {
        out.append(": ").append(m);
      }
    }
    return out.length() > 600 ? out.substring(0, 600) + "..." : out.toString();
  }
}
