package schoolgate.monitor;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Slows down password guessing at the guard login, per login name and per client address.
 * An attempt is counted as failed <em>before</em> the password is checked and forgiven only
 * if it was right, so a burst of parallel guesses cannot slip past the count while the
 * hashes are being verified. From the {@code limit}-th failure on a key is locked for
 * {@code baseMs}, doubling with every further failure up to {@code maxMs}. A key with no
 * failure for {@code forgetMs} starts afresh. Pure logic: the caller supplies the time.
 * Not thread-safe: use from one Vert.x context.
 */
public final class LoginThrottle {

  /** The outcome of {@link #begin}: either go ahead (and report the result), or wait. */
  public record Attempt(String login, String address, long retryAfterMs) {
    public boolean allowed() {
      return retryAfterMs == 0;
    }
  }

  private static final class Entry {
    int failures;
    long lastFailureMs;
    long lockedUntilMs;
  }

  private static final int MAX_ENTRIES = 10_000;

  private final int loginLimit;
  private final int addressLimit;
  private final long baseMs;
  private final long maxMs;
  private final long forgetMs;
  private final Map<String, Entry> entries = new HashMap<>();

  public LoginThrottle(int loginLimit, int addressLimit, long baseMs, long maxMs, long forgetMs) {
    this.loginLimit = loginLimit;
    this.addressLimit = addressLimit;
    this.baseMs = baseMs;
    this.maxMs = maxMs;
    this.forgetMs = forgetMs;
  }

  /** The defaults of the guard login: 5 per login, 10 per address, 2 s doubling up to 15 min. */
  public static LoginThrottle standard() {
    return new LoginThrottle(5, 10, 2_000, 15 * 60_000, 15 * 60_000);
  }

  /**
   * Asks to check a password. If neither the login nor the address is locked, the attempt is
   * counted as a failure now and may go ahead; call {@link #succeeded} if it was right.
   */
  public Attempt begin(String login, String address, long nowMs) {
    String loginKey = "l:" + login;
    String addressKey = "a:" + address;
    long wait = Math.max(remaining(loginKey, nowMs), remaining(addressKey, nowMs));
    if (wait > 0) {
      return new Attempt(login, address, wait);
    }
    fail(loginKey, loginLimit, nowMs);
    fail(addressKey, addressLimit, nowMs);
    return new Attempt(login, address, 0);
  }

  /** The password was right: the login starts afresh, the address gets this attempt back. */
  public void succeeded(Attempt attempt) {
    entries.remove("l:" + attempt.login());
    Entry a = entries.get("a:" + attempt.address());
    if (a != null) {
      a.failures = Math.max(0, a.failures - 1);
      if (a.failures < addressLimit) {
        a.lockedUntilMs = 0;
      }
    }
  }

  /** Milliseconds until {@code login} may try again from anywhere (0 = now). */
  public long lockedFor(String login, long nowMs) {
    return remaining("l:" + login, nowMs);
  }

  int size() {
    return entries.size();
  }

  private long remaining(String key, long nowMs) {
    Entry e = entries.get(key);
    if (e == null) {
      return 0;
    }
    if (nowMs - e.lastFailureMs >= forgetMs && nowMs >= e.lockedUntilMs) {
      entries.remove(key);
      return 0;
    }
    return Math.max(0, e.lockedUntilMs - nowMs);
  }

  private void fail(String key, int limit, long nowMs) {
    if (entries.size() >= MAX_ENTRIES) {
      prune(nowMs);
    }
    Entry e = entries.computeIfAbsent(key, k -> new Entry());
    e.failures++;
    e.lastFailureMs = nowMs;
    if (e.failures >= limit) {
      int doublings = Math.min(30, e.failures - limit);
      e.lockedUntilMs = nowMs + Math.min(maxMs, baseMs << doublings);
    }
  }

  /** Keeps the table bounded under a spray of made-up logins: drops what is not locked. */
  private void prune(long nowMs) {
    for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
      Entry e = it.next();
      if (e.lockedUntilMs <= nowMs) {
        it.remove();
      }
    }
  }
}
