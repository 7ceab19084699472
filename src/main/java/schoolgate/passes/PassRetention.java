package schoolgate.passes;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.OffsetDateTime;

/**
 * Keeps the local pass log (who went in or out, when) no longer than {@code retention.days}:
 * at start and then every hour, deletes older passes in bounded batches.
 *
 * <p>A pass the centre has not acknowledged yet is kept past that age while an uplink is
 * configured: the centre must still get it (parents' SMS, the centre's own records), and it
 * is deleted by the next run after it is sent. With no uplink configured nobody will ever
 * send it, so age alone decides. See docs/privacy.md.
 */
public final class PassRetention extends VerticleBase {

  static final long INTERVAL_MS = 60 * 60 * 1000;
  static final int BATCH = 5000;

  private static final Logger LOG = LoggerFactory.getLogger(PassRetention.class);

  private final PassRepository passes;
  private final int days;
  private final boolean keepUnsent;
  private final Clock clock;
  private boolean running;

  /**
   * @param keepUnsent true when an uplink is configured: passes not yet acknowledged by the
   *                   centre are kept whatever their age
   */
  public PassRetention(PassRepository passes, int days, boolean keepUnsent, Clock clock) {
    this.passes = passes;
    this.days = days;
    this.keepUnsent = keepUnsent;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    vertx.setPeriodic(0, INTERVAL_MS, id -> runSafely());
    return Future.succeededFuture();
  }

  private void runSafely() {
    if (running) {
      return;
    }
    running = true;
    runOnce()
        .onFailure(e -> LOG.warn("pass retention run failed, next try in an hour: {}", e.toString()))
        .onComplete(ar -> running = false);
  }

  /** One run: deletes what is past retention; the future tells how many passes it deleted. */
  public Future<Integer> runOnce() {
    OffsetDateTime cutoff = OffsetDateTime.now(clock).minusDays(days);
    return deleteFrom(cutoff, 0).compose(deleted -> {
      if (deleted > 0) {
        LOG.info("retention: deleted {} passes older than {} days", deleted, days);
      }
      if (!keepUnsent) {
        return Future.succeededFuture(deleted);
      }
      return passes.unsentBefore(cutoff).map(kept -> {
        if (kept > 0) {
          LOG.warn("retention: keeping {} passes older than {} days until the centre has them", kept, days);
        }
        return deleted;
      });
    });
  }

  private Future<Integer> deleteFrom(OffsetDateTime cutoff, int sofar) {
    return passes.prune(cutoff, !keepUnsent, BATCH).compose(n -> n < BATCH
        ? Future.succeededFuture(sofar + n)
        : deleteFrom(cutoff, sofar + n));
  }
}
