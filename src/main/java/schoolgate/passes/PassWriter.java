package schoolgate.passes;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Commits pass events in groups: while one INSERT is in flight, new passes queue up and go
 * together in the next, so a morning rush costs a few statements a second, not one per tap.
 * The future of {@link #record} completes when that pass is committed: only then may a
 * reader's QoS 1 tap be acknowledged.
 *
 * <p>If PostgreSQL is unreachable the queue is kept and retried with back-off; above
 * {@code maxQueued} new passes are refused (the tap stays un-acknowledged, so the reader
 * keeps it and retransmits). Use from one Vert.x context.
 */
public final class PassWriter {

  /** Event-bus address told (no body) after each commit: the outbox wakes up on it. */
  public static final String COMMITTED = "passes.committed";

  private static final Logger LOG = LoggerFactory.getLogger(PassWriter.class);
  private static final int MAX_BATCH = 2000;

  private record Pending(PassEvent pass, Promise<Void> done) {
  }

  private final Vertx vertx;
  private final PassRepository repository;
  private final int maxQueued;
  private final PendingPasses pending;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private boolean flushing;
  private long retryDelayMs;

  public PassWriter(Vertx vertx, PassRepository repository, int maxQueued, PendingPasses pending) {
    this.vertx = vertx;
    this.repository = repository;
    this.maxQueued = maxQueued;
    this.pending = pending;
  }

  public Future<Void> record(PassEvent pass) {
    if (queue.size() >= maxQueued) {
      if (!pending.overflowing()) {
        LOG.error("pass buffer full: {} passes wait for the database; taps are still decided and"
            + " answered but not acknowledged, so readers keep them and send them again", queue.size());
      }
      pending.refusedOne();
      return Future.failedFuture(new IllegalStateException(
          "pass buffer full (" + maxQueued + " waiting for the database)"));
    }
    Promise<Void> done = Promise.promise();
    queue.add(new Pending(pass, done));
    pending.added(1);
    if (!flushing) {
      flush();
    }
    return done.future();
  }

  /** Passes waiting to be committed. */
  public int queued() {
    return queue.size();
  }

  private void flush() {
    if (queue.isEmpty()) {
      flushing = false;
      return;
    }
    flushing = true;
    List<Pending> batch = new ArrayList<>(Math.min(queue.size(), MAX_BATCH));
    while (!queue.isEmpty() && batch.size() < MAX_BATCH) {
      batch.add(queue.poll());
    }
    List<PassEvent> passes = new ArrayList<>(batch.size());
    batch.forEach(p -> passes.add(p.pass()));
    repository.insert(passes).onComplete(ar -> {
      if (ar.succeeded()) {
        retryDelayMs = 0;
        pending.committed(batch.size());
        batch.forEach(p -> p.done().complete());
        vertx.eventBus().publish(COMMITTED, null);
        flush();
      } else {
        // Put the batch back in front, in order, and try again later.
        for (int i = batch.size() - 1; i >= 0; i--) {
          queue.addFirst(batch.get(i));
        }
        retryDelayMs = Math.min(5000, Math.max(200, retryDelayMs * 2));
        LOG.error("cannot commit {} pass events ({}); retrying in {} ms", queue.size(),
            ar.cause().toString(), retryDelayMs);
        vertx.setTimer(retryDelayMs, t -> flush());
      }
    });
  }
}
