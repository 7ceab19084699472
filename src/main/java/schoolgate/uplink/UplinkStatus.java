package schoolgate.uplink;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * The uplink's state as the guard's screen, /health and /metrics see it. Written by the
 * uplink verticle, read by others; thread-safe.
 */
public final class UplinkStatus {

  /** Event-bus address published to whenever the state or backlog changes (body: {@link #toJson}). */
  public static final String CHANGED = "uplink.status";

  public enum State { DISABLED, CONNECTING, ONLINE, OFFLINE }

  private volatile State state = State.DISABLED;
  private volatile long backlog;
  private volatile Instant since = Instant.now();

  public State state() {
    return state;
  }

  public long backlog() {
    return backlog;
  }

  public Instant since() {
    return since;
  }

  public void state(State next) {
    if (next != state) {
      state = next;
      since = Instant.now();
    }
  }

  public void backlog(long value) {
    backlog = value;
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("state", state.name().toLowerCase(java.util.Locale.ROOT))
        .put("since", since.toString())
        .put("backlog", backlog);
  }
}
