package schoolgate.passes;

import java.security.SecureRandom;
import java.util.UUID;

/**
 * UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids sort
 * by creation time. Within one millisecond a counter in the random field keeps them rising.
 */
public final class Uuid7 {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static long lastMillis;
  private static long counter;

  private Uuid7() {
  }

  public static synchronized UUID next(long epochMillis) {
    if (epochMillis <= lastMillis) {
      epochMillis = lastMillis;
      counter++;
    } else {
      lastMillis = epochMillis;
      counter = RANDOM.nextInt(1 << 10);
    }
    // 12 bits of rand_a carry the counter; on overflow, borrow the next millisecond.
    if (counter > 0xFFF) {
      lastMillis = ++epochMillis;
      counter = 0;
    }
    long msb = (epochMillis << 16) | 0x7000L | counter;
    long lsb = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb);
  }
}
