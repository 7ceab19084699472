package schoolgate.uplink;

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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A turnstile reader as a real MQTT client (Paho): taps QoS 1, reads its decisions. */
final class PahoReader implements AutoCloseable {

  final String id;
  private final MqttClient client;
  private final BlockingQueue<JsonObject> decisions = new LinkedBlockingQueue<>();
  private final Set<Long> decided = ConcurrentHashMap.newKeySet();
  private long seq;

  PahoReader(int port, String id) throws MqttException {
    this.id = id;
    client = new MqttClient("tcp://127.0.0.1:" + port, id, new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setCleanSession(true);
    o.setMaxInflight(1000);
    client.setCallback(new MqttCallback() {
      @Override
      public void connectionLost(Throwable cause) {
      }

      @Override
      public void messageArrived(String topic, MqttMessage message) {
        JsonObject d = new JsonObject(new String(message.getPayload(), StandardCharsets.UTF_8));
        decided.add(d.getLong("seq", -1L));
        decisions.add(d);
      }

      @Override
      public void deliveryComplete(IMqttDeliveryToken token) {
      }
    });
    client.connect(o);
    client.subscribe("readers/" + id + "/decision", 1);
  }

  /** Publishes a tap and returns without waiting for anything. Returns the tap's seq. */
  long tapAsync(String card) throws MqttException {
    long s = ++seq;
    MqttMessage m = new MqttMessage(new JsonObject().put("card", card).put("seq", s).encode()
        .getBytes(StandardCharsets.UTF_8));
    m.setQos(1);
    client.getTopic("readers/" + id + "/tap").publish(m);
    return s;
  }

  /**
   * Taps and waits for the decision of this tap, and for the PUBACK (= the pass is committed),
   * as a real reader does before it forgets a tap.
   */
  JsonObject tap(String card) throws Exception {
    long s = ++seq;
    MqttMessage m = new MqttMessage(new JsonObject().put("card", card).put("seq", s).encode()
        .getBytes(StandardCharsets.UTF_8));
    m.setQos(1);
    client.getTopic("readers/" + id + "/tap").publish(m).waitForCompletion(30_000);
    return decision(s);
  }

  /**
   * Taps every card in turn (QoS 1, up to 200 un-acknowledged at once) and returns when each
   * tap is acknowledged, i.e. its pass is committed at the gateway.
   */
  void tapAll(List<String> cards) throws MqttException {
    ArrayDeque<IMqttDeliveryToken> pending = new ArrayDeque<>();
    for (String card : cards) {
      if (pending.size() >= 200) {
        pending.poll().waitForCompletion(60_000);
      }
      long s = ++seq;
      MqttMessage m = new MqttMessage(new JsonObject().put("card", card).put("seq", s).encode()
          .getBytes(StandardCharsets.UTF_8));
      m.setQos(1);
      pending.add(client.getTopic("readers/" + id + "/tap").publish(m));
    }
    while (!pending.isEmpty()) {
      pending.poll().waitForCompletion(60_000);
    }
  }

  /** How many of this client's taps have had a decision so far. */
  int decidedCount() {
    return decided.size();
  }

  JsonObject decision(long s) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      JsonObject d = decisions.poll(100, TimeUnit.MILLISECONDS);
      if (d != null && d.getLong("seq", -1L) == s) {
        return d;
      }
    }
    throw new AssertionError("no decision for tap " + s + " at " + id);
  }

  @Override
  public void close() throws MqttException {
    if (client.isConnected()) {
      client.disconnect();
    }
    client.close();
  }
}
