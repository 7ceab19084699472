package schoolgate.monitor;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import schoolgate.Gateway;

/** The guard's monitor, /health and /metrics on {@code http.port}. */
public final class Monitor extends VerticleBase {

  private final Gateway gateway;

  public Monitor(Gateway gateway) {
    this.gateway = gateway;
  }

  @Override
  public Future<?> start() {
    return Future.succeededFuture();
  }
}
