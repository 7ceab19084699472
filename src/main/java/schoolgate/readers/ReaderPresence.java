package schoolgate.readers;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which readers are connected (embedded mode) or have been heard from (broker mode), for
 * the guard's screen and /health. Shared between verticles; thread-safe.
 */
public final class ReaderPresence {

  /** Event-bus address published to on every change: {@code {"reader": "r1", "online": true}}. */
  public static final String CHANGED = "readers.presence";

  private record State(boolean online, Instant since, Instant lastTap) {
  }

  private final Map<String, State> states = new ConcurrentHashMap<>();
  private final Map<String, Integer> connections = new ConcurrentHashMap<>();
  private volatile boolean listening;

  /** Returns true if this changed the reader from offline to online. */
  boolean connected(String readerId) {
    int n = connections.merge(readerId, 1, Integer::sum);
    if (n == 1) {
      states.put(readerId, new State(true, Instant.now(), lastTap(readerId)));
      return true;
    }
    return false;
  }

  /** Returns true if this was the reader's last connection. */
  boolean disconnected(String readerId) {
    Integer n = connections.computeIfPresent(readerId, (k, v) -> v > 1 ? v - 1 : null);
    if (n == null) {
      states.put(readerId, new State(false, Instant.now(), lastTap(readerId)));
      return true;
    }
    return false;
  }

  void tapped(String readerId) {
    states.compute(readerId, (k, s) -> s == null ? new State(true, Instant.now(), Instant.now())
        : new State(s.online(), s.since(), Instant.now()));
  }

  private Instant lastTap(String readerId) {
    State s = states.get(readerId);
    return s == null ? null : s.lastTap();
  }

  void listening(boolean on) {
    listening = on;
  }

  /** Whether the reader listener (or the broker subscription) is up. */
  public boolean listening() {
    return listening;
  }

  public JsonArray snapshot(Iterable<String> known) {
    Map<String, JsonObject> out = new TreeMap<>();
    known.forEach(id -> out.put(id, new JsonObject().put("reader", id).put("online", false)));
    states.forEach((id, s) -> out.put(id, new JsonObject().put("reader", id).put("online", s.online())
        .put("since", s.since().toString())
        .put("lastTap", s.lastTap() == null ? null : s.lastTap().toString())));
    return new JsonArray(new java.util.ArrayList<>(out.values()));
  }
}
