package schoolgate.monitor;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import schoolgate.Gateway;
import schoolgate.passes.PendingPasses;

import java.util.concurrent.TimeUnit;

/**
 * GET /health: 200 when the gateway serves its purpose (the reader listener is up, the
 * database answers, and no pass buffer has overflowed in the last minute), else 503; the
 * body says which part is down. The uplink is reported but
 * does not count: the gateway decides and records passes without the centre.
 */
final class HealthCheck {

  private static final long DB_TIMEOUT_MS = 2000;

  private final Gateway gateway;

  HealthCheck(Gateway gateway) {
    this.gateway = gateway;
  }

  void handle(RoutingContext ctx) {
    boolean listening = gateway.presence().listening();
    gateway.database().ping().timeout(DB_TIMEOUT_MS, TimeUnit.MILLISECONDS).onComplete(ar -> {
      boolean db = ar.succeeded();
      JsonObject database = new JsonObject().put("up", db);
      if (!db) {
        database.put("error", ar.cause().getClass().getSimpleName() + ": " + ar.cause().getMessage());
      }
      PendingPasses pending = gateway.pendingPasses();
      boolean passesOk = !pending.overflowing();
      boolean up = listening && db && passesOk;
      JsonObject body = new JsonObject()
          .put("status", up ? "up" : "down")
          .put("readers", new JsonObject().put("up", listening)
              .put("mode", gateway.config().readers().mode()))
          .put("database", database)
          .put("passes", new JsonObject().put("up", passesOk).put("waiting", pending.waiting())
              .put("refused", pending.refused()))
          .put("uplink", gateway.uplinkStatus().toJson())
          .put("cardSeq", gateway.table().appliedSeq());
      Monitor.json(ctx, up ? 200 : 503, body);
    });
  }
}
