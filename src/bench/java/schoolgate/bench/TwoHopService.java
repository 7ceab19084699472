package schoolgate.bench;

import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import schoolgate.cards.CardTable;
import schoolgate.cards.Verdict;

import java.util.concurrent.TimeUnit;

/**
 * The baseline design: a decision service that is a client of the broker, like the readers.
 * It subscribes to every tap, decides from the same kind of in-memory table, and publishes
 * the decision back through the broker. It writes nothing to disk (in its favour).
 */
final class TwoHopService {

  private final Vertx vertx;
  private final int port;
  private final CardTable table;
  private MqttClient client;

  TwoHopService(Vertx vertx, int port, CardTable table) {
    this.vertx = vertx;
    this.port = port;
    this.table = table;
  }

  void start() throws Exception {
    MqttClientOptions options = new MqttClientOptions().setClientId("decision-service")
        .setMaxInflightQueue(65_535).setAutoKeepAlive(true);
    options.setTcpNoDelay(true);
    client = MqttClient.create(vertx, options);
    client.publishHandler(msg -> {
      String topic = msg.topicName();
      String reader = topic.substring("readers/".length(), topic.length() - "/tap".length());
      JsonObject tap = msg.payload().toJsonObject();
      Verdict v = table.decide(tap.getString("card"));
      JsonObject decision = new JsonObject().put("seq", tap.getLong("seq")).put("card", tap.getString("card"))
          .put("open", v.open()).put("reason", v.reason().wire());
      if (v.open()) {
        decision.put("name", v.holder().name()).put("class", v.holder().className());
      }
      client.publish("readers/" + reader + "/decision", decision.toBuffer(), MqttQoS.AT_LEAST_ONCE, false, false);
    });
    client.connect(port, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    client.subscribe("readers/+/tap", 1).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  void stop() throws Exception {
    client.disconnect().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
