package schoolgate.monitor;

import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import schoolgate.cards.Reason;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The guard screens connected over WebSocket, and the last passes a screen gets when it
 * (re)connects. Bounded both ways: at most {@link #RECENT} passes are kept, and a screen
 * that cannot keep up (its write queue is full) is closed, to reconnect and start from the
 * recent list. Messages, all JSON text frames:
 * <ul>
 *   <li>{@code {"type":"hello","guard":..,"recent":[oldest..newest],"status":{..}}}</li>
 *   <li>{@code {"type":"pass","pass":{..}}} for every new pass (tap or guard action)</li>
 *   <li>{@code {"type":"status",..}} on every change and every couple of seconds (heartbeat)</li>
 * </ul>
 * Use from the monitor's context only.
 */
final class LiveFeed {

  /** Passes kept for a screen that connects; the page shows no more than this either. */
  static final int RECENT = 200;

  private static final Logger LOG = LoggerFactory.getLogger(LiveFeed.class);

  private record Client(ServerWebSocket socket, String sessionId) {
  }

  private final ArrayDeque<JsonObject> recent = new ArrayDeque<>(RECENT);
  private final Map<ServerWebSocket, Client> clients = new HashMap<>();

  /** A new pass: remembered and sent to every screen. */
  void pass(JsonObject pass) {
    JsonObject shown = forScreen(pass);
    if (recent.size() == RECENT) {
      recent.removeFirst();
    }
    recent.addLast(shown);
    broadcast(new JsonObject().put("type", "pass").put("pass", shown).encode());
  }

  /** The current status (uplink, card table, outbox, readers): sent to every screen. */
  void status(JsonObject current) {
    broadcast(current.copy().put("type", "status").encode());
  }

  /** A screen connects: it gets the recent passes and the {@code status} as of now. */
  void join(ServerWebSocket socket, String sessionId, String guard, JsonObject status) {
    Client client = new Client(socket, sessionId);
    clients.put(socket, client);
    socket.closeHandler(v -> clients.remove(socket));
    socket.exceptionHandler(e -> LOG.debug("guard screen connection error: {}", e.toString()));
    // The screen only listens; anything it sends is ignored.
    socket.handler(b -> { });
    JsonObject hello = new JsonObject()
        .put("type", "hello")
        .put("guard", guard)
        .put("recent", new JsonArray(new ArrayList<>(recent)))
        .put("status", status);
    socket.writeTextMessage(hello.encode());
  }

  /** Closes the screens of a session (the guard logged out). */
  void closeSession(String sessionId) {
    List<Client> of = new ArrayList<>();
    clients.values().forEach(c -> {
      if (c.sessionId().equals(sessionId)) {
        of.add(c);
      }
    });
    of.forEach(c -> {
      clients.remove(c.socket());
      c.socket().close((short) 4001, "logged out");
    });
  }

  void closeAll() {
    new ArrayList<>(clients.keySet()).forEach(s -> s.close((short) 1001, "gateway stopping"));
    clients.clear();
  }

  int clients() {
    return clients.size();
  }

  int recentSize() {
    return recent.size();
  }

  private void broadcast(String text) {
    if (clients.isEmpty()) {
      return;
    }
    for (Client c : new ArrayList<>(clients.values())) {
      ServerWebSocket s = c.socket();
      if (s.writeQueueFull()) {
        // A stuck screen must not hold the others back or grow our memory: it reconnects.
        clients.remove(s);
        s.close((short) 1013, "too slow");
        continue;
      }
      s.writeTextMessage(text);
    }
  }

  /** What a guard's screen gets of a pass: a superseded card never shows a photo. */
  static JsonObject forScreen(JsonObject pass) {
    JsonObject shown = pass.copy();
    if (Reason.SUPERSEDED.wire().equals(shown.getString("reason"))) {
      shown.put("photo", false);
    }
    return shown;
  }
}
