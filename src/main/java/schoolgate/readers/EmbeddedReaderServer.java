package schoolgate.readers;

import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.MqttServer;
import io.vertx.mqtt.MqttServerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import schoolgate.cards.CardTable;
import schoolgate.config.GatewayConfig;
import schoolgate.net.ListenFailure;
import schoolgate.passes.PassRepository;
import schoolgate.passes.PassWriter;
import schoolgate.passes.PendingPasses;

import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * {@code readers.mode = embedded}: the gateway is the MQTT server the turnstile readers
 * connect to. Authenticates readers ({@code readers.auth}), confines each to its own topics,
 * answers taps at once and acknowledges them only after their pass is committed.
 *
 * <p>Sessions: a reader reconnecting with clean session off gets its subscriptions back
 * (for as long as the gateway runs); decisions and commands are not queued for an absent
 * reader, since they are only meaningful at once.
 */
public final class EmbeddedReaderServer extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedReaderServer.class);
  /** Frames larger than this close the connection; payloads over readers.maxPayloadBytes get bad_request. */
  static final int MAX_FRAME_BYTES = 64 * 1024;

  private final GatewayConfig config;
  private final CardTable table;
  private final PassRepository passes;
  private final ReaderPresence presence;
  private final PendingPasses pending;
  private final Clock clock;

  private MqttServer server;
  private TapHandler taps;
  /** (reader id, client id) -> its connection. */
  private final Map<String, ReaderConnection> byClientId = new HashMap<>();
  private final Map<String, Set<ReaderConnection>> byReader = new HashMap<>();
  private final Map<String, Set<String>> savedSessions = new HashMap<>();

  public EmbeddedReaderServer(GatewayConfig config, CardTable table, PassRepository passes,
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
    if (readers.auth().isEmpty()) {
      LOG.warn("readers.auth is empty: any client may connect as a reader without a password");
    }
    PassWriter writer = new PassWriter(vertx, passes, readers.passBuffer(), pending);
    taps = new TapHandler(vertx, readers, table, writer, presence, clock);
    vertx.eventBus().<JsonObject>localConsumer(ReaderCommands.ADDRESS, msg -> {
      String reader = msg.body().getString("reader");
      int delivered = publishTo(reader, ReaderTopics.command(reader), msg.body().getJsonObject("command"));
      msg.reply(new JsonObject().put("delivered", delivered));
    });
    server = MqttServer.create(vertx, new MqttServerOptions()
        .setHost(readers.host())
        .setPort(readers.port())
        .setMaxMessageSize(MAX_FRAME_BYTES)
        .setTimeoutOnConnect(10)
        .setMaxClientIdLength(64));
    server.endpointHandler(this::connect);
    server.exceptionHandler(e -> LOG.debug("reader connection error: {}", e.toString()));
    return taps.warmUp(passes)
        .compose(v -> server.listen())
        .recover(e -> ListenFailure.explain(e, "reader listener", readers.host(), readers.port(),
            "readers.host, readers.port",
            "often a Mosquitto already running: stop it, or let the gateway use it with readers.mode=broker"))
        .onSuccess(s -> {
          presence.listening(true);
          LOG.info("reader listener on {}:{} ({} readers mapped)", readers.host(), s.actualPort(),
              readers.map().size());
        });
  }

  @Override
  public Future<?> stop() {
    presence.listening(false);
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** The port actually listened on (useful when configured as 0). */
  public int port() {
    return server.actualPort();
  }

  private void connect(MqttEndpoint endpoint) {
    String clientId = endpoint.clientIdentifier();
    String username = endpoint.auth() == null ? null : endpoint.auth().getUsername();
    String password = endpoint.auth() == null ? null : endpoint.auth().getPassword();
    String readerId = username != null && !username.isEmpty() ? username : clientId;
    String from = "client " + endpoint.remoteAddress();
    Map<String, String> auth = config.readers().auth();
    if (!auth.isEmpty()) {
      String expected = readerId == null ? null : auth.get(readerId);
      if (expected == null || password == null || !constantTimeEquals(expected, password)) {
        taps.warnBadInput(from, "refused reader '" + readerId + "': unknown reader or wrong password");
        endpoint.reject(endpoint.protocolVersion() >= 5
            ? MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USERNAME_OR_PASSWORD
            : MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD);
        return;
      }
    }
    if (readerId == null || readerId.isEmpty() || readerId.length() > 64) {
      endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED);
      return;
    }
    // Connections and sessions belong to a reader: another reader using this client id must
    // not take them over (MQTT client ids are unique per reader, not across readers).
    String key = sessionKey(readerId, clientId);
    if (byClientId.size() >= config.readers().maxConnections() && !byClientId.containsKey(key)) {
      taps.warnBadInput(from, "refused: connection limit " + config.readers().maxConnections() + " reached");
      endpoint.reject(endpoint.protocolVersion() >= 5
          ? MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE_5
          : MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE);
      return;
    }
    ReaderConnection previous = byClientId.get(key);
    if (previous != null) {
      // MQTT: a second connection with the same client id takes over from the first, and with
      // clean session off it resumes the first one's session. The first one's close is only
      // seen later (a reader back before its old connection timed out), so save it now.
      byClientId.remove(key);
      if (!previous.endpoint().isCleanSession()) {
        savedSessions.put(key, previous.subscriptions());
      }
      previous.close();
    }
    Set<String> restored = endpoint.isCleanSession() ? null : savedSessions.get(key);
    if (endpoint.isCleanSession()) {
      savedSessions.remove(key);
    }
    ReaderConnection conn = new ReaderConnection(this, endpoint, readerId, restored);
    byClientId.put(key, conn);
    byReader.computeIfAbsent(readerId, k -> new HashSet<>()).add(conn);
    endpoint.accept(restored != null);
    if (presence.connected(readerId)) {
      LOG.info("reader {} online (client {}, {})", readerId, clientId, endpoint.remoteAddress());
      vertx.eventBus().publish(ReaderPresence.CHANGED, new JsonObject().put("reader", readerId).put("online", true));
    }
  }

  void closed(ReaderConnection conn) {
    String key = sessionKey(conn.readerId(), conn.endpoint().clientIdentifier());
    if (byClientId.get(key) == conn) {
      byClientId.remove(key);
      if (!conn.endpoint().isCleanSession()) {
        savedSessions.put(key, conn.subscriptions());
      }
    }
    Set<ReaderConnection> set = byReader.get(conn.readerId());
    if (set != null && set.remove(conn)) {
      if (set.isEmpty()) {
        byReader.remove(conn.readerId());
      }
      if (presence.disconnected(conn.readerId())) {
        LOG.info("reader {} offline", conn.readerId());
        vertx.eventBus().publish(ReaderPresence.CHANGED,
            new JsonObject().put("reader", conn.readerId()).put("online", false));
      }
    }
  }

  TapHandler taps() {
    return taps;
  }

  /** Publishes to every connection of {@code readerId} subscribed to {@code topic}; returns how many. */
  int publishTo(String readerId, String topic, JsonObject body) {
    return publishTo(readerId, topic, body.toBuffer());
  }

  int publishTo(String readerId, String topic, Buffer payload) {
    Set<ReaderConnection> conns = byReader.get(readerId);
    if (conns == null) {
      return 0;
    }
    int n = 0;
    for (ReaderConnection c : conns) {
      MqttQoS qos = c.grantedFor(topic);
      if (qos != null && c.endpoint().isConnected()) {
        c.endpoint().publish(topic, payload, qos, false, false)
            .onFailure(e -> LOG.debug("publish to {} failed: {}", readerId, e.toString()));
        n++;
      }
    }
    return n;
  }

  private static String sessionKey(String readerId, String clientId) {
    return readerId + '\u0000' + clientId;
  }

  private static boolean constantTimeEquals(String a, String b) {
    return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }
}
