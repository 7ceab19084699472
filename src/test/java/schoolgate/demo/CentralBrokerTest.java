package schoolgate.demo;

import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The in-process stand-in for the central broker must be as durable as the real one. */
class CentralBrokerTest {

  @Test
  @Timeout(60)
  void queuedQos1MessagesOfAPersistentSessionSurviveABrokerRestart(@TempDir Path dir) throws Exception {
    CentralBroker broker = CentralBroker.start("127.0.0.1", 0, dir.resolve("broker"));
    try {
      String url = "tcp://127.0.0.1:" + broker.port();
      List<String> got = new CopyOnWriteArrayList<>();
      MqttConnectOptions persistent = new MqttConnectOptions();
      persistent.setCleanSession(false);
      MqttClient sub = new MqttClient(url, "sub", new MemoryPersistence());
      sub.connect(persistent);
      sub.subscribe("t/#", 1);
      sub.disconnect();

      MqttClient pub = new MqttClient(url, "pub", new MemoryPersistence());
      pub.connect();
      for (int i = 0; i < 100; i++) {
        pub.publish("t/x", ("m" + i).getBytes(StandardCharsets.UTF_8), 1, false);
      }
      pub.disconnect();
      pub.close();

      broker.stop();
      broker.start();

      sub.setCallback(new org.eclipse.paho.client.mqttv3.MqttCallback() {
        public void connectionLost(Throwable cause) { }
        public void messageArrived(String topic, org.eclipse.paho.client.mqttv3.MqttMessage m) {
          got.add(new String(m.getPayload(), StandardCharsets.UTF_8));
        }
        public void deliveryComplete(org.eclipse.paho.client.mqttv3.IMqttDeliveryToken t) { }
      });
      sub.connect(persistent);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (got.size() < 100 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      sub.disconnect();
      sub.close();
      assertEquals(100, got.size(), "all queued messages delivered after the restart: " + got.size());
      for (int i = 0; i < 100; i++) {
        assertTrue(got.get(i).equals("m" + i), "in order");
      }
    } finally {
      broker.stop();
    }
  }
}
