package schoolgate.support;

import io.vertx.core.json.JsonObject;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A turnstile reader played by Eclipse Paho (a real MQTT client not written here): connects,
 * subscribes to its decision topic, taps cards with QoS 1 and collects the decisions.
 */
public final class PahoReader implements AutoCloseable {

  /** Generous: the machine is shared; a test waits this long for anything that must arrive. */
  public static final int WAIT_SECONDS = 30;

  private final MqttClient client;
  private final String readerId;
  private final BlockingQueue<JsonObject> decisions = new LinkedBlockingQueue<>();
  private final Set<Long> decided = ConcurrentHashMap.newKeySet();
  private final AtomicLong nextSeq = new AtomicLong();

  private PahoReader(MqttClient client, String readerId) {
    this.client = client;
    this.readerId = readerId;
  }

  public static MqttConnectOptions options(String username, String password) {
    MqttConnectOptions o = new MqttConnectOptions();
    o.setCleanSession(true);
    o.setAutomaticReconnect(false);
    o.setConnectionTimeout(WAIT_SECONDS);
    o.setKeepAliveInterval(60);
    o.setMaxInflight(1000);
    o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    if (username != null) {
      o.setUserName(username);
    }
    if (password != null) {
      o.setPassword(password.toCharArray());
    }
    return o;
  }

  public static MqttClient client(String uri, String clientId) throws MqttException {
    MqttClient c = new MqttClient(uri, clientId, new MemoryPersistence());
    c.setTimeToWait(WAIT_SECONDS * 1000L);
    return c;
  }

  /** Connects as {@code readerId} (client id; username too when a password is given). */
  public static PahoReader connect(int port, String readerId, String password) throws MqttException {
    return connect("tcp://127.0.0.1:" + port, readerId, password);
  }

  public static PahoReader connect(String uri, String readerId, String password) throws MqttException {
    MqttClient c = client(uri, readerId);
    PahoReader reader = new PahoReader(c, readerId);
    c.setCallback(new MqttCallback() {
      @Override
      public void connectionLost(Throwable cause) {
      }

      @Override
      public void messageArrived(String topic, MqttMessage message) {
        if (topic.equals("readers/" + readerId + "/decision")) {
          JsonObject d = new JsonObject(new String(message.getPayload(), StandardCharsets.UTF_8));
          Long seq = d.getLong("seq");
          if (seq != null) {
            reader.decided.add(seq);
          }
          reader.decisions.add(d);
        }
      }

      @Override
      public void deliveryComplete(IMqttDeliveryToken token) {
      }
    });
    c.connect(options(password == null ? null : readerId, password));
    c.subscribe("readers/" + readerId + "/decision", 1);
    return reader;
  }

  public MqttClient client() {
    return client;
  }

  public String id() {
    return readerId;
  }

  /** Taps {@code card} with QoS 1 and returns the decision that carries {@code seq}. */
  public JsonObject tap(String card, long seq) throws Exception {
    publishTap(new JsonObject().put("card", card).put("seq", seq).encode(), 1);
    return decision(seq);
  }

  /**
   * Taps {@code card} with the reader's next own seq, waits for the PUBACK (= the pass is
   * committed) as a real reader does before it forgets a tap, and returns its decision.
   */
  public JsonObject tap(String card) throws Exception {
    long seq = nextSeq.incrementAndGet();
    publishTap(new JsonObject().put("card", card).put("seq", seq).encode(), 1);
    return decisionFor(seq);
  }

  /**
   * Taps every card in turn with the reader's next seqs (QoS 1, up to 200 un-acknowledged at
   * once) and returns when each tap is acknowledged, i.e. its pass is committed.
   */
  public void tapAll(List<String> cards) throws MqttException {
    ArrayDeque<IMqttDeliveryToken> pending = new ArrayDeque<>();
    for (String card : cards) {
      if (pending.size() >= 200) {
        pending.poll().waitForCompletion(60_000);
      }
      MqttMessage m = new MqttMessage(new JsonObject().put("card", card).put("seq", nextSeq.incrementAndGet())
          .encode().getBytes(StandardCharsets.UTF_8));
      m.setQos(1);
      pending.add(client.getTopic("readers/" + readerId + "/tap").publish(m));
    }
    while (!pending.isEmpty()) {
      pending.poll().waitForCompletion(60_000);
    }
  }

  /** How many distinct seqs of this reader have had a decision so far. */
  public int decidedCount() {
    return decided.size();
  }

  /** Publishes {@code payload} to this reader's own tap topic; returns when PUBACKed (QoS 1). */
  public void publishTap(String payload, int qos) throws MqttException {
    publish("readers/" + readerId + "/tap", payload.getBytes(StandardCharsets.UTF_8), qos);
  }

  public void publish(String topic, byte[] payload, int qos) throws MqttException {
    MqttMessage m = new MqttMessage(payload);
    m.setQos(qos);
    client.publish(topic, m);
  }

  /** The next decision, whatever it is; fails if none arrives in time. */
  public JsonObject nextDecision() throws InterruptedException {
    JsonObject d = decisions.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    if (d == null) {
      throw new AssertionError("reader " + readerId + ": no decision within " + WAIT_SECONDS + " s");
    }
    return d;
  }

  /** The next decision, which must carry {@code seq}. */
  public JsonObject decision(long seq) throws InterruptedException {
    JsonObject d = nextDecision();
    if (d.getLong("seq") == null || d.getLong("seq") != seq) {
      throw new AssertionError("reader " + readerId + ": expected the decision for seq " + seq + ", got " + d);
    }
    return d;
  }

  /** The first decision that carries {@code seq}, dropping any others that come before it. */
  public JsonObject decisionFor(long seq) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (true) {
      JsonObject d = decisions.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (d == null) {
        throw new AssertionError("reader " + readerId + ": no decision for seq " + seq + " within " + WAIT_SECONDS + " s");
      }
      if (d.getLong("seq") != null && d.getLong("seq") == seq) {
        return d;
      }
    }
  }

  /** Decisions that arrived and were not taken yet. */
  public int pending() {
    return decisions.size();
  }

  @Override
  public void close() {
    try {
      if (client.isConnected()) {
        client.disconnect(5000);
      }
    } catch (MqttException ignored) {
      // closing anyway
    }
    try {
      client.close(true);
    } catch (MqttException ignored) {
      // closing anyway
    }
  }
}
