package schoolgate.readers;

import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.MqttTopicSubscription;
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.mqtt.messages.MqttSubscribeMessage;
import io.vertx.mqtt.messages.codes.MqttPubAckReasonCode;
import io.vertx.mqtt.messages.codes.MqttSubAckReasonCode;
import io.netty.handler.codec.mqtt.MqttProperties;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** One connected reader: its handlers, its subscriptions, and the topics it may use. */
final class ReaderConnection {

  private final EmbeddedReaderServer server;
  private final MqttEndpoint endpoint;
  private final String readerId;
  private final Map<String, MqttQoS> subscriptions = new HashMap<>();

  ReaderConnection(EmbeddedReaderServer server, MqttEndpoint endpoint, String readerId, Set<String> restored) {
    this.server = server;
    this.endpoint = endpoint;
    this.readerId = readerId;
    if (restored != null) {
      restored.forEach(f -> subscriptions.put(f, MqttQoS.AT_LEAST_ONCE));
    }
    endpoint.publishAutoAck(false);
    endpoint.publishHandler(this::publish);
    endpoint.publishReleaseHandler(endpoint::publishComplete);
    endpoint.subscribeHandler(this::subscribe);
    endpoint.unsubscribeHandler(msg -> {
      msg.topics().forEach(subscriptions::remove);
      endpoint.unsubscribeAcknowledge(msg.messageId());
    });
    endpoint.pingHandler(v -> { });
    endpoint.exceptionHandler(e -> server.taps().warnBadInput("reader " + readerId, "connection error: " + e));
    endpoint.closeHandler(v -> server.closed(this));
  }

  MqttEndpoint endpoint() {
    return endpoint;
  }

  String readerId() {
    return readerId;
  }

  Set<String> subscriptions() {
    return new HashSet<>(subscriptions.keySet());
  }

  /** The QoS this connection gets {@code topic} with, or null if it is not subscribed. */
  MqttQoS grantedFor(String topic) {
    MqttQoS best = null;
    for (Map.Entry<String, MqttQoS> e : subscriptions.entrySet()) {
      if (ReaderTopics.matches(e.getKey(), topic) && (best == null || e.getValue().value() > best.value())) {
        best = e.getValue();
      }
    }
    return best;
  }

  void close() {
    if (endpoint.isConnected()) {
      endpoint.close();
    }
  }

  private void publish(MqttPublishMessage msg) {
    String topicReader = ReaderTopics.readerOfTap(msg.topicName());
    TapHandler.Outcome outcome;
    boolean allowed = readerId.equals(topicReader);
    if (allowed) {
      outcome = server.taps().handle(readerId, msg.payload(), msg.isDup());
    } else {
      server.taps().warnBadInput("reader " + readerId, "publish to forbidden topic " + msg.topicName());
      outcome = new TapHandler.Outcome(new io.vertx.core.json.JsonObject().put("open", false)
          .put("reason", schoolgate.cards.Reason.BAD_REQUEST.wire())
          .put("error", "a reader may publish only to " + ReaderTopics.tap(readerId)),
          io.vertx.core.Future.succeededFuture());
    }
    server.publishTo(readerId, ReaderTopics.decision(readerId), outcome.payload());
    if (msg.qosLevel() == MqttQoS.AT_MOST_ONCE) {
      return;
    }
    outcome.durable().onComplete(ar -> {
      // Acknowledge only what is committed, and only to the connection that sent it.
      if (ar.failed() || !endpoint.isConnected()) {
        return;
      }
      if (msg.qosLevel() == MqttQoS.AT_LEAST_ONCE) {
        if (!allowed && endpoint.protocolVersion() >= 5) {
          endpoint.publishAcknowledge(msg.messageId(), MqttPubAckReasonCode.NOT_AUTHORIZED, MqttProperties.NO_PROPERTIES);
        } else {
          endpoint.publishAcknowledge(msg.messageId());
        }
      } else {
        endpoint.publishReceived(msg.messageId());
      }
    });
  }

  private void subscribe(MqttSubscribeMessage msg) {
    List<MqttQoS> granted = new ArrayList<>();
    List<MqttSubAckReasonCode> codes = new ArrayList<>();
    for (MqttTopicSubscription s : msg.topicSubscriptions()) {
      if (ReaderTopics.maySubscribe(readerId, s.topicName())) {
        MqttQoS qos = s.qualityOfService().value() >= 1 ? MqttQoS.AT_LEAST_ONCE : MqttQoS.AT_MOST_ONCE;
        subscriptions.put(s.topicName(), qos);
        granted.add(qos);
        codes.add(MqttSubAckReasonCode.qosGranted(qos));
      } else {
        server.taps().warnBadInput("reader " + readerId, "subscription to forbidden topic " + s.topicName());
        granted.add(MqttQoS.FAILURE);
        codes.add(MqttSubAckReasonCode.NOT_AUTHORIZED);
      }
    }
    if (endpoint.protocolVersion() >= 5) {
      endpoint.subscribeAcknowledge(msg.messageId(), codes, MqttProperties.NO_PROPERTIES);
    } else {
      endpoint.subscribeAcknowledge(msg.messageId(), granted);
    }
  }
}
