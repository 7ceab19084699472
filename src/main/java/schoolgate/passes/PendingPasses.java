package schoolgate.passes;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every {@link PassWriter} of the gateway holds that is not yet committed, and whether
 * one of them had to refuse a pass because its buffer was full: the loud signal (health 503,
 * a metric, an error in the log) that the database has been away for too long. Thread-safe.
 */
public final class PendingPasses {

  /** After the last refusal, health stays down this long (and longer while refusals go on). */
  static final Duration FULL_SIGNAL = Duration.ofSeconds(60);

  private final AtomicLong waiting = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private volatile long lastRefusalMs = Long.MIN_VALUE;

  void added(int n) {
    waiting.addAndGet(n);
  }

  void committed(int n) {
    waiting.addAndGet(-n);
  }

  void refusedOne() {
    refused.incrementAndGet();
    lastRefusalMs = System.currentTimeMillis();
  }

  /** Passes decided but not yet committed, over all writers. */
  public long waiting() {
    return waiting.get();
  }

  /** Passes refused since start because a buffer was full. */
  public long refused() {
    return refused.get();
  }

  /** True while a buffer is full or was in the last minute. */
  public boolean overflowing() {
    long last = lastRefusalMs;
    return last != Long.MIN_VALUE && System.currentTimeMillis() - last < FULL_SIGNAL.toMillis();
  }
}
