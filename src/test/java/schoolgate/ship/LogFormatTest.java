package schoolgate.ship;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped logback.xml: readable text by default, one JSON object per line when
 * SCHOOL_GATE_LOG=json (what the systemd unit sets). Configures a private logger context
 * from the real file, with the variable given as a context property (logback looks there
 * before system properties and the environment).
 */
class LogFormatTest {

  @Test
  void jsonFormatGivesOneParsableObjectPerLineWithTheFormattedMessage() {
    List<String> lines = logWith("json", "pass from reader {} refused: {}", "r1", "line\nbreak \"quoted\"");
    assertEquals(1, lines.size(), "a multi-line message must stay one line: " + lines);
    JsonObject json = new JsonObject(lines.get(0));
    assertEquals("INFO", json.getString("level"));
    assertEquals("schoolgate.Probe", json.getString("loggerName"));
    assertEquals("pass from reader r1 refused: line\nbreak \"quoted\"", json.getString("formattedMessage"));
    assertTrue(json.getLong("timestamp") > 0);
  }

  @Test
  void textFormatIsTheDefault() {
    List<String> lines = logWith(null, "reader listener on {}", "127.0.0.1:1883");
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  Probe - reader listener on 127.0.0.1:1883"),
        lines.get(0));
  }

  private static List<String> logWith(String format, String message, Object... args) {
    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      if (format != null) {
        context.putProperty("SCHOOL_GATE_LOG", format);
      }
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      configurator.doConfigure(LogFormatTest.class.getResource("/logback.xml"));
      context.getLogger("schoolgate.Probe").info(message, args);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      context.stop();
      System.setOut(original);
    }
    return captured.toString(StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
  }
}
