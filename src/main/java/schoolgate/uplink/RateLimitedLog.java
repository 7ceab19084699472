package schoolgate.uplink;

import org.slf4j.Logger;

/**
 * Logs a recurring problem at most once per interval, with the count of what was suppressed,
 * so that a centre sending the same bad event thousands of times cannot fill the disk. The
 * messages name sequence numbers and field problems, never a person. Use from one context.
 */
final class RateLimitedLog {

  private final Logger log;
  private final long intervalMs;
  private long windowStart = Long.MIN_VALUE;
  private int suppressed;

  RateLimitedLog(Logger log, long intervalMs) {
    this.log = log;
    this.intervalMs = intervalMs;
  }

  void warn(String format, Object... args) {
    long now = System.currentTimeMillis();
    if (windowStart != Long.MIN_VALUE && now - windowStart < intervalMs) {
      suppressed++;
      return;
    }
    if (suppressed > 0) {
      log.warn("({} similar warnings suppressed in the last {} s)", suppressed, (now - windowStart) / 1000);
    }
    windowStart = now;
    suppressed = 0;
    log.warn(format, args);
  }
}
