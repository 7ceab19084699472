package schoolgate;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import schoolgate.cards.CardEvent;
import schoolgate.demo.Roster;
import schoolgate.support.GatewayFixture;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static schoolgate.support.GatewayFixture.await;

/**
 * Children's names and photos never reach the logs. A whole scenario runs while every log
 * event (our code at DEBUG, libraries at the shipped levels) and everything written to
 * stdout and stderr is captured: an import of students with Cyrillic names and photos
 * (and a rejected import), taps of working, superseded, unknown, blocked and inactive
 * cards by a real MQTT client (Paho), repeats, bad input of every kind, card events as the
 * uplink applies them (a new card, a new photo, a removal), and a restart. Then the capture
 * is searched for every name, every part of a name, and fragments of every photo.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class LogsCarryNoChildrensDataIT {

  private static final Pattern CYRILLIC = Pattern.compile("\\p{IsCyrillic}");

  @TempDir
  Path dir;

  private final StringBuffer captured = new StringBuffer();
  private CapturingAppender appender;
  private PrintStream originalOut;
  private PrintStream originalErr;
  private Level originalLevel;
  private Vertx vertx;

  /** Formats each event with its stack trace, as any encoder would include them. */
  private final class CapturingAppender extends AppenderBase<ILoggingEvent> {
    @Override
    protected void append(ILoggingEvent event) {
      captured.append(event.getLevel()).append(' ').append(event.getLoggerName()).append(" - ")
          .append(event.getFormattedMessage()).append('\n');
      if (event.getThrowableProxy() != null) {
        captured.append(ThrowableProxyUtil.asString(event.getThrowableProxy())).append('\n');
      }
      if (event.getMDCPropertyMap() != null && !event.getMDCPropertyMap().isEmpty()) {
        captured.append(event.getMDCPropertyMap()).append('\n');
      }
    }
  }

  @BeforeEach
  void capture() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    appender = new CapturingAppender();
    appender.setContext(context);
    appender.start();
    context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(appender);
    Logger ours = context.getLogger("schoolgate");
    originalLevel = ours.getLevel();
    ours.setLevel(Level.DEBUG);
    originalOut = System.out;
    originalErr = System.err;
    System.setOut(new PrintStream(tee(originalOut), true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(tee(originalErr), true, StandardCharsets.UTF_8));
    vertx = Vertx.vertx();
  }

  @AfterEach
  void release() {
    await(vertx.close());
    System.setOut(originalOut);
    System.setErr(originalErr);
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(appender);
    context.getLogger("schoolgate").setLevel(originalLevel);
  }

  @Test
  void noNameAndNoPhotoOfAnyStudentAppearsInAnyLogOutput() throws Exception {
    Roster roster = Roster.generate(2026, 200, true);
    JsonObject config = GatewayFixture.config(dir);
    Path configFile = dir.resolve("gateway.json");
    Files.writeString(configFile, config.encodePrettily());

    // A rejected import first: a bad line carrying a name must not be echoed.
    Path bad = dir.resolve("bad.jsonl");
    Files.write(bad, List.of(roster.events().get(0),
        "{\"seq\":2,\"type\":\"holder\",\"holder\":{\"id\":\"h-x\",\"name\":\"" + roster.students().get(1).name()
            + "\",\"class\":12345,\"active\":true}}"));
    assertEquals(1, Main.run(new String[] {"import", bad.toString(), "--config", configFile.toString()}));

    Path file = dir.resolve("roster.jsonl");
    Files.write(file, roster.events());
    assertEquals(0, Main.run(new String[] {"import", file.toString(), "--config", configFile.toString()}));

    Gateway gateway = GatewayFixture.start(vertx, config);
    Roster.Student blocked = roster.students().stream()
        .filter(s -> s.cards().stream().anyMatch(c -> !c.active())).findFirst().orElseThrow();
    Roster.Student inactive = roster.students().stream().filter(s -> !s.active()).findFirst().orElse(null);
    String working = roster.workingCards().get(0);
    String superseded = roster.supersededCards().get(0);
    List<JsonObject> decisions = new ArrayList<>();
    try (Reader reader = new Reader(gateway.readerPort(), "r1")) {
      decisions.add(reader.tap("{\"card\":\"" + working + "\",\"seq\":1}"));
      decisions.add(reader.tap("{\"card\":\"" + working + "\",\"seq\":2}")); // repeat
      decisions.add(reader.tap("{\"card\":\"" + superseded + "\",\"seq\":3}"));
      decisions.add(reader.tap("{\"card\":\"0899AABBCCDDEE\",\"seq\":4}"));
      decisions.add(reader.tap("{\"card\":\"" + blocked.cards().get(0).uid() + "\",\"seq\":5}"));
      if (inactive != null) {
        decisions.add(reader.tap("{\"card\":\"" + inactive.cards().get(inactive.cards().size() - 1).uid() + "\",\"seq\":6}"));
      }
      // Bad input: not JSON (with a name in it), a card that is not hex, oversize, wrong types.
      decisions.add(reader.tap("not json " + roster.students().get(2).name()));
      decisions.add(reader.tap("{\"card\":\"" + roster.students().get(3).name() + "\",\"seq\":7}"));
      decisions.add(reader.tap("{\"card\":\"" + working + "\",\"seq\":8,\"x\":\"" + "я".repeat(1200) + "\"}"));
      decisions.add(reader.tap("{\"card\":12345,\"seq\":\"nine\"}"));
      reader.publish("readers/r2/tap", "{\"card\":\"" + working + "\"}"); // another reader's topic
    }
    try (Reader stranger = new Reader(gateway.readerPort(), "r9")) { // not in readers.map
      decisions.add(stranger.tap("{\"card\":\"" + working + "\",\"seq\":1}"));
    }
    JsonObject admitted = decisions.get(0);
    Roster.Student owner = roster.students().stream()
        .filter(s -> s.workingCard() != null && s.workingCard().uid().equals(working)).findFirst().orElseThrow();
    assertEquals(owner.name(), admitted.getString("name"), "the names really went through the gateway");
    assertEquals("superseded", decisions.get(2).getString("reason"));
    assertEquals("unknown_card", decisions.get(3).getString("reason"));
    assertEquals("blocked", decisions.get(4).getString("reason"));

    // Card events as the uplink applies them: a new card, a new photo, a removal, a bad one.
    Roster.Student changed = roster.students().get(5);
    long seq = gateway.table().appliedSeq();
    String newPhoto = Base64.getEncoder().encodeToString(roster.students().get(6).photo());
    await(gateway.applier().apply(List.of(
        CardEvent.parse("{\"seq\":" + (seq + 1) + ",\"type\":\"holder\",\"holder\":{\"id\":\"" + changed.id()
            + "\",\"name\":\"" + changed.name() + "\",\"class\":\"" + changed.className()
            + "\",\"active\":true,\"photo\":\"" + newPhoto + "\"}}"),
        CardEvent.parse("{\"seq\":" + (seq + 2) + ",\"type\":\"card\",\"card\":{\"uid\":\"04000000000001\",\"holder\":\""
            + changed.id() + "\",\"issue\":9,\"kind\":\"temporary\",\"state\":\"active\"}}"),
        CardEvent.parse("{\"seq\":" + (seq + 3) + ",\"type\":\"holder\",\"holder\":{\"id\":\""
            + roster.students().get(7).id() + "\",\"removed\":true}}"))));
    await(gateway.applier().apply(List.of(CardEvent.parse("{\"seq\":" + (seq + 9)
        + ",\"type\":\"card\",\"card\":{\"uid\":\"04000000000002\",\"holder\":\"" + changed.id()
        + "\",\"issue\":10,\"kind\":\"temporary\",\"state\":\"active\"}}"))).otherwiseEmpty());

    await(gateway.stop());
    Gateway restarted = GatewayFixture.start(vertx, config);
    try (Reader reader = new Reader(restarted.readerPort(), "r1")) {
      assertEquals("ok", reader.tap("{\"card\":\"04000000000001\",\"seq\":100}").getString("reason"));
      assertEquals("superseded", reader.tap("{\"card\":\"" + changed.cards().get(0).uid() + "\",\"seq\":101}")
          .getString("reason"));
    } finally {
      await(restarted.stop());
    }

    String logs = captured.toString();
    // The capture works: it holds what the gateway said at start and about the bad input.
    assertTrue(logs.contains("gateway for school test-school started"), logs);
    assertTrue(logs.contains("bad tap"), logs);
    assertTrue(logs.contains("import: applied"), logs);
    for (Roster.Student s : roster.students()) {
      assertAbsent(logs, s.name(), "name of " + s.id());
      for (String part : s.name().split(" ")) {
        assertAbsent(logs, part, "part of the name of " + s.id());
      }
      String photo = Base64.getEncoder().encodeToString(s.photo());
      for (int at = 0; at + 24 <= photo.length(); at += 200) {
        assertAbsent(logs, photo.substring(at, at + 24), "photo of " + s.id());
      }
    }
    java.util.regex.Matcher m = CYRILLIC.matcher(logs);
    if (m.find()) {
      int from = Math.max(0, logs.lastIndexOf('\n', m.start()));
      fail("Cyrillic text in the logs: " + logs.substring(from, Math.min(logs.length(), m.start() + 80)));
    }
  }

  private static void assertAbsent(String logs, String needle, String what) {
    int at = logs.indexOf(needle);
    if (at >= 0) {
      fail(what + " appears in the logs: ..." + logs.substring(Math.max(0, at - 120), Math.min(logs.length(), at + 40)));
    }
  }

  private OutputStream tee(PrintStream original) {
    ByteArrayOutputStream mine = new ByteArrayOutputStream() {
      @Override
      public synchronized void write(byte[] b, int off, int len) {
        original.write(b, off, len);
        captured.append(new String(b, off, len, StandardCharsets.UTF_8));
      }

      @Override
      public synchronized void write(int b) {
        original.write(b);
        captured.append((char) b);
      }
    };
    return mine;
  }

  /** A reader as a real MQTT client (Paho) sees the gateway. */
  private static final class Reader implements AutoCloseable {
    private final MqttClient client;
    private final BlockingQueue<JsonObject> decisions = new LinkedBlockingQueue<>();
    private final String id;

    Reader(int port, String id) throws Exception {
      this.id = id;
      client = new MqttClient("tcp://127.0.0.1:" + port, id, new MemoryPersistence());
      MqttConnectOptions options = new MqttConnectOptions();
      options.setCleanSession(true);
      options.setAutomaticReconnect(false);
      client.connect(options);
      client.subscribe("readers/" + id + "/decision", 1,
          (topic, message) -> decisions.add(new JsonObject(new String(message.getPayload(), StandardCharsets.UTF_8))));
    }

    JsonObject tap(String payload) throws Exception {
      publish("readers/" + id + "/tap", payload);
      JsonObject decision = decisions.poll(30, TimeUnit.SECONDS);
      assertNotNull(decision, "no decision for " + payload);
      return decision;
    }

    void publish(String topic, String payload) throws Exception {
      MqttMessage message = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
      message.setQos(1);
      client.publish(topic, message);
    }

    @Override
    public void close() throws Exception {
      client.disconnect();
      client.close();
    }
  }
}
