package schoolgate.net;

import io.vertx.core.Future;

import java.net.BindException;

/**
 * Says which listener could not open its port, and what the operator can do about it: the
 * bare "Address already in use" names neither the port nor the key that sets it.
 */
public final class ListenFailure {

  private ListenFailure() {
  }

  /**
   * A failed future whose message names {@code what}, the address and the configuration
   * keys; {@code hint} is added when the port is taken by another program.
   */
  public static <T> Future<T> explain(Throwable failure, String what, String host, int port, String keys, String hint) {
    String reason = failure.getMessage() != null ? failure.getMessage() : failure.toString();
    String message = what + " cannot listen on " + host + ":" + port + " (" + keys + "): " + reason;
    if (failure instanceof BindException && reason.contains("in use")) {
      message += "; another program has that port" + (hint.isEmpty() ? "" : " (" + hint + ")");
    }
    return Future.failedFuture(new IllegalStateException(message));
  }
}
