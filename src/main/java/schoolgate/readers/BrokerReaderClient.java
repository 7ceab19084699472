package schoolgate.readers;

import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import io.vertx.mqtt.messages.MqttPublishMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import schoolgate.cards.CardTable;
import schoolgate.config.GatewayConfig;
import schoolgate.log.RateLimitedLog;
import schoolgate.mqtt.ReconnectingClient;
import schoolgate.passes.PassRepository;
import schoolgate.passes.PassWriter;
import schoolgate.passes.PendingPasses;

import java.time.Clock;

/**
 * {@code readers.mode = broker}: readers talk to an external broker (Mosquitto on the school
 * box, with its own per-reader ACLs); the gateway subscribes to {@code readers/+/tap} there
 * with a persistent session, so taps published while it restarts are kept by the broker,
 * and acknowledges each only after its pass is committed.
 */
public final class BrokerReaderClient extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(BrokerReaderClient.class);
  /**
   * The box's own broker is one hop away and serves no one else: after it restarts, the
   * turnstiles must get decisions again within seconds, not after the 30 s cap that spreads
   * hundreds of schools reconnecting to the centre.
   */
  static final long LOCAL_BROKER_MAX_DELAY_MS = 2_000;

  private final RateLimitedLog unsentDecisions = new RateLimitedLog(LOG, 10_000);

  private final GatewayConfig config;
  private final CardTable table;
  private final PassRepository passes;
  private final ReaderPresence presence;
  private final PendingPasses pending;
  private final Clock clock;
  private TapHandler taps;
  private ReconnectingClient mqtt;

  public BrokerReaderClient(GatewayConfig config, CardTable table, PassRepository passes,
                            ReaderPresence presence, PendingPasses pending,
      Clock clock) {
    this.config = config;
    this.table = table;
    this.passes = passes;
    this.presence = presence;
    this.pending = pending;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    GatewayConfig.Readers readers = config.readers();
    PassWriter writer = new PassWriter(vertx, passes, readers.passBuffer(), pending);
    taps = new TapHandler(vertx, readers, table, writer, presence, clock);
    MqttClientOptions options = new MqttClientOptions()
        .setClientId(readers.clientId() != null ? readers.clientId() : "gate-" + config.school() + "-readers")
        .setCleanSession(false)
        .setUsername(readers.username())
        .setPassword(readers.password())
        .setMaxMessageSize(EmbeddedReaderServer.MAX_FRAME_BYTES)
        .setKeepAliveInterval(30)
        .setAutoKeepAlive(true)
        .setMaxInflightQueue(1000)
        .setSsl(readers.tls());
    options.setAutoAck(false);
    mqtt = new ReconnectingClient(vertx, "reader broker", options, readers.host(), readers.port(),
        this::message, client -> client.subscribe(ReaderTopics.tap("+"), 1));
    mqtt.maxDelay(LOCAL_BROKER_MAX_DELAY_MS);
    mqtt.stateHandler(presence::listening);
    vertx.eventBus().<JsonObject>localConsumer(ReaderCommands.ADDRESS, msg -> {
      MqttClient client = mqtt.session();
      if (client == null) {
        msg.reply(new JsonObject().put("delivered", 0));
        return;
      }
      String reader = msg.body().getString("reader");
      client.publish(ReaderTopics.command(reader), msg.body().getJsonObject("command").toBuffer(),
              MqttQoS.AT_LEAST_ONCE, false, false)
          .onComplete(ar -> msg.reply(new JsonObject().put("delivered", ar.succeeded() ? 1 : 0)));
    });
    return taps.warmUp(passes).onSuccess(v -> mqtt.start());
  }

  @Override
  public Future<?> stop() {
    presence.listening(false);
    return mqtt == null ? Future.succeededFuture() : mqtt.stop();
  }

  private void message(MqttPublishMessage msg) {
    String readerId = ReaderTopics.readerOfTap(msg.topicName());
    if (readerId == null) {
      LOG.debug("ignoring message on {}", msg.topicName());
      ack(msg);
      return;
    }
    // session(), not client(): taps queued for us arrive right after CONNACK, before SUBACK.
    MqttClient client = mqtt.session();
    if (client == null) {
      return; // not acknowledged: the broker delivers it again on the next connection
    }
    TapHandler.Outcome outcome = taps.handle(readerId, msg.payload(), msg.isDup());
    ReconnectingClient.publish(client, ReaderTopics.decision(readerId), outcome.payload(),
        MqttQoS.AT_LEAST_ONCE, false)
        // The client refuses a publish beyond its in-flight window, e.g. while the broker
        // replays a backlog of taps after a restart: those decisions are stale anyway, but
        // say so. The pass and the tap's acknowledgement do not depend on it.
        .onFailure(e -> unsentDecisions.warn("decision", "decision for reader {} not sent: {}", readerId,
            e.getMessage()));
    outcome.durable().onSuccess(v -> {
      if (mqtt.session() == client) {
        ack(msg);
      }
    });
  }

  private static void ack(MqttPublishMessage msg) {
    if (msg.qosLevel() != MqttQoS.AT_MOST_ONCE) {
      try {
        msg.ack();
      } catch (IllegalStateException alreadyAcked) {
        // a redelivery raced with the first ack
      }
    }
  }
}
