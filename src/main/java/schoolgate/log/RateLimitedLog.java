package schoolgate.log;

import org.slf4j.Logger;
import org.slf4j.helpers.MessageFormatter;

import java.util.HashMap;
import java.util.Map;

/**
 * Logs a recurring problem at most once per interval per key (a reader, a client address,
 * the centre), with the count of what was suppressed in between, so that a broken or
 * hostile peer cannot fill the disk. Messages name fields, rules and sequence numbers, never
 * a person. Use from one thread (a verticle's context).
 */
public final class RateLimitedLog {

  private record Window(long startedAt, int suppressed) {
  }

  private static final int MAX_KEYS = 10_000;

  private final Logger log;
  private final long intervalMs;
  private final Map<String, Window> windows = new HashMap<>();

  public RateLimitedLog(Logger log, long intervalMs) {
    this.log = log;
    this.intervalMs = intervalMs;
  }

  /** A warning about {@code key}: {@code "key: message"}, SLF4J {@code {}} placeholders allowed. */
  public void warn(String key, String format, Object... args) {
    long now = System.currentTimeMillis();
    Window w = windows.get(key);
    if (w != null && now - w.startedAt < intervalMs) {
      windows.put(key, new Window(w.startedAt, w.suppressed + 1));
      return;
    }
    if (windows.size() >= MAX_KEYS) {
      windows.clear();
    }
    windows.put(key, new Window(now, 0));
    String message = MessageFormatter.arrayFormat(format, args).getMessage();
    if (w != null && w.suppressed > 0) {
      log.warn("{}: {} (and {} more like it in the last {} s)", key, message, w.suppressed,
          (now - w.startedAt) / 1000);
    } else {
      log.warn("{}: {}", key, message);
    }
  }
}
