package schoolgate.uplink;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import schoolgate.cards.CardEventApplier;
import schoolgate.config.GatewayConfig;
import schoolgate.passes.PassRepository;

/**
 * The MQTT client toward the central broker: card events in (committed, then applied,
 * then acknowledged), pass events out from the durable outbox, retained status.
 * Deployed only when {@code uplink.host} is set.
 */
public final class Uplink extends VerticleBase {

  private final GatewayConfig config;
  private final CardEventApplier applier;
  private final PassRepository passes;
  private final UplinkStatus status;

  public Uplink(GatewayConfig config, CardEventApplier applier, PassRepository passes, UplinkStatus status) {
    this.config = config;
    this.applier = applier;
    this.passes = passes;
    this.status = status;
  }

  @Override
  public Future<?> start() {
    status.state(UplinkStatus.State.CONNECTING);
    return Future.succeededFuture();
  }
}
