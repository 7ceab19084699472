package schoolgate.support;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waiting for something that happens eventually (no timing assertions: only a generous bound). */
public final class Await {

  private Await() {
  }

  public static void until(String what, long seconds, BooleanSupplier condition) {
    until(() -> what, seconds, condition);
  }

  public static void until(Supplier<String> what, long seconds, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what.get());
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
