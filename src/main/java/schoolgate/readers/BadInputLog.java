package schoolgate.readers;

import org.slf4j.Logger;

import java.util.HashMap;
import java.util.Map;

/**
 * Logs bad input at most once per {@code intervalMs} per key (a reader, a client address),
 * with the count of what was suppressed in between: a broken or hostile reader cannot fill
 * the disk. Use from one thread (a verticle's context).
 */
final class BadInputLog {

  private record Window(long startedAt, int suppressed) {
  }

  private final Logger log;
  private final long intervalMs;
  private final Map<String, Window> windows = new HashMap<>();

  BadInputLog(Logger log, long intervalMs) {
    this.log = log;
    this.intervalMs = intervalMs;
  }

  void warn(String key, String message) {
    long now = System.currentTimeMillis();
    Window w = windows.get(key);
    if (w != null && now - w.startedAt < intervalMs) {
      windows.put(key, new Window(w.startedAt, w.suppressed + 1));
      return;
    }
    if (windows.size() > 10_000) {
      windows.clear();
    }
    windows.put(key, new Window(now, 0));
    if (w != null && w.suppressed > 0) {
      log.warn("{}: {} (and {} more bad inputs in the last {} s)", key, message, w.suppressed,
          (now - w.startedAt) / 1000);
    } else {
      log.warn("{}: {}", key, message);
    }
  }
}
